"""The published RewardBench splits, loaded through the Hub client at a pinned revision.

    allenai/reward-bench[:filtered|raw][@REV]   v1 core set (pairs)
    allenai/pref-test-sets[:SPLIT][@REV]        prior sets (prompt is a list of messages)
    allenai/reward-bench-2[:test][@REV]         v2 (best-of-N lists, Ties)

Each row is validated into a `Pair` exactly like rows from files. The revision used is
always a commit sha and lands in results.json: the table pin, `--dataset-revision`, or
(when neither is set) the Hub's current head, resolved once and recorded so the run can be
repeated with `--dataset-revision`. The `load_dataset` and `resolve_revision` hooks exist
so tests can serve local fixtures with the same features; production uses `datasets` and
`huggingface_hub`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rbkit.eval.data import (
    Dataset,
    Pair,
    check_ties_ids,
    check_unique,
    pair_from_record,
    select_subsets,
)
from rbkit.eval.errors import DatasetError

SHA_RE = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class PublishedSet:
    repo: str
    default_split: str | None  # None: every split (each split is a subset)
    splits: tuple[str, ...]
    revision: str | None  # pinned commit sha; None until someone with Hub access pins it
    split_is_subset: bool = False
    dropped_splits: tuple[str, ...] = ()


# Pins: a commit sha per repository. These could not be looked up from the offline build
# machine; until they are filled in, a run resolves the current head and records it.
PUBLISHED: dict[str, PublishedSet] = {
    "allenai/reward-bench": PublishedSet("allenai/reward-bench", "filtered", ("filtered", "raw"), None),
    "allenai/pref-test-sets": PublishedSet(
        "allenai/pref-test-sets",
        None,
        ("anthropic_helpful", "anthropic_harmless", "anthropic_hhh", "shp", "summarize", "summarize_prompted",
         "mtbench_human", "mtbench_gpt4", "pku_better", "pku_safer"),
        None,
        split_is_subset=True,
        dropped_splits=("pku_better", "pku_safer"),  # no longer part of the benchmark
    ),
    "allenai/reward-bench-2": PublishedSet("allenai/reward-bench-2", "test", ("test",), None),
}
ALIASES = {"allenai/preference-test-sets": "allenai/pref-test-sets"}

LoadFn = Callable[..., Any]  # datasets.load_dataset-compatible
ResolveFn = Callable[[str], str]  # repo -> head commit sha


@dataclass(frozen=True)
class PublishedRef:
    spec: PublishedSet
    split: str | None
    revision: str | None


def parse(text: str) -> PublishedRef | None:
    """`repo[:split][@revision]` for a known published repo, else None."""
    m = re.fullmatch(r"(?P<repo>[\w.-]+/[\w.-]+)(?::(?P<split>[\w.-]+))?(?:@(?P<rev>[\w.-]+))?", text.strip())
    if not m:
        return None
    repo = ALIASES.get(m["repo"], m["repo"])
    spec = PUBLISHED.get(repo)
    if spec is None:
        return None
    split = m["split"] or spec.default_split
    if split is not None and split not in spec.splits:
        raise DatasetError(f"{repo}: unknown split {split!r}; splits: {', '.join(spec.splits)}")
    return PublishedRef(spec, split, m["rev"])


def hub_head(repo: str) -> str:
    """The current commit of a Hub dataset (network)."""
    from huggingface_hub import HfApi

    try:
        return HfApi().dataset_info(repo).sha
    except Exception as exc:  # offline, gated, renamed...
        raise DatasetError(
            f"{repo}: cannot resolve a revision on the Hub ({type(exc).__name__}: {exc}); "
            "pass --dataset-revision SHA with a cached copy, or score a local file or build folder"
        ) from exc


def _hf_load_dataset(*args: Any, **kwargs: Any) -> Any:
    import datasets

    return datasets.load_dataset(*args, **kwargs)


def load_published(
    ref: PublishedRef,
    subsets: Sequence[str] = (),
    revision: str | None = None,
    *,
    load_dataset: LoadFn = _hf_load_dataset,
    resolve_revision: ResolveFn = hub_head,
) -> Dataset:
    spec = ref.spec
    rev = revision or ref.revision or spec.revision or resolve_revision(spec.repo)
    if not SHA_RE.match(rev):
        raise DatasetError(f"{spec.repo}: revision {rev!r} is not a 40-hex commit sha; pin a commit, not a branch")
    origin = f"{spec.repo}@{rev[:12]}"
    try:
        if ref.split is None:
            loaded = load_dataset(spec.repo, revision=rev)
            splits = {name: loaded[name] for name in loaded if name not in spec.dropped_splits}
        else:
            splits = {ref.split: load_dataset(spec.repo, revision=rev, split=ref.split)}
    except DatasetError:
        raise
    except Exception as exc:
        raise DatasetError(f"{origin}: could not load ({type(exc).__name__}: {exc})") from exc
    pairs: list[Pair] = []
    for split_name, table in splits.items():
        pairs.extend(_pairs(table, f"{origin}:{split_name}", split_name if spec.split_is_subset else None))
    pairs = select_subsets(pairs, subsets, origin)
    if not pairs:
        raise DatasetError(f"{origin}: no rows")
    check_unique(pairs, origin)
    description = {"type": "hub", "repo": spec.repo, "revision": rev, "split": ref.split or "all"}
    return Dataset(pairs, description, substitutes={})  # the published data is the reference itself


def _pairs(table: Any, origin: str, subset: str | None) -> list[Pair]:
    columns = list(getattr(table, "column_names", []) or [])
    needed = ["prompt", "chosen", "rejected"] + ([] if subset else ["subset"])
    missing = [c for c in needed if c not in columns]
    if missing:
        raise DatasetError(f"{origin}: missing column(s) {', '.join(missing)}; found {', '.join(columns)}")
    out = []
    wheres = []
    for i, rec in enumerate(table):
        rec = dict(rec) if isinstance(rec, Mapping) else rec
        wheres.append(f"{origin}:{i}")
        out.append(pair_from_record(rec, wheres[-1], subset=subset, default_id=str(i)))
    check_ties_ids(out, wheres)
    return out
