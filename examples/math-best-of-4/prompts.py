"""Prompt extraction for the math best-of-4 example: MATH500 problems with their reference.

Reads PRM800K's `math_splits/test.jsonl` (MATH500, the file rbkit's math-prm subset pins) from
the source mirror, hash-checked, and keeps the first LIMIT problems of the chosen difficulty
level in file order that have no `[asy]` diagram (a text-only model cannot see one). Each prompt record carries what the spec needs later:

    prompt_id   MATH's unique_id ("test/algebra/1547.json"), stable across rebuilds
    prompt      what the model is asked: the problem and `ANSWER_INSTRUCTION`
    problem     the problem alone: the subset's prompt (the instruction is for the sampler,
                and the reference solution does not follow it)
    solution    the human reference solution (chosen in every row)
    answer      the reference final answer the math verifier compares samples with
    subject, level

    RBKIT_SOURCES=/path/to/sources python examples/math-best-of-4/prompts.py --limit 4 --out prompts.jsonl
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/prompt_files.py

from prompt_files import main  # noqa: E402
from rbkit.core.errors import RbkitError  # noqa: E402
from rbkit.curation.sources import resolve  # noqa: E402
from rbkit.subsets.prm_math import MATH_TEST, read_math_problems  # noqa: E402

DEFAULT_LIMIT = 4
LEVEL = 1  # MATH's easiest level: short problems, so a laptop CPU samples them in minutes
# A 135M model rarely reaches a final answer within a laptop's token budget when it writes a
# full solution; asked for one sentence it states one ("The answer is 11."), which the math
# verifier can judge. With a bigger model or an endpoint, drop this and let it show its work.
ANSWER_INSTRUCTION = 'Reply in one sentence that starts with "The answer is".'


def select(limit: int, level: int = LEVEL) -> list[dict[str, Any]]:
    """The first `limit` problems of `level` without an [asy] diagram, in file order."""
    problems = sorted(read_math_problems(resolve(MATH_TEST), MATH_TEST.mirror_path).values(), key=lambda p: p.row)
    picked = [p for p in problems if p.level == level and "[asy]" not in p.problem][:limit]
    if len(picked) < limit:
        raise RbkitError(f"{MATH_TEST.mirror_path}: only {len(picked)} level-{level} problems without a diagram, {limit} asked")
    return [
        {
            "prompt_id": p.unique_id,
            "prompt": f"{p.problem}\n\n{ANSWER_INSTRUCTION}",
            "problem": p.problem,
            "solution": p.solution,
            "answer": p.answer,
            "subject": p.subject,
            "level": p.level,
        }
        for p in picked
    ]


if __name__ == "__main__":
    raise SystemExit(main("MATH500 prompts for the math best-of-4 example.", select, DEFAULT_LIMIT))
