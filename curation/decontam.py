"""Decontamination: new prompts that overlap with a benchmark or a named dataset, with evidence.

A new subset must not repeat prompts of existing benchmarks (its scores would then measure
memorisation), and a training set must not contain benchmark prompts. This module checks
prompts against reference prompts by word n-gram overlap (`ngram_index.py`) and reports every
match with the overlapping text and the reference's source and id.

What is compared, and the defaults:

- Normalisation: NFKC, case-folded, punctuation and symbols replaced by spaces, split on
  whitespace (`ngram_index.normalize`). lm-evaluation-harness's Janitor (lm_eval/
  decontamination/janitor.py) lower-cases and deletes `string.punctuation` before taking word
  n-grams; replacing instead of deleting also makes spacing around punctuation irrelevant
  ("f(x)=3x^2-5" and "f(x) = 3x^2 - 5" give the same words), for all of Unicode.
- n = 13 words: lm-evaluation-harness's default (`Janitor(ngram_n=13)`, the GPT-3 paper's
  contamination check, and the 13-gram files its decontamination reads).
- Score of a (prompt, reference) pair: the share of words that lie inside shared n-grams,
  taken on the side where it is larger. This is the match score of open-instruct's
  decontamination tool (decontamination/search.py, `ngram_match`: the share of the test
  instance's tokens covered by n-grams it shares with one training document), the tool Tulu 3
  used and RewardBench 2 reused; we take both sides because a prompt may be the short text (a
  benchmark question pasted into a long training prompt) or the long one.
- threshold = 0.5: a pair matches when its score is above it (`score > threshold`, as
  `--match_threshold` in search.py). open-instruct sets no default; 0.5 means that at least
  half of one text is a copy of the other, which a shared boilerplate sentence
  ("Below is an instruction that describes a task...") never reaches in a prompt of normal
  length. `threshold=0` gives lm-evaluation-harness's rule: any one shared 13-gram matches.
  The Tulu 3 report describes 8-gram matching: `n=8` reproduces that.
- Texts shorter than n words match only a text with exactly the same words.

References come from an `rbkit build` folder (every subset in it: `build_folder_prompts`), a
local jsonl/json/csv/parquet file with a named field (`file_prompts`) or a Hub dataset id
(`hub_prompts`, fails with one clear line when the Hub cannot be reached). `DecontamStep` is the
pipeline step for spec builds: matching rows are dropped, or kept with a
`Verification("decontam:ngram", "pair", "overlap", ...)` flag in their provenance.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rbkit.curation.errors import RbkitError, SourceRowError
from rbkit.curation.ngram_index import NgramIndex, Overlap, overlap
from rbkit.curation.pipeline import BuildContext, StepResult, drop
from rbkit.curation.rows import TrioRow, Verification, canonical_json
from rbkit.curation.steps_registry import register_step

DEFAULT_N = 13
DEFAULT_THRESHOLD = 0.5
MAX_CANDIDATES = 32  # references compared word by word per prompt (most shared n-grams first)
QUERY_BATCH = 4_000  # arrays of a batch stay in cache: faster than one big batch
VERIFIER = "decontam:ngram"
STEP_NAME = "decontam"
NORMALIZATION = "NFKC, casefold, every character that is not a letter, digit or whitespace becomes a space, split on whitespace"
SCORE_RULE = "max over the two texts of the share of words inside shared n-grams; a match when score > threshold"


class DecontamSourceError(RbkitError):
    """A reference or prompt source that cannot be read: names the file, row and field, or the Hub id."""


@dataclass(frozen=True)
class Prompt:
    """A prompt to check or to check against: where it comes from, its id there, its text."""

    source: str  # a subset name, "file:<path>" or "hub:<id>"
    id: str
    text: str


@dataclass(frozen=True)
class Settings:
    n: int = DEFAULT_N
    threshold: float = DEFAULT_THRESHOLD
    max_candidates: int = MAX_CANDIDATES

    def __post_init__(self) -> None:
        if self.n < 1:
            raise DecontamSourceError(f"--n must be at least 1, got {self.n}")
        if not 0.0 <= self.threshold < 1.0:
            raise DecontamSourceError(f"--threshold must be in [0, 1), got {self.threshold}")

    def to_record(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "threshold": self.threshold,
            "max_candidates": self.max_candidates,
            "normalization": NORMALIZATION,
            "score": SCORE_RULE,
        }


@dataclass(frozen=True)
class Match:
    """One prompt overlapping one reference, with the evidence."""

    prompt: int  # index into the checked prompts
    reference: Prompt
    overlap: Overlap

    def to_record(self, prompt_id: str) -> dict[str, Any]:
        o = self.overlap
        return {
            "prompt_id": prompt_id,
            "reference_source": self.reference.source,
            "reference_id": self.reference.id,
            "score": round(o.score, 4),
            "prompt_coverage": round(o.query_coverage, 4),
            "reference_coverage": round(o.reference_coverage, 4),
            "shared_ngrams": o.shared_ngrams,
            "ngram": o.ngram,
            "span": o.span,
        }


# --- reading prompts ------------------------------------------------------------------------------


def prompt_text(value: Any) -> str | None:
    """A prompt as text: a string, or the user turns of a {role, content} conversation."""
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        turns = [m.get("content") for m in value if isinstance(m, Mapping) and m.get("role", "user") == "user"]
        if turns and all(isinstance(t, str) for t in turns):
            return "\n".join(turns)
    return None


def source_rows(path: Path, label: str) -> Iterable[tuple[int, dict[str, Any] | SourceRowError]]:
    from rbkit.curation.readers import csv_rows, json_array_rows, jsonl_rows, parquet_rows

    suffix = path.suffix.lower()
    if suffix == ".gz":
        suffix = Path(path.stem).suffix.lower()
    readers = {".jsonl": jsonl_rows, ".json": json_array_rows, ".csv": csv_rows, ".parquet": parquet_rows}
    if suffix not in readers:
        raise DecontamSourceError(f"{path}: unknown file type {suffix!r}; expected .jsonl, .json, .csv or .parquet")
    return readers[suffix](path, label)


def file_prompts(path: Path, field: str = "prompt", *, id_field: str | None = None, source: str | None = None) -> list[Prompt]:
    """Every row's `field` of a local jsonl/json/csv/parquet file; ids from `id_field` or the row number."""
    path = Path(path)
    if not path.is_file():
        raise DecontamSourceError(f"{path}: no such file")
    label = str(path)
    out: list[Prompt] = []
    try:
        for row, rec in source_rows(path, label):
            if isinstance(rec, SourceRowError):
                raise rec
            if field not in rec:
                raise SourceRowError(label, row, field, f"no such field; the row has {', '.join(sorted(rec)) or 'no fields'}")
            text = prompt_text(rec[field])
            if text is None:
                raise SourceRowError(label, row, field, f"expected a string or a list of {{role, content}} messages, got {type(rec[field]).__name__}")
            if id_field is not None:
                if rec.get(id_field) is None:
                    raise SourceRowError(label, row, id_field, "missing id")
                pid = str(rec[id_field])
            else:
                pid = str(row)
            out.append(Prompt(source or f"file:{path.name}", pid, text))
    except SourceRowError as err:
        raise DecontamSourceError(str(err)) from err
    return out


