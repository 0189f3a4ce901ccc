"""From what the judge wrote to row credits and the `judge` block of results.json.

Pairwise: each order's verdict gives the chosen answer 1 (it won), 0 (it lost) or 0.5 (the
verdict was unparseable, or the request failed after its retries), the original's rule for
an unparseable verdict; a row's credit is the mean over its orders, so a judge that flips with
the order earns 0.5 and the row counts as a tie. Beside accuracy (which flows through the usual
aggregation), each subset and the whole run report:
- position_consistency: of the pairs judged in both orders with both verdicts parsed, the share
  whose winner is the same answer both times (null with one order or none parsed);
- first_position_rate: of all parsed verdicts, the share that picked the answer shown first
  (0.5 is unbiased; null when none parsed);
- unparseable, errors and requests: counts of requests.
Ratings: each completion's score is its 1-10 rating (0 when unparseable or failed, below every
real rating); rows are credited by the usual pair or best-of-N rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rbkit.eval.aggregate import RowScore, credit_rows
from rbkit.eval.data import Pair
from rbkit.eval.generation.types import Completion
from rbkit.eval.judge.plan import CHOSEN_FIRST, Mode, Planned
from rbkit.eval.judge.verdicts import parse_rating, parse_verdict
from rbkit.eval.scoring import TiesPolicy

UNRATED = 0.0  # the score of a rating that could not be read: below every real rating


@dataclass(frozen=True)
class Judged:
    """One request's outcome, as recorded in judgments.jsonl."""

    row: int
    slot: str
    request_id: str
    text: str
    finish_reason: str
    value: str | float | None  # "chosen"/"rejected" (pairwise), a rating, or None
    first_picked: bool | None  # pairwise: the verdict picked the answer shown first
    problem: str  # "" | "unparseable: ..." | "error: ..."
    cached: bool

    def to_record(self, pair: Pair) -> dict[str, Any]:
        return {"subset": pair.subset, "id": pair.id, "slot": self.slot, "request_id": self.request_id,
                "value": self.value, "first_picked": self.first_picked, "problem": self.problem,
                "finish_reason": self.finish_reason, "text": self.text}


def judge_one(planned: Planned, completion: Completion, mode: Mode) -> Judged:
    base = dict(row=planned.row, slot=planned.slot, request_id=planned.request.id, text=completion.text,
                finish_reason=completion.finish_reason, cached=completion.cached)
    if completion.finish_reason == "error":
        return Judged(**base, value=None, first_picked=None, problem=f"error: {completion.error or 'request failed'}")
    if mode == "ratings":
        rating = parse_rating(completion.text)
        problem = "" if rating.value is not None else f"unparseable: {rating.reason}"
        return Judged(**base, value=rating.value, first_picked=None, problem=problem)
    verdict = parse_verdict(completion.text)
    if verdict.winner is None:
        return Judged(**base, value=None, first_picked=None, problem=f"unparseable: {verdict.reason}")
    first = verdict.winner == "A"
    chosen_won = first == (planned.slot == CHOSEN_FIRST)
    return Judged(**base, value="chosen" if chosen_won else "rejected", first_picked=first, problem="")


def judge_all(planned: Sequence[Planned], completions: Sequence[Completion], mode: Mode) -> list[Judged]:
    return [judge_one(p, c, mode) for p, c in zip(planned, completions, strict=True)]


def _by_row(judged: Sequence[Judged], n: int) -> list[list[Judged]]:
    rows: list[list[Judged]] = [[] for _ in range(n)]
    for j in judged:
        rows[j.row].append(j)
    return rows


def pairwise_rows(pairs: Sequence[Pair], judged: Sequence[Judged]) -> list[RowScore]:
    """Credit = mean over orders of 1 (chosen won), 0 (lost), 0.5 (unparseable or failed)."""
    out = []
    for pair, items in zip(pairs, _by_row(judged, len(pairs)), strict=True):
        credits = [1.0 if j.value == "chosen" else 0.0 if j.value == "rejected" else 0.5 for j in items]
        credit = sum(credits) / len(credits)
        out.append(RowScore(pair.id, pair.subset, (credit, 1.0 - credit), 1, credit, credit == 0.5,
                            any(j.finish_reason == "length" for j in items), pair.content_hash))
    return out


def rating_rows(pairs: Sequence[Pair], judged: Sequence[Judged], ties: TiesPolicy) -> list[RowScore]:
    """Ratings as scores (chosen first), credited by the pair or best-of-N rules."""
    per_row = _by_row(judged, len(pairs))
    scores = [[float(j.value) if isinstance(j.value, float) else UNRATED
               for j in sorted(items, key=lambda j: int(j.slot[1:]))] for items in per_row]
    truncated = [any(j.finish_reason == "length" for j in items) for items in per_row]
    return credit_rows(pairs, scores, truncated, ties)


def judge_stats(judged: Sequence[Judged], orders: int, mode: Mode) -> dict[str, Any]:
    """position_consistency, first_position_rate, unparseable, errors, requests for some requests."""
    stats: dict[str, Any] = {
        "position_consistency": None,
        "first_position_rate": None,
        "unparseable": sum(j.problem.startswith("unparseable") for j in judged),
        "errors": sum(j.problem.startswith("error") for j in judged),
        "requests": len(judged),
    }
    if mode != "pairwise":
        return stats
    picks = [j.first_picked for j in judged if j.first_picked is not None]
    if picks:
        stats["first_position_rate"] = sum(picks) / len(picks)
    if orders == 2:
        rows: dict[int, list[Judged]] = {}
        for j in judged:
            rows.setdefault(j.row, []).append(j)
        both = [items for items in rows.values() if len(items) == 2 and all(j.value is not None for j in items)]
        if both:
            stats["position_consistency"] = sum(items[0].value == items[1].value for items in both) / len(both)
    return stats


def judge_block(pairs: Sequence[Pair], judged: Sequence[Judged], orders: int, mode: Mode) -> dict[str, Any]:
    """{"overall": stats, "subsets": {name: stats}} in subset-name order."""
    by_subset: dict[str, list[Judged]] = {}
    for j in judged:
        by_subset.setdefault(pairs[j.row].subset, []).append(j)
    return {
        "overall": judge_stats(judged, orders, mode),
        "subsets": {name: judge_stats(by_subset[name], orders, mode) for name in sorted(by_subset)},
    }
