"""Strict parsers for what a judge wrote: a pairwise verdict or a 1-10 rating.

Only the double-bracketed forms the prompts ask for count (`[[A]]`, `[[B]]`, `[[7]]`; spaces
inside the brackets tolerated). Judges often echo the instructions before answering
('"[[A]]" if assistant A is better, "[[B]]" if ...'), so when the text holds more than one
distinct verdict the last one counts only if it stands alone on the last line that has one;
anything else is unparseable, never guessed. The caller counts an unparseable pairwise verdict
as 0.5 (the original's rule) and reports how many there were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

VERDICT = re.compile(r"\[\[\s*([A-Za-z])\s*\]\]")
RATING = re.compile(r"\[\[\s*(\d+(?:\.\d+)?)\s*\]\]")
RATING_RANGE = (1.0, 10.0)

Side = Literal["A", "B"]


@dataclass(frozen=True)
class Verdict:
    winner: Side | None  # None: unparseable
    reason: str = ""  # why it is unparseable


@dataclass(frozen=True)
class Rating:
    value: float | None  # None: unparseable
    reason: str = ""


def _decisive(text: str, pattern: re.Pattern[str]) -> tuple[str | None, str]:
    """The one token value the text settles on, or (None, why not)."""
    found = [(m.group(1), m.start()) for m in pattern.finditer(text)]
    if not found:
        return None, "no verdict in the required format"
    values = {v for v, _ in found}
    if len(values) == 1:
        return found[-1][0], ""
    last_value, last_at = found[-1]
    line_start = text.rfind("\n", 0, last_at) + 1
    line_end = text.find("\n", last_at)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    if len(pattern.findall(line)) == 1:
        return last_value, ""
    return None, f"conflicting verdicts {sorted(values)} with no single final one"


def parse_verdict(text: str) -> Verdict:
    """`[[A]]` or `[[B]]`; `[[C]]` (a tie, which the prompt does not offer) and conflicts are unparseable."""
    value, why = _decisive(text, VERDICT)
    if value is None:
        return Verdict(None, why)
    value = value.upper()
    if value not in ("A", "B"):
        return Verdict(None, f"verdict [[{value}]] is not one of [[A]], [[B]]")
    return Verdict(value)  # type: ignore[arg-type]


def parse_rating(text: str) -> Rating:
    """A `[[N]]` rating within 1-10 (decimals allowed, as GPT-4 sometimes gives)."""
    value, why = _decisive(text, RATING)
    if value is None:
        return Rating(None, why.replace("verdict", "rating"))
    number = float(value)
    lo, hi = RATING_RANGE
    if not lo <= number <= hi:
        return Rating(None, f"rating {value} is outside {lo:g}-{hi:g}")
    return Rating(number)