def build_folder_prompts(path: Path, *, exclude: Iterable[str] = ()) -> tuple[list[Prompt], list[str]]:
    """The prompts of every subset in an `rbkit build` folder, and the subset names read."""
    import pyarrow.parquet as pq

    path = Path(path)
    manifest_path = path / "build.json"
    if not manifest_path.is_file():
        raise DecontamSourceError(f"{path}: not a build folder (no build.json); run `rbkit build --out {path}` first")
    try:
        subsets = sorted(json.loads(manifest_path.read_text(encoding="utf-8")).get("subsets") or {})
    except json.JSONDecodeError as exc:
        raise DecontamSourceError(f"{manifest_path}: invalid JSON ({exc})") from exc
    skip = set(exclude)
    out: list[Prompt] = []
    read: list[str] = []
    for name in subsets:
        if name in skip:
            continue
        file = path / "data" / f"{name}.parquet"
        if not file.is_file():
            raise DecontamSourceError(f"{file}: listed in build.json but missing")
        table = pq.read_table(file, columns=["prompt", "id"])
        for row, (prompt, rid) in enumerate(zip(table.column("prompt").to_pylist(), table.column("id").to_pylist(), strict=True), 1):
            text = prompt_text(prompt)
            if text is None:
                raise DecontamSourceError(f"{file}:{row} prompt: not a string or a conversation")
            out.append(Prompt(name, str(rid), text))
        read.append(name)
    return out, read


def parse_hub_id(spec: str) -> tuple[str, str | None, str]:
    """"org/name[:config][@split]" -> (repo, config, split); the split defaults to "train"."""
    repo, _, split = spec.partition("@")
    repo, _, config = repo.partition(":")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise DecontamSourceError(f"Hub dataset {spec!r}: expected org/name[:config][@split]")
    return repo, config or None, split or "train"


