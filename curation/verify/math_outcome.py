"""The outcome of comparing two answers, and the comparisons that need no sympy.

Kept apart from `math_equiv` (which imports sympy, seconds to load) so that registering the
math subsets, and the parent side of `math_worker`, never load sympy: only the worker child does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rbkit.curation.verify.math_normalize import clean

Verdict = Literal["equal", "unequal", "timeout", "error"]
MAX_ANSWER_CHARS = 400  # longer "answers" are prose or runaway output: compared as text only


@dataclass(frozen=True)
class Outcome:
    """The comparison result with the evidence recorded on rows and in dropped.jsonl."""

    verdict: Verdict
    method: str  # how the verdict was reached: text, shape, exact, numeric, samples, ...
    candidate: str  # canonical spellings that were compared
    reference: str
    note: str = ""

    def to_record(self) -> dict[str, str]:
        rec = {
            "verdict": self.verdict,
            "method": self.method,
            "candidate": self.candidate,
            "reference": self.reference,
        }
        if self.note:
            rec["note"] = self.note
        return rec


def quick_outcome(candidate: str, reference: str) -> Outcome | None:
    """The verdict when spelling alone decides (no sympy): same canonical text, or too long."""
    a, b = clean(candidate), clean(reference)
    if a.text == b.text:  # flags cannot separate them: "50\\%" and "50" read the same way too
        return Outcome("equal", "text", a.text, b.text)
    if len(a.text) > MAX_ANSWER_CHARS or len(b.text) > MAX_ANSWER_CHARS:
        return Outcome(
            "unequal",
            "text",
            a.text[:MAX_ANSWER_CHARS],
            b.text[:MAX_ANSWER_CHARS],
            "answer too long to parse",
        )
    return None
