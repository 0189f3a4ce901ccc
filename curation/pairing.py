"""Turning verified candidates into trio rows: pairwise, best-of-N, or from reward scores.

A `CandidateGroup` holds one prompt's candidate completions; verifier glue
(`candidate_verify.py`) has filled each candidate's `verdicts` with records that carry a
`status`: "correct", "wrong" or "undecided" (a timeout, no final answer found). Pairing reads
only that status, so it works the same for math, code and refusal verdicts:

- `pair_pairwise`: chosen = one verified-correct candidate, rejected = one verified-wrong one.
- `pair_best_of_n`: 1 verified-correct chosen and n-1 verified-wrong rejected, as lists (the
  RewardBench 2 layout; the build adds `num_correct`/`total_completions`, `rbkit eval` scores
  the first chosen against every rejected one).
- either with `chosen="reference"`: the group's reference answer is chosen (as math-prm does:
  the human solution against wrong model answers), and correct candidates go unused.
- `pair_from_scores`: chosen = the top-scored candidate, rejected = the lowest-scored, kept
  only when the gap reaches `min_margin`; scores come from `rbkit eval`'s scores.parquet
  (`eval_scores`, over rows made by `scoring_rows`) or from a judge's file (`judge_scores`).

Which correct and which wrong candidates are used is decided by a hash of (seed, subset, group
key, candidate index): stable across rebuilds, and adding a candidate to one group changes
nothing elsewhere. Every candidate not used becomes a `DroppedRow` with its reason, its status
and its verdicts; nothing disappears silently. All functions are pure: groups in, rows out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rbkit.curation.candidates import Candidate, CandidateGroup
from rbkit.curation.errors import RbkitError
from rbkit.curation.rows import (
    DroppedRow,
    Provenance,
    TrioRow,
    Verification,
    canonical_json,
    stable_id,
)
from rbkit.curation.steps_registry import register_step

Status = Literal["correct", "wrong", "undecided", "unverified"]
ChosenFrom = Literal["verified", "reference"]
ProvenanceFor = Provenance | Callable[[CandidateGroup], Provenance] | None
Scores = Mapping[str, Mapping[int, float]]  # group key -> candidate index -> score

REFERENCE_MODEL = "reference"


class PairingError(RbkitError):
    """Groups or scores that pairing cannot use (names the group key or the file and row)."""


# --- candidate status -------------------------------------------------------------------------------


def status(c: Candidate) -> Status:
    """Correct only when every verifier says so; wrong when any says wrong; else undecided."""
    if not c.verdicts:
        return "unverified"
    found = {str(v.get("status")) if isinstance(v, Mapping) else "undecided" for v in c.verdicts.values()}
    if "wrong" in found:
        return "wrong"
    if found == {"correct"}:
        return "correct"
    return "undecided"


def _undecided_reason(c: Candidate) -> str:
    if not c.verdicts:
        return "unverified: no verifier judged this candidate"
    parts = [
        f"{name} {v.get('verdict', '?')}"
        for name, v in sorted(c.verdicts.items())
        if not isinstance(v, Mapping) or v.get("status") not in ("correct", "wrong")
    ]
    return "undecided: " + ", ".join(parts)


def pick_key(seed: int, subset: str, group: CandidateGroup, index: int) -> str:
    return hashlib.sha256(f"{seed}\x1f{subset}\x1f{group.key}\x1f{index}".encode()).hexdigest()


# --- rows and drops ------------------------------------------------------------------------------------


def _base(group: CandidateGroup, provenance: ProvenanceFor) -> Provenance:
    if callable(provenance):
        return provenance(group)
    if isinstance(provenance, Provenance):
        return provenance
    found = group.meta.get("provenance")
    if isinstance(found, Provenance):
        return found
    if isinstance(found, Mapping):
        return Provenance.from_record({"filters_passed": [], "verification": [], "extra": "{}", **found})
    raise PairingError(
        f"group {group.key}: no provenance; pass provenance= (a Provenance or a function of the group) "
        "or put one in group.meta['provenance']"
    )


def _verifications(side: str, chosen: Sequence[Candidate]) -> list[Verification]:
    out = []
    for c in chosen:
        for name, v in sorted(c.verdicts.items()):
            detail = v.get("detail", {}) if isinstance(v, Mapping) else {}
            out.append(
                Verification(
                    name,
                    side,  # type: ignore[arg-type]
                    str(v.get("verdict", "?")) if isinstance(v, Mapping) else str(v),
                    canonical_json({"candidate": c.index, "status": v.get("status") if isinstance(v, Mapping) else None, **detail}),
                )
            )
    return out


def _models(cands: Sequence[Candidate]) -> str:
    seen: dict[str, None] = {}
    for c in cands:
        seen.setdefault(c.model or "unknown", None)
    return ", ".join(seen)


def _row(
    group: CandidateGroup,
    *,
    subset: str,
    provenance: ProvenanceFor,
    chosen: Candidate | None,
    rejected: Sequence[Candidate],
    as_lists: bool,
    pairing: dict[str, Any],
    reference_model: str,
) -> TrioRow:
    base = _base(group, provenance)
    chosen_text = group.reference if chosen is None else chosen.text
    assert chosen_text is not None
    chosen_model = reference_model if chosen is None else (chosen.model or "unknown")
    location = group.meta.get("location")
    extra = {**json.loads(base.extra), **(group.meta.get("extra") or {}),
             **({"location": location} if isinstance(location, str) else {}), "pairing": pairing}
    prov = dataclasses.replace(
        base,
        row_key=group.key,
        extra=canonical_json(extra),
        verification=(*base.verification, *_verifications("chosen", [chosen] if chosen else []), *_verifications("rejected", rejected)),
    )
    rej_texts = tuple(c.text for c in rejected)
    return TrioRow(
        prompt=group.prompt,
        chosen=(chosen_text,) if as_lists else chosen_text,
        chosen_model=chosen_model,
        rejected=rej_texts if as_lists else rej_texts[0],
        rejected_model=_models(rejected),
        subset=subset,
        id=stable_id(subset, group.key),
        provenance=prov,
    )


def candidate_drop(
    group: CandidateGroup, c: Candidate, *, subset: str, step: str, reason: str, extra: Mapping[str, Any] | None = None
) -> DroppedRow:
    """A candidate that is not used, with its status and verdicts as the evidence."""
    evidence = {"status": status(c), "verdicts": c.verdicts, **(extra or {})}
    return DroppedRow(
        subset=subset,
        step=step,
        reason=reason,
        row={
            "key": group.key,
            "prompt": group.prompt,
            "candidate": {"index": c.index, "text": c.text, "model": c.model, "meta": c.meta, "verdicts": c.verdicts},
        },
        location=f"{group.key} candidate {c.index}",
        evidence=canonical_json(evidence),
    )


# --- pairing by verdicts -------------------------------------------------------------------------------


@dataclass
class _Sorted:
    """One group's candidates sorted into what pairing can use and what it cannot."""

    correct: list[Candidate]
    wrong: list[Candidate]
    unusable: list[tuple[Candidate, str]]  # (candidate, reason): empty, duplicate, undecided


