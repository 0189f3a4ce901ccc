"""What to ask a judge for each row: which answer orders, or which completions to rate.

Pairwise mode judges each pair in both orders by default (chosen shown first, then second),
so position bias shows up as disagreement instead of hiding in the accuracy. `orders=1`
reproduces the original's single order, drawn from a seeded hash of the pair id rather than an
unseeded coin, so it is the same on every run and machine. Ratings mode (RewardBench 2) rates
every completion of a row on its own. Request ids are stable (`subset/id#slot`); the sampling
seed derives from them only when sampling is not greedy, so greedy requests that ask the same
thing share one cache entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from rbkit.eval.data import Pair
from rbkit.eval.errors import DatasetError
from rbkit.eval.generation.types import GenerationRequest, SamplingParams
from rbkit.eval.judge.prompts import JudgePrompt, question_text

Mode = Literal["pairwise", "ratings"]
CHOSEN_FIRST = "ab"  # chosen shown as assistant A
CHOSEN_SECOND = "ba"


@dataclass(frozen=True)
class Planned:
    """One request and what it asks about: the row's index and its slot."""

    request: GenerationRequest
    row: int
    slot: str  # "ab" | "ba" (pairwise) or "r<i>" (rating of completion i, chosen first)


def single_order(pair: Pair, seed: int) -> str:
    """The one order `--orders 1` uses for a pair: a seeded hash of its subset and id."""
    digest = hashlib.sha256(f"{seed}\x1f{pair.subset}\x1f{pair.id}".encode()).digest()
    return CHOSEN_FIRST if digest[0] % 2 == 0 else CHOSEN_SECOND


def orders_for(pair: Pair, orders: int, seed: int) -> tuple[str, ...]:
    if orders == 2:
        return (CHOSEN_FIRST, CHOSEN_SECOND)
    if orders == 1:
        return (single_order(pair, seed),)
    raise DatasetError(f"--orders {orders}: expected 1 or 2")


def request_params(base: SamplingParams, request_id: str) -> SamplingParams:
    """Greedy requests keep seed 0 (one cache entry per question); sampled ones get a stable seed."""
    if base.temperature == 0:
        return replace(base, seed=0)
    return replace(base, seed=int.from_bytes(hashlib.sha256(request_id.encode()).digest()[:4], "big"))


def plan_pairwise(pairs: Sequence[Pair], prompt: JudgePrompt, params: SamplingParams, orders: int,
                  seed: int) -> list[Planned]:
    if prompt.kind != "pairwise":
        raise DatasetError(f"judge prompt {prompt.name} grades single answers; pairwise mode needs a pairwise prompt")
    out: list[Planned] = []
    for i, pair in enumerate(pairs):
        if pair.best_of_n or len(pair.chosen) != 1 or len(pair.rejected) != 1:
            raise DatasetError(f"{pair.subset}/{pair.id}: a best-of-N row; judge it with --judge-mode ratings "
                               "(RewardBench 2 rates each completion)")
        question = question_text(pair.prompt)
        for slot in orders_for(pair, orders, seed):
            a, b = (pair.chosen[0], pair.rejected[0]) if slot == CHOSEN_FIRST else (pair.rejected[0], pair.chosen[0])
            rid = f"{pair.subset}/{pair.id}#{slot}"
            messages = prompt.render(question=question, answer_a=a, answer_b=b)
            out.append(Planned(GenerationRequest(rid, messages, request_params(params, rid)), i, slot))
    return out


def plan_ratings(pairs: Sequence[Pair], prompt: JudgePrompt, params: SamplingParams) -> list[Planned]:
    if prompt.kind != "single":
        raise DatasetError(f"judge prompt {prompt.name} compares two answers; ratings mode needs a single-answer prompt")
    out: list[Planned] = []
    for i, pair in enumerate(pairs):
        question = question_text(pair.prompt)
        for k, answer in enumerate(pair.completions):
            rid = f"{pair.subset}/{pair.id}#r{k}"
            messages = prompt.render(question=question, answer=answer)
            out.append(Planned(GenerationRequest(rid, messages, request_params(params, rid)), i, f"r{k}"))
    return out
