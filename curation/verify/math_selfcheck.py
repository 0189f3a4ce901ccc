"""Self-check of the math verifier on the 500 MATH test problems PRM800K uses.

Positive check: the final answer extracted from each human reference `solution` must be
equivalent to the dataset's own `answer` field. Every miss is listed with both strings and
the comparer's verdict, so each can be explained.

Negative control: each problem's answer is compared with the next problem's answer (a
rotation of the file). Different problems' answers should compare unequal; every "equal" is
listed so a reviewer can see whether the two values really are the same number.

`bench/math500_selfcheck.py` prints these figures; `tests/curation/verify/test_math_selfcheck.py`
asserts the positive rate.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rbkit.curation.verify.math_extract import extract_answer
from rbkit.curation.verify.math_worker import DEFAULT_TIMEOUT_S, EquivalenceWorker


@dataclass(frozen=True)
class Miss:
    unique_id: str
    answer: str
    extracted: str | None
    verdict: str
    note: str

    def line(self) -> str:
        got = "NO ANSWER EXTRACTED" if self.extracted is None else repr(self.extracted)
        return f"{self.unique_id}: extracted {got} vs answer {self.answer!r}: {self.verdict} {self.note}".rstrip()


@dataclass
class SelfCheck:
    total: int = 0
    extracted: int = 0
    equivalent: int = 0
    misses: list[Miss] = field(default_factory=list)
    methods: Counter[str] = field(default_factory=Counter)
    control_pairs: int = 0
    control_unequal: int = 0
    control_equal: list[tuple[str, str, str, str]] = field(default_factory=list)  # ids and answers
    control_failed: list[Miss] = field(default_factory=list)  # timeouts/errors in the control

    @property
    def rate(self) -> float:
        return self.equivalent / self.total if self.total else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "extracted": self.extracted,
            "equivalent": self.equivalent,
            "rate": round(self.rate, 4),
            "methods": dict(sorted(self.methods.items())),
            "misses": [m.line() for m in self.misses],
            "control_pairs": self.control_pairs,
            "control_unequal": self.control_unequal,
            "control_equal": [f"{a} {x!r} == {b} {y!r}" for a, x, b, y in self.control_equal],
            "control_failed": [m.line() for m in self.control_failed],
        }


def read_problems(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def run_selfcheck(
    path: Path,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    control: bool = True,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> SelfCheck:
    """Run both checks over a MATH test JSONL file (fields problem, solution, answer, unique_id)."""
    rows = read_problems(path)
    result = SelfCheck(total=len(rows))
    with EquivalenceWorker(timeout_s=timeout_s) as worker:
        for i, rec in enumerate(rows):
            progress(i, len(rows))
            uid, answer = str(rec.get("unique_id", f"row {i + 1}")), str(rec["answer"])
            got = extract_answer(rec["solution"])
            if got is None:
                result.misses.append(Miss(uid, answer, None, "no-answer", ""))
                continue
            result.extracted += 1
            outcome = worker.compare(got.answer, answer)
            result.methods[outcome.method] += 1
            if outcome.verdict == "equal":
                result.equivalent += 1
            else:
                result.misses.append(Miss(uid, answer, got.answer, outcome.verdict, outcome.note))
        if control and len(rows) > 1:
            for i, rec in enumerate(rows):
                other = rows[(i + 1) % len(rows)]
                outcome = worker.compare(str(rec["answer"]), str(other["answer"]))
                result.control_pairs += 1
                if outcome.verdict == "unequal":
                    result.control_unequal += 1
                elif outcome.verdict == "equal":
                    result.control_equal.append(
                        (
                            str(rec.get("unique_id")),
                            rec["answer"],
                            str(other.get("unique_id")),
                            other["answer"],
                        )
                    )
                else:
                    result.control_failed.append(
                        Miss(
                            str(rec.get("unique_id")),
                            str(other["answer"]),
                            rec["answer"],
                            outcome.verdict,
                            outcome.note,
                        )
                    )
        progress(len(rows), len(rows))
    return result