def _sort(group: CandidateGroup, seed: int, subset: str, *, exclude_texts: Sequence[str] = ()) -> _Sorted:
    correct: list[Candidate] = []
    wrong: list[Candidate] = []
    unusable: list[tuple[Candidate, str]] = []
    first: dict[str, int] = {text.strip(): -1 for text in exclude_texts}
    for c in sorted(group.candidates, key=lambda c: c.index):
        text = c.text.strip()
        if not text:
            unusable.append((c, "empty completion"))
            continue
        if text in first:
            what = "the reference answer" if first[text] < 0 else f"candidate {first[text]}"
            unusable.append((c, f"unused: same text as {what}"))
            continue
        first[text] = c.index
        s = status(c)
        if s == "correct":
            correct.append(c)
        elif s == "wrong":
            wrong.append(c)
        else:
            unusable.append((c, _undecided_reason(c)))
    key = lambda c: pick_key(seed, subset, group, c.index)  # noqa: E731
    return _Sorted(sorted(correct, key=key), sorted(wrong, key=key), unusable)


def _pair_by_verdicts(
    groups: Sequence[CandidateGroup],
    *,
    n: int,
    as_lists: bool,
    mode: str,
    subset: str,
    seed: int,
    chosen: ChosenFrom,
    provenance: ProvenanceFor,
    reference_model: str,
) -> tuple[list[TrioRow], list[DroppedRow]]:
    if n < 2:
        raise PairingError(f"{mode}: n must be at least 2 (1 chosen + n-1 rejected), got {n}")
    if chosen not in ("verified", "reference"):
        raise PairingError(f"{mode}: chosen must be 'verified' or 'reference', got {chosen!r}")
    step = f"pair:{mode}"
    rows: list[TrioRow] = []
    dropped: list[DroppedRow] = []
    seen_keys: set[str] = set()
    for group in groups:
        if group.key in seen_keys:
            raise PairingError(f"{mode}: two groups share the key {group.key!r}; keys must be unique per subset")
        seen_keys.add(group.key)
        ref = (group.reference or "").strip()
        use_ref = chosen == "reference"
        s = _sort(group, seed, subset, exclude_texts=[ref] if use_ref and ref else [])
        counts = {"correct": len(s.correct), "wrong": len(s.wrong), "unusable": len(s.unusable)}

        def drop_all(reason: str, cands: Sequence[Candidate], s: _Sorted = s, group: CandidateGroup = group,
                     counts: dict[str, int] = counts) -> None:
            for c in cands:
                dropped.append(candidate_drop(group, c, subset=subset, step=step, reason=reason, extra={"group": counts}))

        for c, reason in s.unusable:
            drop_all(reason, [c])
        need = n - 1
        if use_ref and not ref:
            drop_all("no reference answer for this prompt", s.correct + s.wrong)
            continue
        if not use_ref and not s.correct:
            drop_all(f"no verified-correct candidate (0 of {len(group.candidates)})", s.wrong)
            continue
        if len(s.wrong) < need:
            drop_all(f"not enough verified-wrong candidates ({len(s.wrong)} < {need})", s.correct + s.wrong)
            continue
        pick = None if use_ref else s.correct[0]
        rejected = s.wrong[:need]
        spare_correct = s.correct if use_ref else s.correct[1:]
        drop_all("unused: extra correct candidate" + (" (the reference answer is chosen)" if use_ref else ""), spare_correct)
        drop_all("unused: extra wrong candidate", s.wrong[need:])
        pairing = {
            "mode": mode,
            "seed": seed,
            "chosen": {"source": "reference"} if pick is None else {"source": "candidate", "index": pick.index, "model": pick.model},
            "rejected": [{"index": c.index, "model": c.model} for c in rejected],
            "candidates": len(group.candidates),
            **counts,
        }
        rows.append(
            _row(group, subset=subset, provenance=provenance, chosen=pick, rejected=rejected, as_lists=as_lists,
                 pairing=pairing, reference_model=reference_model)
        )
    return rows, dropped


