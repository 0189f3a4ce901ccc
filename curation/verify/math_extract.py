"""Final-answer extraction from math solutions.

Human MATH solutions put the answer in `\\boxed{...}` (sometimes `\\fbox{...}`); PRM800K's
GPT-4 generations end with a `# Answer` section; free-form model text often says "The answer
is X". Extraction must be exact about braces (answers such as `\\frac{1}{\\sqrt{2}}` or
`\\{1,2\\}` nest or escape them), so the boxed scanner matches braces rather than using a
regular expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Method = Literal["answer-section", "boxed", "the-answer-is"]


@dataclass(frozen=True)
class Extracted:
    """An extracted final answer and how it was found (recorded as evidence)."""

    answer: str
    method: Method


_BOX_COMMANDS = ("\\boxed", "\\fbox")
_ANSWER_HEADER = re.compile(r"^[ \t]*#[ \t]*Answer[ \t]*:?[ \t]*$", re.MULTILINE)
_THE_ANSWER_IS = re.compile(r"\b[Tt]he\s+(?:final\s+)?answer\s+is\s*:?\s*", re.MULTILINE)


def balanced_group(text: str, start: int) -> tuple[str, int] | None:
    """The contents of the `{...}` group opening at `text[start]`, and the index after it.

    `\\{` and `\\}` are literal braces in LaTeX and do not open or close groups.
    Returns None when the group is never closed.
    """
    if start >= len(text) or text[start] != "{":
        return None
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2  # skip the escaped character (\{, \}, \\ ...)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
        i += 1
    return None


def _last_box_start(text: str) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    for cmd in _BOX_COMMANDS:
        # A match must not continue as a longer command name (\boxedsomething).
        for m in re.finditer(re.escape(cmd) + r"(?![A-Za-z])", text):
            if best is None or m.start() > best[0]:
                best = (m.start(), cmd)
    return best


def extract_boxed(text: str) -> str | None:
    """The argument of the last `\\boxed`/`\\fbox` in `text` (braced or `\\boxed 5` form)."""
    found = _last_box_start(text)
    if found is None:
        return None
    pos, cmd = found
    i = pos + len(cmd)
    while i < len(text) and text[i] in " \t":
        i += 1
    if i < len(text) and text[i] == "{":
        group = balanced_group(text, i)
        return group[0].strip() if group else None
    # `\boxed 5` / `\boxed5`: the argument runs to the end of the math or the line.
    m = re.match(r"[^\s$]+", text[i:])
    return m.group(0) if m else None


def extract_answer_section(text: str) -> str | None:
    """The text after the last `# Answer` header (PRM800K generations), or None."""
    headers = list(_ANSWER_HEADER.finditer(text))
    if not headers:
        return None
    body = text[headers[-1].end() :].strip()
    return body or None


def extract_the_answer_is(text: str) -> str | None:
    """X from the last "The answer is X" sentence, without math delimiters or final period."""
    matches = list(_THE_ANSWER_IS.finditer(text))
    if not matches:
        return None
    rest = text[matches[-1].end() :]
    boxed = extract_boxed(rest)
    if boxed is not None:
        return boxed
    line = rest.split("\n", 1)[0].strip()
    if line.startswith("$"):
        close = line.find("$", 1) if not line.startswith("$$") else line.find("$$", 2)
        if close > 0:
            inner = line[2:close] if line.startswith("$$") else line[1:close]
            return inner.strip() or None
    # A sentence ends at ". " or a final "."; decimals like 0.5 keep their point.
    line = re.split(r"\.(?:\s|$)", line, maxsplit=1)[0].strip()
    return line or None


def extract_answer(text: str) -> Extracted | None:
    """The final answer of a solution, trying the most explicit markers first.

    A `# Answer` section is the generation's own declaration of its final answer, so it wins
    over a `\\boxed{}` earlier in the text; "The answer is" is the weakest signal.
    """
    section = extract_answer_section(text)
    if section is not None:
        # The section itself may box its answer.
        return Extracted(extract_boxed(section) or section, "answer-section")
    boxed = extract_boxed(text)
    if boxed is not None and boxed != "":
        return Extracted(boxed, "boxed")
    said = extract_the_answer_is(text)
    if said is not None:
        return Extracted(said, "the-answer-is")
    return None
