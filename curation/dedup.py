"""Exact and near-duplicate prompts, within a subset (a pipeline step) and across subsets (a report).

Why: a prompt that appears twice in a subset counts twice in its accuracy, and a prompt shared
by two subsets couples their scores (or leaks a test prompt into a prior set). Exact duplicates
are found by a hash of the normalised text; near duplicates by MinHash with locality-sensitive
banding over character 5-grams, each candidate pair then confirmed by its exact Jaccard
similarity, so the reported numbers are real similarities, not estimates.

Implemented here rather than with a library: it is ~100 lines of numpy (`curation.minhash`),
deterministic (no random state, no salted `hash`), and needs no extra dependency.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rbkit.curation.pipeline import BuildContext, StepResult, drop
from rbkit.curation.rows import DroppedRow, TrioRow

SHINGLE = 5  # characters per shingle: robust to small edits, meaningful on short prompts
NUM_PERM = 128
BANDS = 32  # 32 bands x 4 rows: pairs with Jaccard >= ~0.5 become candidates with high probability
DEFAULT_THRESHOLD = 0.8
# Templated prompts that differ in one named entity ("a recipe for Flæskesteg" / "for Koldskål",
# character Jaccard 0.91) are different test items: besides the character similarity, near
# duplicates may differ by at most one word, or one word in fifty for long prompts.
MAX_WORD_DIFF_SHARE = 0.02
_PUNCT = re.compile(r"[^\w\s]")


def normalize(text: str) -> str:
    """NFKC, case-folded, punctuation removed, whitespace collapsed: formatting-only edits vanish."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCT.sub(" ", text).split())


def exact_key(text: str) -> str:
    return hashlib.sha256(normalize(text).encode()).hexdigest()


def word_difference(a: str, b: str) -> int:
    """How many distinct words one normalised text has that the other lacks (both ways)."""
    return len(set(normalize(a).split()) ^ set(normalize(b).split()))


def allowed_word_difference(a: str, b: str) -> int:
    """One word, or one in fifty for long texts: more than that is a different request."""
    union = set(normalize(a).split()) | set(normalize(b).split())
    return max(1, int(MAX_WORD_DIFF_SHARE * len(union)))


@dataclass(frozen=True)
class Match:
    """Two items (by index in the input) whose prompts are duplicates."""

    a: int
    b: int
    kind: Literal["exact", "near"]
    jaccard: float
    word_diff: int = 0


