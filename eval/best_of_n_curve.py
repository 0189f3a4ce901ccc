"""Best-of-N accuracy by the number of rejected answers it had to beat.

RewardBench 2 rows hold one correct answer and three (or more) incorrect ones, so accuracy
falls as N grows by chance alone (random picking gives 1/(k+1)). From the scores already in a
result, the row is re-scored against only its first k rejected answers, k = 1..max, with the
same 1/t tie credit; the curve shows how fast a model degrades as the field grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rbkit.eval.report_entry import PairRow
from rbkit.eval.scoring import best_of_n_credit
from rbkit.eval.stats import wilson_interval

TIES_SUBSET = "Ties"  # scored by its own formula, left out of this view


@dataclass(frozen=True)
class Point:
    rejected: int  # k: answers the correct one had to beat
    n: int  # rows with at least k rejected answers
    accuracy: float
    ci95: tuple[float, float]
    chance: float  # 1 / (k + 1)


def accuracy_by_rejected(rows: Sequence[PairRow]) -> list[Point]:
    """One point per k for best-of-N rows (one correct answer, two or more rejected)."""
    usable = [r for r in rows if r.best_of_n and r.n_chosen == 1 and r.subset != TIES_SUBSET]
    if not usable:
        return []
    most = max(len(r.scores) - 1 for r in usable)
    out = []
    for k in range(1, most + 1):
        credits = [best_of_n_credit(r.scores[: 1 + k])[0] for r in usable if len(r.scores) - 1 >= k]
        total = sum(credits)
        ci = wilson_interval(total, len(credits))
        assert ci is not None
        out.append(Point(k, len(credits), total / len(credits), ci, 1.0 / (k + 1)))
    return out
