"""Does the model just prefer the longer answer? Pure functions over per-pair rows.

"Pick the longer answer" solves some subsets outright (DESIGN.md, defect 9), so a high score
there may say little. Two views: accuracy when the chosen answer is the longer vs the shorter
one (Wilson 95% intervals), and the score margin (chosen − rejected) against the length
difference in tokens, with binned means. Only pairs with measured token lengths count.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from rbkit.eval.report_entry import PairRow
from rbkit.eval.stats import wilson_interval

LONGER, SHORTER, SAME = "chosen longer", "chosen shorter", "same length"


@dataclass(frozen=True)
class Group:
    name: str
    n: int
    correct: float
    accuracy: float | None
    ci95: tuple[float, float] | None


def measured_pairs(rows: Sequence[PairRow]) -> list[PairRow]:
    """Pairwise rows with a score and a token length for both answers."""
    return [r for r in rows if len(r.scores) == 2 and len(r.lengths) == 2]


def split_by_length(rows: Sequence[PairRow]) -> list[Group]:
    """Accuracy (mean credit) in the three groups, with Wilson intervals."""
    groups: dict[str, list[float]] = {LONGER: [], SHORTER: [], SAME: []}
    for r in measured_pairs(rows):
        c, j = r.lengths
        groups[LONGER if c > j else SHORTER if c < j else SAME].append(r.correct)
    out = []
    for name, credits in groups.items():
        n, k = len(credits), float(sum(credits))
        out.append(Group(name, n, k, k / n if n else None, wilson_interval(k, n)))
    return out


def _stable_key(r: PairRow) -> str:
    return hashlib.sha256(f"{r.subset}\x1f{r.id}".encode()).hexdigest()


def margin_points(rows: Sequence[PairRow], limit: int = 400) -> list[tuple[float, float]]:
    """(tokens chosen − rejected, score margin) for at most `limit` pairs, picked by a hash of
    their ids (the same pairs every time, and a 9,000-pair subset does not swamp the page)."""
    pairs = sorted(measured_pairs(rows), key=_stable_key)[:limit]
    return [(float(r.lengths[0] - r.lengths[1]), r.scores[0] - r.scores[1]) for r in pairs]


def binned_margins(rows: Sequence[PairRow], bins: int = 6) -> list[tuple[float, float, float, float]]:
    """(median length difference, mean margin, lo, hi) over equal-count bins of the length
    difference; lo/hi is mean ± 1.96 standard errors."""
    pts = sorted((float(r.lengths[0] - r.lengths[1]), r.scores[0] - r.scores[1]) for r in measured_pairs(rows))
    if not pts:
        return []
    bins = max(1, min(bins, len(pts) // 5 or 1))
    out = []
    for b in range(bins):
        chunk = pts[b * len(pts) // bins:(b + 1) * len(pts) // bins]
        if not chunk:
            continue
        xs, ys = [x for x, _ in chunk], [y for _, y in chunk]
        mean = sum(ys) / len(ys)
        sd = math.sqrt(sum((y - mean) ** 2 for y in ys) / (len(ys) - 1)) if len(ys) > 1 else 0.0
        half = 1.96 * sd / math.sqrt(len(ys))
        out.append((xs[len(xs) // 2], mean, mean - half, mean + half))
    return out


def length_correlation(rows: Sequence[PairRow]) -> float | None:
    """Pearson correlation of length difference and score margin (None below 3 pairs or no spread)."""
    pts = [(float(r.lengths[0] - r.lengths[1]), r.scores[0] - r.scores[1]) for r in measured_pairs(rows)]
    if len(pts) < 3:
        return None
    mx, my = sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts)
    sxy = sum((x - mx) * (y - my) for x, y in pts)
    sxx, syy = sum((x - mx) ** 2 for x, _ in pts), sum((y - my) ** 2 for _, y in pts)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None
