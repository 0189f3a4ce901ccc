"""Uncertainty: seeded bootstrap CIs and paired tests between two models on the same pairs.

Subsets hold 28-464 pairs, so a 2-point gap is often noise; every accuracy gets a 95%
percentile-bootstrap CI, and `rbkit compare` tests differences on the same pair ids.
Random streams derive from (seed, subset name) only, so a subset's CI does not change when
other subsets are added or removed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
from rbkit.eval.scoring import TiesTable, ties_score

_CHUNK = 256  # resamples drawn at once (bounded memory for 9,000-row prior sets)


def seeded_rng(seed: int, name: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}\x1f{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def resample_indices(n: int, resamples: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Index matrices (chunk, n) of rows drawn with replacement, `resamples` rows in all."""
    out, left = [], resamples
    while left > 0:
        k = min(_CHUNK, left)
        out.append(rng.integers(0, n, size=(k, n)))
        left -= k
    return out


def bootstrap_means(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of `resamples` bootstrap resamples of `values` (shape (resamples,))."""
    values = np.asarray(values, dtype=np.float64)
    if resamples == 0:
        return np.empty(0)
    if values.size == 0:
        return np.full(resamples, np.nan)
    return np.concatenate([values[idx].mean(axis=1) for idx in resample_indices(values.size, resamples, rng)])


def percentile_ci(samples: np.ndarray, confidence: float = 0.95) -> tuple[float, float] | None:
    samples = np.asarray(samples, dtype=np.float64)
    samples = samples[~np.isnan(samples)]
    if samples.size == 0:
        return None
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(samples, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def weighted_samples(samples: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray | None:
    """Combine per-key bootstrap samples with fixed weights (keys without samples are skipped)."""
    used = {k: w for k, w in weights.items() if k in samples}
    total = sum(used.values())
    if not used or total <= 0:
        return None
    return sum(samples[k] * w for k, w in used.items()) / total


def bootstrap_ties(table: TiesTable, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Ties scores over prompts resampled with replacement."""
    n = len(table.pids)
    if resamples == 0:
        return np.empty(0)
    if n == 0:
        return np.full(resamples, np.nan)
    out = []
    for idx in resample_indices(n, resamples, rng):
        for row in idx:
            out.append(ties_score(table, [table.pids[i] for i in row]).score)
    return np.asarray(out)


# --- paired tests ------------------------------------------------------------------------------


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (binomial, p=0.5)."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / (2**n)
    return min(1.0, 2.0 * tail)


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (family-wise error), in the input order.

    Many subsets are tested at once, so a raw p < 0.05 somewhere is expected by chance;
    a verdict uses the adjusted value. None (no test) stays None and is not counted.
    """
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    m = len(idx)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: (pvalues[i], i))):
        running = max(running, min(1.0, (m - rank) * float(pvalues[i])))  # type: ignore[arg-type]
        out[i] = running
    return out


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion: sane at 0/n and n/n, where a bootstrap collapses
    to a point (small length-bias groups, best-of-N buckets)."""
    if n <= 0:
        return None
    z = _normal_quantile(0.5 + confidence / 2.0)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _normal_quantile(q: float) -> float:
    """Inverse standard normal CDF (bisection on erf; exact to 1e-12, no scipy at run time)."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if 0.5 * (1.0 + math.erf(mid / math.sqrt(2.0))) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def paired_bootstrap_p(diffs: np.ndarray) -> float | None:
    """Two-sided bootstrap p-value for a mean difference of zero from resampled differences."""
    diffs = np.asarray(diffs)
    diffs = diffs[~np.isnan(diffs)]
    if diffs.size == 0:
        return None
    below, above = float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0))
    return min(1.0, 2.0 * min(below, above))


def paired_resample_means(
    a: Sequence[float], b: Sequence[float], resamples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap means of A and B over the same resampled pair indices."""
    a_arr, b_arr = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if resamples == 0:
        return np.empty(0), np.empty(0)
    if a_arr.size == 0:
        nan = np.full(resamples, np.nan)
        return nan, nan
    ma, mb = [], []
    for idx in resample_indices(a_arr.size, resamples, rng):
        ma.append(a_arr[idx].mean(axis=1))
        mb.append(b_arr[idx].mean(axis=1))
    return np.concatenate(ma), np.concatenate(mb)
