"""Single-answer grading: one answer, one 1-10 score, written as MT-Bench judgment records.

This is how the MT-Bench subsets can be rebuilt with any judge when GPT-4's judgments are not
available: each turn-1 answer is graded with MT-Bench's own `single-v1` prompt, and the
records have the fields of FastChat's `model_judgment/*_single.jsonl` (question_id, model,
judge [model, prompt], user_prompt, judgment, score, turn), so the MT-Bench builder reads them
like the original file. An unreadable rating is written as score -1, FastChat's mark for a
failed grade, which the builder counts as ungraded; a failed request is not written at all
(the next run asks it again from the cache's point of view) and is counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rbkit.eval.generation.types import Completion, GenerationRequest, SamplingParams
from rbkit.eval.judge.plan import request_params
from rbkit.eval.judge.prompts import JudgePrompt
from rbkit.eval.judge.verdicts import parse_rating

FAILED_SCORE = -1  # FastChat's score for a judgment it could not read


@dataclass(frozen=True)
class Answer:
    question_id: int
    model: str
    question: str
    answer: str


def grading_requests(items: Sequence[Answer], prompt: JudgePrompt, params: SamplingParams) -> list[GenerationRequest]:
    if prompt.kind != "single":
        raise ValueError(f"judge prompt {prompt.name} is not a single-answer prompt")
    out = []
    for item in items:
        rid = f"mtbench/q{item.question_id}/{item.model}/turn1"
        out.append(GenerationRequest(rid, prompt.render(question=item.question, answer=item.answer),
                                     request_params(params, rid)))
    return out


def judgment_records(items: Sequence[Answer], requests: Sequence[GenerationRequest],
                     completions: Sequence[Completion], judge_model: str,
                     prompt: JudgePrompt) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """FastChat-format records (failed requests left out) and counts of graded/unparseable/errors."""
    records: list[dict[str, Any]] = []
    counts = {"graded": 0, "unparseable": 0, "errors": 0}
    for item, req, done in zip(items, requests, completions, strict=True):
        if done.finish_reason == "error":
            counts["errors"] += 1
            continue
        rating = parse_rating(done.text)
        if rating.value is None:
            counts["unparseable"] += 1
        else:
            counts["graded"] += 1
        records.append({
            "question_id": item.question_id,
            "model": item.model,
            "judge": [judge_model, prompt.name],
            "user_prompt": req.messages[-1].content,
            "judgment": done.text,
            "score": rating.value if rating.value is not None else FAILED_SCORE,
            "turn": 1,
            "prompt_sha256": prompt.sha256,
        })
    return records, counts
