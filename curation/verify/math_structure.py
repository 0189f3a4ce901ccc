"""The shape of an answer: a number, a tuple, an interval, a set, a matrix, an equation, a word.

Shapes are compared before values: `(1,2]` and `(1,2)` hold the same numbers but are
different intervals; `1, 2` (all solutions) is a set while `(1, 2)` (a point) is ordered.
`parse_shape` works on the output of `math_normalize.clean` and never touches sympy, so it
cannot hang; leaves stay LaTeX strings for `math_latex` to turn into values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

OPENERS = "([{"
CLOSERS = ")]}"


class ShapeError(ValueError):
    """Unbalanced brackets or an empty part: the answer cannot be read structurally."""


@dataclass(frozen=True)
class Scalar:
    text: str


@dataclass(frozen=True)
class Text:
    words: str  # lower-case, letters and digits only


@dataclass(frozen=True)
class Choice:
    letter: str  # multiple-choice answer, upper case


@dataclass(frozen=True)
class BaseNumber:
    digits: str  # upper case, no leading zeros
    base: int


@dataclass(frozen=True)
class Ordered:
    """A tuple/point `(a, b)` or an interval `(a, b]`: brackets and order matter."""

    open: str
    close: str
    items: tuple[Shape, ...]


@dataclass(frozen=True)
class Unordered:
    """A set `\\{a, b\\}`, a list of all solutions `a, b`, or the two values of `a \\pm b`."""

    items: tuple[Shape, ...]


@dataclass(frozen=True)
class SetUnion:
    items: tuple[Shape, ...]


@dataclass(frozen=True)
class Matrix:
    rows: tuple[tuple[Shape, ...], ...]


@dataclass(frozen=True)
class Equation:
    lhs: str
    rhs: str


Shape = Union[Scalar, Text, Choice, BaseNumber, Ordered, Unordered, SetUnion, Matrix, Equation]  # noqa: UP007

_BASE_NUMBER = re.compile(r"\(?([0-9A-Z]*[0-9][0-9A-Z]*)\)?_\{?(\d+)\}?")
_MATRIX = re.compile(r"\\begin\{([pbvBV]?matrix|array)\}(?:\{[lcr|]*\})?(.*)\\end\{\1\}", re.DOTALL)
_WORDS = re.compile(r"[A-Za-z]{3,}(?: [A-Za-z]+)*|[A-Za-z]+(?: [A-Za-z]+)+")
_CHOICE = re.compile(r"\(([A-Ea-e])\)|([A-E])")


def _depth_changes(s: str) -> list[int]:
    """Bracket depth at each character (a closer already counts as closed).

    `\\{`/`\\}` count as brackets too; so do `(` and `]` of a half-open interval.
    """
    depths = []
    depth = 0
    for ch in s:
        if ch in CLOSERS:
            depth -= 1
        depths.append(depth)
        if ch in OPENERS:
            depth += 1
        if depth < 0:
            raise ShapeError(f"unbalanced brackets in {s!r}")
    if depth != 0:
        raise ShapeError(f"unbalanced brackets in {s!r}")
    return depths


def split_top(s: str, sep: str) -> list[str]:
    """Split at `sep` where no bracket is open (commands such as `\\cup` match whole names)."""
    depths = _depth_changes(s)
    parts, start, i = [], 0, 0
    is_command = sep.startswith("\\") and sep[-1].isalpha()
    while i < len(s):
        if depths[i] == 0 and s.startswith(sep, i):
            end = i + len(sep)
            escaped = not sep.startswith("\\") and i > 0 and s[i - 1] == "\\"
            longer_name = is_command and end < len(s) and s[end].isalpha()
            if not escaped and not longer_name:
                parts.append(s[start:i])
                start = i = end
                continue
        i += 1
    parts.append(s[start:])
    return parts


def enclosing(s: str) -> tuple[str, str, str] | None:
    """(open, close, inside) when one bracket pair encloses all of `s`."""
    if len(s) < 2:
        return None
    if s.startswith("\\{") and s.endswith("\\}"):
        inner = s[2:-2]
        try:
            _depth_changes(inner)
        except ShapeError:
            return None
        return "\\{", "\\}", inner
    if s[0] not in "([" or s[-1] not in ")]":
        return None
    depths = _depth_changes(s)
    # The first bracket must stay open until the last character.
    if any(d == 0 for d in depths[1:-1]):
        return None
    return s[0], s[-1], s[1:-1]


def _flatten(items: list[Shape]) -> tuple[Shape, ...]:
    out: list[Shape] = []
    for item in items:
        out.extend(item.items if isinstance(item, Unordered) else (item,))
    return tuple(out)


def _expand_pm(s: str) -> list[str] | None:
    parts = split_top(s, "\\pm")
    if len(parts) == 1:
        parts = split_top(s, "\\mp")
    if len(parts) != 2:
        return None
    return [parts[0] + "+" + parts[1], parts[0] + "-" + parts[1]]


_VARIABLE = re.compile(r"[A-Za-z](?:_\w+)?")
_COMPARISON = re.compile(r"<=|>=|<|>")


def _inequality(s: str) -> Ordered | None:
    """`x > 2` -> (2, \\infty); `-1 <= x < 3` -> [-1, 3); None for anything else."""
    depths = _depth_changes(s)
    cuts = [m for m in _COMPARISON.finditer(s) if depths[m.start()] == 0]
    if not cuts or len(cuts) > 2:
        return None
    parts = [s[: cuts[0].start()]]
    parts += [s[a.end() : b.start()] for a, b in zip(cuts, cuts[1:], strict=False)]
    parts.append(s[cuts[-1].end() :])
    parts = [p.strip() for p in parts]
    ops = [m.group(0) for m in cuts]
    if any(not p for p in parts):
        raise ShapeError(f"empty side of an inequality in {s!r}")
    upward = {op[0] for op in ops}
    if len(upward) != 1:
        return None  # "a < x > b" is not an interval
    if upward == {">"}:  # read right to left: b > x >= a is a <= x < b
        parts, ops = parts[::-1], ["<" + op[1:] for op in ops[::-1]]
    if len(parts) == 3:
        if not _VARIABLE.fullmatch(parts[1]):
            return None
        lo, hi = parts[0], parts[2]
        return Ordered(
            "[" if ops[0] == "<=" else "(", "]" if ops[1] == "<=" else ")", (Scalar(lo), Scalar(hi))
        )
    left, right = parts
    if _VARIABLE.fullmatch(left):  # x < b
        return Ordered("(", "]" if ops[0] == "<=" else ")", (Scalar("-\\infty"), Scalar(right)))
    if _VARIABLE.fullmatch(right):  # a < x
        return Ordered("[" if ops[0] == "<=" else "(", ")", (Scalar(left), Scalar("\\infty")))
    return None


def parse_shape(s: str, *, was_text: bool = False) -> Shape:
    """Read the shape of a cleaned answer; leaves are LaTeX strings (Scalar/Equation)."""
    s = s.strip()
    if not s:
        raise ShapeError("empty answer part")
    m = _BASE_NUMBER.fullmatch(s)
    if m:
        return BaseNumber(m.group(1).lstrip("0") or "0", int(m.group(2)))
    m = _MATRIX.fullmatch(s)
    if m:
        rows = [r for r in m.group(2).split("\\\\") if r.strip()]
        return Matrix(tuple(tuple(parse_shape(c) for c in r.split("&")) for r in rows))
    union = split_top(s, "\\cup")
    if len(union) > 1:
        return SetUnion(tuple(parse_shape(p) for p in union))
    enclosed = enclosing(s)
    if enclosed and enclosed[0] == "\\{":
        inner = enclosed[2]
        return Unordered(
            _flatten([parse_shape(p) for p in split_top(inner, ",")]) if inner.strip() else ()
        )
    if enclosed:
        parts = split_top(enclosed[2], ",")
        if len(parts) > 1:
            return Ordered(enclosed[0], enclosed[1], tuple(parse_shape(p) for p in parts))
    parts = split_top(s, ",")
    if len(parts) > 1:
        return Unordered(_flatten([parse_shape(p) for p in parts]))
    interval = _inequality(s)
    if interval is not None:
        return interval
    sides = split_top(s, "=")
    if len(sides) > 1:
        if not sides[0].strip() or not sides[-1].strip():
            raise ShapeError(f"empty side of an equation in {s!r}")
        return Equation(sides[0].strip(), sides[-1].strip())
    expanded = _expand_pm(s)
    if expanded is not None:
        return Unordered(_flatten([parse_shape(p) for p in expanded]))
    m = _CHOICE.fullmatch(s)  # "(C)", "(c)" or a bare capital "C"
    if m:
        return Choice((m.group(1) or m.group(2)).upper())
    if (was_text and re.search(r"[A-Za-z]{2,}", s)) or _WORDS.fullmatch(s):
        return Text(re.sub(r"[^a-z0-9]", "", s.lower()))
    return Scalar(s)