def pair_pairwise(
    groups: Sequence[CandidateGroup],
    *,
    subset: str,
    seed: int = 0,
    chosen: ChosenFrom = "verified",
    provenance: ProvenanceFor = None,
    reference_model: str = REFERENCE_MODEL,
) -> tuple[list[TrioRow], list[DroppedRow]]:
    """One row per prompt: a verified-correct chosen (or the reference) and a verified-wrong rejected."""
    return _pair_by_verdicts(groups, n=2, as_lists=False, mode="pairwise", subset=subset, seed=seed,
                             chosen=chosen, provenance=provenance, reference_model=reference_model)


def pair_best_of_n(
    groups: Sequence[CandidateGroup],
    *,
    subset: str,
    n: int = 4,
    seed: int = 0,
    chosen: ChosenFrom = "verified",
    provenance: ProvenanceFor = None,
    reference_model: str = REFERENCE_MODEL,
) -> tuple[list[TrioRow], list[DroppedRow]]:
    """One RewardBench-2-style row per prompt: [chosen] and n-1 verified-wrong rejected."""
    return _pair_by_verdicts(groups, n=n, as_lists=True, mode="best_of_n", subset=subset, seed=seed,
                             chosen=chosen, provenance=provenance, reference_model=reference_model)


# --- pairing by scores ---------------------------------------------------------------------------------


