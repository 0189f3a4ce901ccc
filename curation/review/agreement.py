"""Inter-reviewer agreement: percent agreement and Cohen's kappa for each pair of reviewers.

Cohen's kappa is defined for two raters, so with several reviewers it is computed for every
pair of reviewers over the items both answered, and summarized as the item-weighted mean.
Percent agreement counts, over all such comparisons, how often two reviewers gave the same
label. Kappa is None when chance agreement is 1 (both reviewers used one single label).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any


@dataclass(frozen=True)
class PairAgreement:
    reviewers: tuple[str, str]
    items: int
    agreement: float
    kappa: float | None


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa of two equally long label sequences (None when undefined)."""
    if len(a) != len(b):
        raise ValueError(f"kappa needs two equally long label lists, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in count_a) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def agreement(votes: Mapping[Any, Mapping[str, str]]) -> dict[str, Any]:
    """Summarize agreement from item -> {reviewer: label} (items with one answer are skipped)."""
    reviewers = sorted({r for answers in votes.values() for r in answers})
    pairs: list[PairAgreement] = []
    for r1, r2 in combinations(reviewers, 2):
        common = [item for item, answers in votes.items() if r1 in answers and r2 in answers]
        if not common:
            continue
        a = [votes[item][r1] for item in common]
        b = [votes[item][r2] for item in common]
        same = sum(x == y for x, y in zip(a, b, strict=True))
        pairs.append(PairAgreement((r1, r2), len(common), same / len(common), cohen_kappa(a, b)))
    comparisons = sum(p.items for p in pairs)
    kappas = [(p.kappa, p.items) for p in pairs if p.kappa is not None]
    return {
        "items_with_several_answers": sum(1 for answers in votes.values() if len(answers) >= 2),
        "reviewers": reviewers,
        "percent_agreement": round(100.0 * sum(p.agreement * p.items for p in pairs) / comparisons, 2)
        if comparisons
        else None,
        "cohen_kappa": round(sum(k * n for k, n in kappas) / sum(n for _, n in kappas), 4) if kappas else None,
        "pairs": [
            {
                "reviewers": list(p.reviewers),
                "items": p.items,
                "percent_agreement": round(100.0 * p.agreement, 2),
                "cohen_kappa": round(p.kappa, 4) if p.kappa is not None else None,
            }
            for p in pairs
        ],
    }