def hub_prompts(spec: str, field: str = "prompt") -> list[Prompt]:
    """Prompts of a Hub dataset through `datasets.load_dataset`; one clear error when unreachable."""
    repo, config, split = parse_hub_id(spec)
    _probe_hub(spec, repo, field)
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is a dependency
        raise DecontamSourceError(f"Hub dataset {spec}: the `datasets` package is not installed") from exc
    try:
        ds = datasets.load_dataset(repo, config, split=split)
    except Exception as exc:  # the Hub raises many types: connection, offline mode, not found, gated
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DecontamSourceError(
            f"Hub dataset {spec}: cannot load it ({type(exc).__name__}: {first}). Is the Hub reachable "
            f"(HF_ENDPOINT, HF_HUB_OFFLINE)? Otherwise download it and pass --against-file FILE --field {field}"
        ) from exc
    if field not in ds.column_names:
        raise DecontamSourceError(f"Hub dataset {spec} field {field!r}: no such column; columns: {', '.join(ds.column_names)}")
    out = []
    for row, value in enumerate(ds[field], start=1):
        text = prompt_text(value)
        if text is None:
            raise DecontamSourceError(f"Hub dataset {spec} row {row} field {field!r}: not a string or a conversation")
        out.append(Prompt(f"hub:{spec}", str(row), text))
    return out


def _probe_hub(spec: str, repo: str, field: str, timeout_s: float = 10.0) -> None:
    """One request, no retries: an unreachable Hub fails in seconds, not after minutes of backoff."""
    import httpx
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return  # offline mode: datasets reads its cache or says it cannot
    url = f"{constants.ENDPOINT.rstrip('/')}/api/datasets/{repo}"
    hint = f"download it and pass --against-file FILE --field {field}"
    try:
        reply = httpx.get(url, timeout=timeout_s, headers={"user-agent": "rbkit-decontam"})
    except httpx.HTTPError as exc:
        raise DecontamSourceError(f"Hub dataset {spec}: the Hub is not reachable at {constants.ENDPOINT} ({type(exc).__name__}: {exc}); {hint}") from exc
    if reply.status_code in (401, 403, 404):
        raise DecontamSourceError(f"Hub dataset {spec}: HTTP {reply.status_code} from {url} (no such dataset, or gated/private: log in with `hf auth login`); or {hint}")


# --- matching ---------------------------------------------------------------------------------------


def find_matches(
    prompts: Sequence[str],
    references: Sequence[Prompt],
    settings: Settings = Settings(),
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Match], Counter[str]]:
    """Matches (prompt order, best score first) and, per reference source, pairs below the threshold."""
    index = NgramIndex([r.text for r in references], settings.n)
    matches: list[Match] = []
    below: Counter[str] = Counter()
    for lo in range(0, len(prompts), QUERY_BATCH):
        batch = prompts[lo : lo + QUERY_BATCH]
        for q, query, refs in index.candidates(batch, limit=settings.max_candidates):
            found = []
            for r in refs:
                o = overlap(query, index.doc(r))
                if o is None:
                    continue
                if o.score > settings.threshold:
                    found.append(Match(lo + q, references[r], o))
                else:
                    below[references[r].source] += 1
            found.sort(key=lambda m: (-m.overlap.score, m.reference.source, m.reference.id))
            matches.extend(found)
        if progress:
            progress(min(lo + QUERY_BATCH, len(prompts)), len(prompts))
    return matches, below


def report(
    prompt_ids: Sequence[str],
    references: Sequence[Prompt],
    matches: Sequence[Match],
    below: Mapping[str, int],
    settings: Settings,
) -> dict[str, Any]:
    """Matches per reference source (subset, file or Hub id) with evidence, and the totals."""
    per: dict[str, dict[str, Any]] = {}
    for source, count in sorted(Counter(r.source for r in references).items()):
        per[source] = {"references": count, "matched_prompts": 0, "below_threshold": below.get(source, 0), "matches": []}
    seen: dict[str, set[int]] = {}
    for m in matches:
        entry = per[m.reference.source]
        entry["matches"].append(m.to_record(prompt_ids[m.prompt]))
        seen.setdefault(m.reference.source, set()).add(m.prompt)
    for source, prompts in seen.items():
        per[source]["matched_prompts"] = len(prompts)
    contaminated = len({m.prompt for m in matches})
    return {
        "settings": settings.to_record(),
        "prompts": len(prompt_ids),
        "contaminated_prompts": contaminated,
        "references": len(references),
        "sources": per,
    }


def matches_by_prompt(matches: Iterable[Match]) -> dict[int, list[Match]]:
    out: dict[int, list[Match]] = {}
    for m in matches:
        out.setdefault(m.prompt, []).append(m)
    return out