def pair_from_scores(
    groups: Sequence[CandidateGroup],
    scores: Scores,
    *,
    subset: str,
    min_margin: float = 0.0,
    n: int = 2,
    seed: int = 0,
    respect_verdicts: bool = True,
    provenance: ProvenanceFor = None,
) -> tuple[list[TrioRow], list[DroppedRow]]:
    """Chosen = the top-scored candidate, rejected = the n-1 lowest, when the margin allows.

    `scores` maps a group key (or, where unique, the id after its source key: "q1" for
    "generated:q1") to candidate index -> score.

    The margin is chosen's score minus the best rejected score; a group below `min_margin` is
    dropped whole (the scorer does not separate its candidates clearly). With
    `respect_verdicts`, a candidate verified wrong is never chosen and one verified correct is
    never rejected. n=2 gives pairwise rows (strings), n>2 best-of-N rows (lists).
    """
    if n < 2:
        raise PairingError(f"from_scores: n must be at least 2, got {n}")
    if min_margin < 0:
        raise PairingError(f"from_scores: min_margin must be >= 0, got {min_margin}")
    step = "pair:from_scores"
    rows: list[TrioRow] = []
    dropped: list[DroppedRow] = []
    short = _short_keys(groups)
    for group in groups:
        got = scores.get(group.key) or scores.get(short.get(group.key, "\x00")) or {}
        s = _sort_for_scores(group, seed, subset)
        usable: list[Candidate] = []
        for c, reason in s:
            if reason is not None:
                dropped.append(candidate_drop(group, c, subset=subset, step=step, reason=reason))
            elif c.index not in got:
                dropped.append(candidate_drop(group, c, subset=subset, step=step, reason="no score for this candidate"))
            else:
                usable.append(c)

        def score_of(c: Candidate, got: Mapping[int, float] = got) -> float:
            return float(got[c.index])

        def ev(c: Candidate, got: Mapping[int, float] = got) -> dict[str, Any]:
            return {"score": float(got[c.index])}

        tie = {c.index: pick_key(seed, subset, group, c.index) for c in usable}
        ranked = sorted(usable, key=lambda c: (-score_of(c), tie[c.index]))
        can_choose = [c for c in ranked if not (respect_verdicts and status(c) == "wrong")]
        if not can_choose:
            for c in ranked:
                dropped.append(candidate_drop(group, c, subset=subset, step=step, reason="no candidate may be chosen (all verified wrong)", extra=ev(c)))
            continue
        pick = can_choose[0]
        pool = [c for c in reversed(ranked) if c is not pick and not (respect_verdicts and status(c) == "correct")]
        if len(pool) < n - 1:
            for c in ranked:
                dropped.append(candidate_drop(group, c, subset=subset, step=step,
                                              reason=f"not enough scored candidates to reject ({len(pool)} < {n - 1})", extra=ev(c)))
            continue
        rejected = pool[: n - 1]
        margin = score_of(pick) - max(score_of(c) for c in rejected)
        if margin < min_margin:
            for c in ranked:
                dropped.append(candidate_drop(group, c, subset=subset, step=step,
                                              reason=f"margin {margin:.4g} below min_margin {min_margin:g}", extra=ev(c)))
            continue
        used = {pick.index, *(c.index for c in rejected)}
        for c in ranked:
            if c.index not in used:
                dropped.append(candidate_drop(group, c, subset=subset, step=step, reason="unused: scored between chosen and rejected", extra=ev(c)))
        pairing = {
            "mode": "from_scores",
            "seed": seed,
            "min_margin": min_margin,
            "margin": margin,
            "chosen": {"source": "candidate", "index": pick.index, "model": pick.model, "score": score_of(pick)},
            "rejected": [{"index": c.index, "model": c.model, "score": score_of(c)} for c in rejected],
            "candidates": len(group.candidates),
        }
        rows.append(_row(group, subset=subset, provenance=provenance, chosen=pick, rejected=rejected, as_lists=n > 2,
                         pairing=pairing, reference_model=REFERENCE_MODEL))
    return rows, dropped


