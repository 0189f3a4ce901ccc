"""From per-row scores to subset, section and overall numbers, each with a seeded 95% CI.

Rows get their credit here (strict `>` pairs, best-of-N with 1/k tie credit); subsets,
sections and overall conventions use the formulas in `eval.scoring`; the bootstrap in
`eval.stats` resamples rows within each subset (prompts for Ties) and pushes the same
resamples through the section and overall formulas, so every CI matches its point estimate's
definition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rbkit.eval.data import Pair
from rbkit.eval.errors import DatasetError
from rbkit.eval.scoring import (
    CONVENTIONS,
    TiesPolicy,
    best_of_n_credit,
    overall_scores,
    pair_credit,
    rb2_overall,
    section_scores,
    ties_score,
    ties_table,
)
from rbkit.eval.sections import PRIOR_SETS, PRIOR_SETS_SCORED, RB2_SUBSETS, SubsetInfo
from rbkit.eval.stats import (
    bootstrap_means,
    bootstrap_ties,
    percentile_ci,
    seeded_rng,
    weighted_samples,
)

TIES_SUBSET = "Ties"


@dataclass(frozen=True)
class RowScore:
    id: str
    subset: str
    scores: tuple[float, ...]  # chosen completions first
    n_chosen: int
    credit: float
    tie: bool
    truncated: bool
    row_sha256: str = ""  # content hash of the pair (compare checks both runs saw the same pair)
    lengths: tuple[int, ...] = ()  # tokens of each completion as scored, same order as scores; () = not measured

    @property
    def score_chosen(self) -> float:
        return self.scores[0]

    @property
    def score_rejected(self) -> float:
        """The rejected score (the best rejected one for best-of-N rows)."""
        return max(self.scores[self.n_chosen :])


def credit_rows(pairs: Sequence[Pair], scores: Sequence[Sequence[float]], truncated: Sequence[bool],
                ties: TiesPolicy, lengths: Sequence[Sequence[int]] | None = None) -> list[RowScore]:
    """`lengths`: tokens of each completion as scored (for the report's length-bias view), or None."""
    out = []
    lengths = lengths if lengths is not None else [()] * len(pairs)
    for pair, s, t, n in zip(pairs, scores, truncated, lengths, strict=True):
        s = tuple(float(x) for x in s)
        if pair.best_of_n:  # 1/k tie credit is the RewardBench 2 rule; `ties` concerns pairs only
            credit, tie = best_of_n_credit(s)
        else:
            credit, tie = pair_credit(s[0], s[1], ties)
        out.append(RowScore(pair.id, pair.subset, s, len(pair.chosen), credit, tie, bool(t), pair.content_hash,
                            tuple(int(x) for x in n)))
    return out


def _ci(samples: np.ndarray | None, confidence: float) -> list[float] | None:
    if samples is None:
        return None
    ci = percentile_ci(samples, confidence)
    return list(ci) if ci is not None else None


def aggregate(
    rows: Sequence[RowScore],
    info: Mapping[str, SubsetInfo],
    *,
    empty_subsets: Sequence[str] = (),
    best_of_n: bool,
    resamples: int,
    seed: int,
    confidence: float = 0.95,
    weight_counts: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The `subsets`, `sections` and `overall` blocks of results.json (plus the benchmark name).

    `weight_counts` overrides the row counts used as section weights (a sampled run weighs
    subsets by their full sizes).
    """
    by_subset: dict[str, list[RowScore]] = {}
    for r in rows:
        by_subset.setdefault(r.subset, []).append(r)
    subsets: dict[str, Any] = {}
    accuracy: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    samples: dict[str, np.ndarray] = {}
    for name in sorted(by_subset):
        items = by_subset[name]
        credits = np.array([r.credit for r in items], dtype=np.float64)
        rng = seeded_rng(seed, name)
        entry: dict[str, Any] = {
            "section": info[name].section,
            "weight": info[name].weight,
            "section_origin": info[name].origin,
            "n": len(items),
            "correct": float(credits.sum()),
            "ties": sum(r.tie for r in items),
            "truncated": sum(r.truncated for r in items),
        }
        if best_of_n and name == TIES_SUBSET:
            try:  # ids are checked where files are read; this catches rows built in code
                table = ties_table([(r.id, r.scores, r.n_chosen) for r in items])
            except ValueError as exc:
                raise DatasetError(f"subset {name}: {exc}") from exc
            ts = ties_score(table)
            entry.update(metric="ties-formula", accuracy=ts.score, components={
                "tied_accuracy": ts.tied_accuracy,
                "ref_accuracy": ts.ref_accuracy,
                "correctness_preferred": ts.correctness_preferred,
                "correctness_preferred_hard": ts.correctness_preferred_hard,
                "margin_term": ts.margin_term,
                "prompts": ts.prompts,
            })
            samples[name] = bootstrap_ties(table, resamples, rng)
        else:
            entry.update(metric="best-of-n" if best_of_n else "accuracy", accuracy=float(credits.mean()))
            samples[name] = bootstrap_means(credits, resamples, rng)
        entry["ci95"] = _ci(samples[name], confidence)
        subsets[name] = entry
        accuracy[name] = entry["accuracy"]
        counts[name] = (weight_counts or {}).get(name, len(items))
    for name in sorted(empty_subsets):
        subsets[name] = {
            "section": info[name].section, "weight": info[name].weight, "section_origin": info[name].origin,
            "n": 0, "correct": 0.0, "ties": 0, "truncated": 0, "metric": "accuracy", "accuracy": None, "ci95": None,
        }
    if best_of_n:
        return {"benchmark": "reward-bench-2", "subsets": subsets, "sections": {},
                "overall": _rb2_overall(accuracy, samples, confidence)}
    secs = section_scores(accuracy, counts, info)
    section_samples: dict[str, np.ndarray] = {}
    sections_out: dict[str, Any] = {}
    for name, sec in secs.items():
        s = weighted_samples(samples, sec.weights) if sec.score is not None else None
        if s is not None:
            section_samples[name] = s
        sections_out[name] = {
            "score": sec.score,
            "ci95": _ci(s, confidence),
            "weights": sec.weights,
            "missing": sec.missing,
            "reported_only": sec.reported_only,
            "complete": sec.complete,
            "definition": "unweighted mean of " + ", ".join(PRIOR_SETS_SCORED) if name == PRIOR_SETS
            else "mean of subset accuracies weighted by row count (math-prm: 984)",
        }
    overall_out: dict[str, Any] = {}
    for conv, (key, ov) in zip(CONVENTIONS, overall_scores(secs).items(), strict=True):
        s = weighted_samples(section_samples, ov.used) if ov.value is not None else None
        overall_out[key] = {
            "value": ov.value,
            "ci95": _ci(s, confidence),
            "definition": conv.definition,
            "weights": ov.used,
            "missing": ov.missing,
            "complete": ov.complete,
        }
    return {"benchmark": "reward-bench", "subsets": subsets, "sections": sections_out, "overall": overall_out}


def _rb2_overall(accuracy: Mapping[str, float | None], samples: Mapping[str, np.ndarray], confidence: float) -> dict[str, Any]:
    ov = rb2_overall(accuracy)
    s = weighted_samples(dict(samples), ov.used) if ov.value is not None else None
    extra = sorted(k for k in accuracy if k not in RB2_SUBSETS)
    return {
        "rb2_mean_6_subsets": {
            "value": ov.value,
            "ci95": _ci(s, confidence),
            "definition": ov.definition,
            "weights": ov.used,
            "missing": ov.missing,
            "complete": ov.complete,
            **({"reported_only": extra} if extra else {}),
        }
    }