# --- the pipeline step ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecontamStep:
    """Drop (or flag) rows whose prompt overlaps a reference prompt; see the module docstring.

    `against_build`: an `rbkit build` folder whose subsets are the references (the subset being
    built is left out, so a rebuild into the same folder does not match itself).
    `against_files`: (path, field) pairs; `against_hub`: (Hub id, field) pairs.
    `on_match`: "drop" sends matching rows to dropped.jsonl with the evidence; "flag" keeps them
    with a `decontam:ngram` verification ("overlap") whose detail holds the evidence.
    """

    against_build: str | None = None
    against_files: tuple[tuple[str, str], ...] = ()
    against_hub: tuple[tuple[str, str], ...] = ()
    n: int = DEFAULT_N
    threshold: float = DEFAULT_THRESHOLD
    on_match: Literal["drop", "flag"] = "drop"
    name: str = STEP_NAME
    _settings: Settings = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.on_match not in ("drop", "flag"):
            raise DecontamSourceError(f"decontam on_match must be 'drop' or 'flag', got {self.on_match!r}")
        if not (self.against_build or self.against_files or self.against_hub):
            raise DecontamSourceError("decontam needs something to check against: against_build, against_files or against_hub")
        object.__setattr__(self, "_settings", Settings(self.n, self.threshold))

    def references(self, subset: str) -> list[Prompt]:
        refs: list[Prompt] = []
        if self.against_build:
            refs += build_folder_prompts(Path(self.against_build), exclude=(subset,))[0]
        for path, fld in self.against_files:
            refs += file_prompts(Path(path), fld)
        for hub_id, fld in self.against_hub:
            refs += hub_prompts(hub_id, fld)
        return refs

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        refs = self.references(ctx.subset)
        texts = [prompt_text(r.prompt) or "" for r in rows]
        matches, below = find_matches(texts, refs, self._settings)
        by_prompt = matches_by_prompt(matches)
        kept, dropped = [], []
        for i, row in enumerate(rows):
            found = by_prompt.get(i)
            if not found:
                kept.append(row.with_filter(self.name))
                continue
            evidence = {"settings": {"n": self.n, "threshold": self.threshold},
                        "matches": [m.to_record(str(row.id)) for m in found[:5]], "total_matches": len(found)}
            best = found[0]
            reason = (f"prompt overlaps {best.reference.source} id {best.reference.id} "
                      f"({self.n}-gram score {best.overlap.score:.2f} > {self.threshold})")
            if self.on_match == "drop":
                dropped.append(drop(row, self.name, reason, evidence))
            else:
                kept.append(row.with_verification(Verification(VERIFIER, "pair", "overlap", canonical_json(evidence))))
        full = report([str(r.id) for r in rows], refs, matches, below, self._settings)
        step_report = {
            "policy": self.on_match,
            "checked": len(rows),
            "references": len(refs),
            "contaminated": full["contaminated_prompts"],
            "by_source": {s: v["matched_prompts"] for s, v in full["sources"].items() if v["matched_prompts"]},
            "settings": {"n": self.n, "threshold": self.threshold},
        }
        return StepResult(kept, dropped, step_report)


def _pairs(value: Any, what: str, default_field: str = "prompt") -> tuple[tuple[str, str], ...]:
    """Spec values for against_files/against_hub: "path", {path|id, field} or [path, field]."""
    if value is None:
        return ()
    if isinstance(value, (str, Mapping)):
        value = [value]
    out = []
    for item in value:
        if isinstance(item, str):
            out.append((item, default_field))
        elif isinstance(item, Mapping):
            name = item.get("path", item.get("id"))
            if not isinstance(name, str):
                raise ValueError(f"{what}: each entry needs 'path' (or 'id' for the Hub), got {dict(item)}")
            out.append((name, str(item.get("field", default_field))))
        elif isinstance(item, Sequence) and len(item) == 2:
            out.append((str(item[0]), str(item[1])))
        else:
            raise ValueError(f"{what}: expected a path, {{path, field}} or [path, field], got {item!r}")
    return tuple(out)


@register_step("decontam", path_params=("against_build", "against_files"))
def decontam_step(
    against_build: str | None = None,
    against_files: Any = None,
    against_hub: Any = None,
    n: int = DEFAULT_N,
    threshold: float = DEFAULT_THRESHOLD,
    on_match: str = "drop",
) -> DecontamStep:
    """Drop (or flag) rows whose prompt shares word n-grams with a benchmark or named dataset."""
    try:
        return _decontam_step(against_build, against_files, against_hub, n, threshold, on_match)
    except DecontamSourceError as exc:  # a parameter problem: the spec loader names the line
        raise ValueError(str(exc)) from None


def _decontam_step(against_build: Any, against_files: Any, against_hub: Any, n: Any, threshold: Any, on_match: str) -> DecontamStep:
    return DecontamStep(
        against_build=against_build,
        against_files=_pairs(against_files, "against_files"),
        against_hub=_pairs(against_hub, "against_hub"),
        n=int(n),
        threshold=float(threshold),
        on_match=on_match,  # type: ignore[arg-type]
    )