def _short_keys(groups: Sequence[CandidateGroup]) -> dict[str, str]:
    """group key -> the id after its source key ("generated:q1" -> "q1") where that is unique,
    so a scores file may name prompts by the id the user knows (rbkit generate's prompt_id)."""
    tails = Counter(g.key.split(":", 1)[1] for g in groups if ":" in g.key)
    return {g.key: g.key.split(":", 1)[1] for g in groups if ":" in g.key and tails[g.key.split(":", 1)[1]] == 1}


def _sort_for_scores(group: CandidateGroup, seed: int, subset: str) -> list[tuple[Candidate, str | None]]:
    """Each candidate with the reason it cannot be used (None: usable), in index order."""
    out: list[tuple[Candidate, str | None]] = []
    first: dict[str, int] = {}
    for c in sorted(group.candidates, key=lambda c: c.index):
        text = c.text.strip()
        if not text:
            out.append((c, "empty completion"))
        elif text in first:
            out.append((c, f"unused: same text as candidate {first[text]}"))
        else:
            first[text] = c.index
            out.append((c, None))
    return out


# --- score files ---------------------------------------------------------------------------------------


def scoring_rows(groups: Sequence[CandidateGroup], subset: str) -> list[dict[str, Any]]:
    """Rows that `rbkit eval` scores: one per group, its candidates in index order.

    The first candidate goes in `chosen`, the rest in `rejected` (a best-of-N row), and the id
    is the group key, so `eval_scores` maps scores.parquet's `scores` list back to candidates.
    """
    out = []
    for g in groups:
        cands = sorted(g.candidates, key=lambda c: c.index)
        if len(cands) < 2:
            raise PairingError(f"group {g.key}: scoring needs at least 2 candidates, got {len(cands)}")
        out.append({"prompt": g.prompt, "chosen": [cands[0].text], "rejected": [c.text for c in cands[1:]],
                    "subset": subset, "id": g.key})
    return out


def eval_scores(path: Path, groups: Sequence[CandidateGroup]) -> dict[str, dict[int, float]]:
    """Scores from `rbkit eval`'s scores.parquet (or its results folder) over `scoring_rows` rows."""
    import pyarrow.parquet as pq

    path = Path(path)
    file = path / "scores.parquet" if path.is_dir() else path
    if not file.is_file():
        raise PairingError(f"{file}: no such file; run `rbkit eval` on the rows from scoring_rows first")
    table = pq.read_table(file)
    missing = {"id", "scores"} - set(table.column_names)
    if missing:
        raise PairingError(f"{file}: not an rbkit eval scores file (missing column(s) {', '.join(sorted(missing))})")
    by_key = {g.key: sorted(g.candidates, key=lambda c: c.index) for g in groups}
    by_key.update({tail: by_key[key] for key, tail in _short_keys(groups).items() if tail not in by_key})
    out: dict[str, dict[int, float]] = {}
    for row, (rid, vals) in enumerate(zip(table.column("id").to_pylist(), table.column("scores").to_pylist(), strict=True), 1):
        cands = by_key.get(str(rid))
        if cands is None:
            continue  # rows of other groups (or subsets) in the same run
        if vals is None or len(vals) != len(cands):
            raise PairingError(f"{file}:{row} scores: {0 if vals is None else len(vals)} scores for group {rid} with {len(cands)} candidates")
        out[str(rid)] = {c.index: float(v) for c, v in zip(cands, vals, strict=True)}
    return out


def judge_scores(path: Path, *, key: str = "key", index: str = "index", score: str = "score") -> dict[str, dict[int, float]]:
    """Scores from a judge's jsonl/csv/parquet file with one row per (group key, candidate index, score)."""
    from rbkit.curation.readers import csv_rows, jsonl_rows, parquet_rows

    path = Path(path)
    readers = {".jsonl": jsonl_rows, ".csv": csv_rows, ".parquet": parquet_rows}
    if path.suffix not in readers:
        raise PairingError(f"{path}: unknown file type {path.suffix!r}; expected .jsonl, .csv or .parquet")
    if not path.is_file():
        raise PairingError(f"{path}: no such file")
    out: dict[str, dict[int, float]] = {}
    seen: Counter[tuple[str, int]] = Counter()
    for row, rec in readers[path.suffix](path, str(path)):
        if isinstance(rec, Exception):
            raise PairingError(str(rec))
        for name in (key, index, score):
            if rec.get(name) in (None, ""):
                raise PairingError(f"{path}:{row} {name}: missing")
        try:
            k, i, v = str(rec[key]), int(rec[index]), float(rec[score])
        except (TypeError, ValueError) as exc:
            raise PairingError(f"{path}:{row} {index}/{score}: not a number ({exc})") from exc
        if v != v:  # NaN
            raise PairingError(f"{path}:{row} {score}: NaN")
        seen[(k, i)] += 1
        if seen[(k, i)] > 1:
            raise PairingError(f"{path}:{row}: a second score for group {k} candidate {i}")
        out.setdefault(k, {})[i] = v
    return out