def find_duplicates(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> list[Match]:
    """All pairs (a < b) that are exact duplicates after normalisation, or near duplicates:
    character 5-gram Jaccard >= threshold and word sets differing by at most one word (one in
    fifty for long texts)."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    keys = [exact_key(t) for t in texts]
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        by_key[k].append(i)
    matches: dict[tuple[int, int], Match] = {}
    for idxs in by_key.values():
        for x in range(len(idxs)):
            for y in range(x + 1, len(idxs)):
                matches[(idxs[x], idxs[y])] = Match(idxs[x], idxs[y], "exact", 1.0)
    # one representative per exact group goes through LSH; the others inherit its near matches
    reps = [idxs[0] for idxs in by_key.values()]
    from rbkit.curation.minhash import jaccard, minhash, shingles  # numpy loads when first needed

    grams = {i: shingles(texts[i]) for i in reps}
    rows = NUM_PERM // BANDS
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for i in reps:
        sig = minhash(grams[i])
        for band in range(BANDS):
            buckets[(band, sig[band * rows : (band + 1) * rows].tobytes())].append(i)
    candidates: set[tuple[int, int]] = set()
    for members in buckets.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                candidates.add((min(members[x], members[y]), max(members[x], members[y])))
    for i, j in sorted(candidates):
        sim = jaccard(grams[i], grams[j])
        if sim < threshold:
            continue
        diff = word_difference(texts[i], texts[j])
        if diff > allowed_word_difference(texts[i], texts[j]):
            continue
        for a in by_key[keys[i]]:
            for b in by_key[keys[j]]:
                pair = (min(a, b), max(a, b))
                matches.setdefault(pair, Match(pair[0], pair[1], "near", round(sim, 4), diff))
    return [matches[k] for k in sorted(matches)]


def prompt_of(row: TrioRow) -> str:
    """The prompt as one string; multi-turn prompts are joined turn by turn."""
    if isinstance(row.prompt, str):
        return row.prompt
    return "\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in row.prompt)


# --- within a subset -------------------------------------------------------------------------


@dataclass(frozen=True)
class DedupStep:
    """Within-subset prompt duplicates: keep the first row (builder order) of each group.

    `policy="drop"` removes the later rows with the reason naming the row they duplicate;
    `policy="report"` keeps every row and only counts (for subsets where one prompt may carry
    several pairs by design).
    """

    threshold: float = DEFAULT_THRESHOLD
    policy: Literal["drop", "report"] = "drop"
    name: str = "dedup"

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        matches = find_duplicates([prompt_of(r) for r in rows], self.threshold)
        parent = list(range(len(rows)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for m in matches:
            ra, rb = root(m.a), root(m.b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)  # the earliest row of a group is its root
        involving: dict[int, list[Match]] = defaultdict(list)
        for m in matches:
            involving[m.a].append(m)
            involving[m.b].append(m)

        def evidence(i: int) -> Match:
            """The match with the group's keeper if there is one, else i's strongest match."""
            keeper = root(i)
            direct = [m for m in involving[i] if {m.a, m.b} == {keeper, i}]
            return direct[0] if direct else max(involving[i], key=lambda m: (m.jaccard, -min(m.a, m.b)))

        report = {
            "threshold": self.threshold,
            "policy": self.policy,
            "exact_pairs": sum(1 for m in matches if m.kind == "exact"),
            "near_pairs": sum(1 for m in matches if m.kind == "near"),
            "duplicate_rows": sum(1 for i in range(len(rows)) if root(i) != i),
        }
        if self.policy == "report":
            return StepResult(rows, [], report)
        kept: list[TrioRow] = []
        dropped: list[DroppedRow] = []
        for i, row in enumerate(rows):
            keeper = root(i)
            if keeper == i:
                kept.append(row.with_filter(self.name))
                continue
            link = evidence(i)
            ref = rows[keeper]
            dropped.append(
                drop(
                    row,
                    f"filter:{self.name}",
                    f"{link.kind}-duplicate prompt of an earlier row",
                    {
                        "duplicate_of": ref.provenance.row_key,
                        "duplicate_of_id": ref.id,
                        "kind": link.kind,
                        "jaccard": link.jaccard,
                        "word_diff": link.word_diff,
                    },
                )
            )
        return StepResult(kept, dropped, report)


# --- across subsets --------------------------------------------------------------------------


def cross_subset_report(
    rows_by_subset: Mapping[str, Sequence[TrioRow]],
    threshold: float = DEFAULT_THRESHOLD,
    max_examples: int = 5,
) -> dict[str, Any]:
    """Prompts shared between different subsets, counted per subset pair, with a few examples.

    Pairs of subsets built from the same source (e.g. the three AlpacaEval subsets, which share
    one prompt pool by design) are marked `same_source` so a reader can tell expected overlap
    from a leak. Within-subset matches are left to `DedupStep`.
    """
    items: list[tuple[str, TrioRow]] = [(name, row) for name in sorted(rows_by_subset) for row in rows_by_subset[name]]
    matches = find_duplicates([prompt_of(r) for _, r in items], threshold)
    sources: dict[str, set[str]] = defaultdict(set)
    for name, row in items:
        sources[name].add(row.provenance.source)
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for m in matches:
        (sa, ra), (sb, rb) = items[m.a], items[m.b]
        if sa == sb:
            continue
        if sb < sa:
            (sa, ra), (sb, rb) = (sb, rb), (sa, ra)
        entry = pairs.setdefault(
            (sa, sb),
            {
                "subsets": [sa, sb],
                "same_source": bool(sources[sa] & sources[sb]),
                "exact": 0,
                "near": 0,
                "examples": [],
            },
        )
        entry[m.kind] += 1
        if len(entry["examples"]) < max_examples:
            entry["examples"].append(
                {"ids": [ra.id, rb.id], "kind": m.kind, "jaccard": m.jaccard, "word_diff": m.word_diff, "prompt": prompt_of(ra)[:120]}
            )
    listed = [pairs[k] for k in sorted(pairs)]
    return {
        "threshold": threshold,
        "rows": len(items),
        "pairs": listed,
        "unexpected": sum(p["exact"] + p["near"] for p in listed if not p["same_source"]),
    }



def cross_subset_hook(threshold: float = DEFAULT_THRESHOLD) -> Callable[[Any], None]:
    """A `curation.build.run_build` finalize hook: the cross-subset report goes into build.json
    under `dedup` (report only; no row is removed across subsets)."""

    def hook(result: Any) -> None:
        result.manifest["dedup"] = cross_subset_report({o.subset: o.rows for o in result.outcomes}, threshold)

    return hook


def render_summary(manifest: Mapping[str, Any]) -> list[str]:
    """One line for the build summary about prompts shared between subsets."""
    report = manifest.get("dedup")
    if not report:
        return []
    expected = sum(p["exact"] + p["near"] for p in report["pairs"] if p["same_source"])
    unexpected = report["unexpected"]
    colour = "yellow" if unexpected else "green"
    return [
        f"[{colour}]cross-subset duplicate prompts:[/] {unexpected} between different sources, "
        f"{expected} within one source's subsets (see build.json 'dedup')"
    ]
