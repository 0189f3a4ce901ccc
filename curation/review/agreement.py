"""Agreement: between reviewers (percent agreement, Cohen's kappa for each pair of reviewers),
and of blind reviewers with the build's label (share of picks that found the labelled answer).

Cohen's kappa is defined for two raters, so with several reviewers it is computed for every
pair of reviewers over the items both answered, and summarized as the item-weighted mean.
Percent agreement counts, over all such comparisons, how often two reviewers gave the same
label. Kappa is None when chance agreement is 1 (both reviewers used one single label).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from rbkit.curation.gates import wilson


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


def _with_label(labels: list[str]) -> dict[str, Any]:
    agree, disagree = labels.count("chosen"), labels.count("rejected")
    picked = agree + disagree
    lo, hi = wilson(agree, picked)
    return {
        "decisions": len(labels),
        "picked": picked,
        "agree": agree,
        "rate": round(agree / picked, 4) if picked else None,
        "ci95": [round(lo, 4), round(hi, 4)] if picked else None,
        "no_pick": len(labels) - picked,
    }


def label_agreement(outcomes: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """How often blind decisions picked the answer the build labelled better.

    `outcomes` are (subset, label) of decisions made blind. A pick is "chosen" (agrees) or
    "rejected" (a rejected answer judged better); ties and invalid rows pick nothing and are
    counted apart. The rate is agree / picked with a 95% Wilson interval, overall and by subset.
    """
    by_subset: dict[str, list[str]] = {}
    for subset, label in outcomes:
        by_subset.setdefault(subset, []).append(label)
    everything = [label for labels in by_subset.values() for label in labels]
    return {**_with_label(everything), "by_subset": {name: _with_label(by_subset[name]) for name in sorted(by_subset)}}