# --- the registered pairing steps (a spec's `pairing.mode`) ------------------------------------------


def read_scores(path: Path, groups: Sequence[CandidateGroup]) -> dict[str, dict[int, float]]:
    """Scores from `rbkit eval` (a scores.parquet with id/scores, or its results folder) or a judge file."""
    import pyarrow.parquet as pq

    path = Path(path)
    if path.is_dir() or (path.suffix == ".parquet" and {"id", "scores"} <= set(pq.read_schema(path).names)):
        return eval_scores(path, groups)
    return judge_scores(path)


@dataclass(frozen=True)
class PairingStep:
    """A spec's pairing: groups in, trio rows and drops out (`chosen_from`: verified, reference, scores)."""

    mode: Literal["pairwise", "best-of-n"]
    n: int = 2
    chosen_from: Literal["verified", "reference", "scores"] = "verified"
    scores: Any = None  # a SourceFile (resolved by hash) or a path
    min_margin: float = 0.0

    @property
    def name(self) -> str:
        return f"pairing:{self.mode}"

    def _scores_path(self) -> Path:
        from rbkit.curation.sources import SourceFile, resolve

        return resolve(self.scores) if isinstance(self.scores, SourceFile) else Path(self.scores)

    def __call__(self, groups: list[CandidateGroup], ctx: Any) -> Any:
        from rbkit.curation.pipeline import StepResult

        seed, subset = ctx.seed, ctx.subset
        if self.chosen_from == "scores":
            scores = read_scores(self._scores_path(), groups)
            rows, dropped = pair_from_scores(groups, scores, subset=subset, min_margin=self.min_margin, n=self.n, seed=seed)
        elif self.mode == "pairwise":
            rows, dropped = pair_pairwise(groups, subset=subset, seed=seed, chosen=self.chosen_from)
        else:
            rows, dropped = pair_best_of_n(groups, subset=subset, n=self.n, seed=seed, chosen=self.chosen_from)
        reasons = Counter(d.reason for d in dropped)
        report = {
            "mode": self.mode,
            "n": self.n,
            "chosen_from": self.chosen_from,
            "groups": len(groups),
            "rows": len(rows),
            "candidates": sum(len(g.candidates) for g in groups),
            "dropped": dict(sorted(reasons.items())),
        }
        return StepResult(rows, dropped, report)


def _check_chosen(chosen_from: str) -> None:
    if chosen_from not in ("verified", "reference", "scores"):
        raise ValueError(f"chosen_from must be 'verified', 'reference' or 'scores', got {chosen_from!r}")


@register_step("pairing:pairwise", stage="pairing")
def pairwise_step(chosen_from: str = "verified", scores: Any = None, min_margin: float = 0.0) -> PairingStep:
    """One pair per prompt: a verified-correct (or reference, or top-scored) chosen and a wrong rejected."""
    _check_chosen(chosen_from)
    return PairingStep("pairwise", 2, chosen_from, scores, float(min_margin))  # type: ignore[arg-type]


@register_step("pairing:best-of-n", stage="pairing")
def best_of_n_step(n: int, chosen_from: str = "verified", scores: Any = None, min_margin: float = 0.0) -> PairingStep:
    """RewardBench 2 rows: 1 chosen and n-1 verified-wrong rejected as lists (num_correct, total_completions)."""
    _check_chosen(chosen_from)
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer of at least 2, got {n!r}")
    return PairingStep("best-of-n", n, chosen_from, scores, float(min_margin))  # type: ignore[arg-type]
