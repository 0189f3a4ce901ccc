"""Are two final answers the same mathematical object?

Order of evidence, cheapest first: equal canonical spelling (`math_normalize.clean`), then
equal shape (`math_structure`), then equal value of every leaf with sympy: exact structural
equality, numeric equality at 40 digits for constants, agreement at fixed sample points for
expressions with variables. A percent sign or degree mark on one side only is read both ways
(`50\\%` = `0.5`, `90^\\circ` = `\\frac{\\pi}{2}`).

Leaves sympy cannot read are compared by canonical spelling and the outcome says so
(`method="text"`), so a reviewer can tell a value match from a spelling match.

This module does sympy work that can run for unbounded time: call it through
`math_worker.EquivalenceWorker`, which enforces a hard time limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sympy
from rbkit.curation.verify.math_latex import LatexParseError, to_sympy
from rbkit.curation.verify.math_normalize import Cleaned, clean
from rbkit.curation.verify.math_outcome import MAX_ANSWER_CHARS as MAX_ANSWER_CHARS
from rbkit.curation.verify.math_outcome import Outcome, quick_outcome
from rbkit.curation.verify.math_outcome import Verdict as Verdict
from rbkit.curation.verify.math_structure import (
    BaseNumber,
    Choice,
    Equation,
    Matrix,
    Ordered,
    Scalar,
    SetUnion,
    Shape,
    ShapeError,
    Text,
    Unordered,
    parse_shape,
)

_DIGITS = 40
# Constants: only rounding noise of a 40-digit evaluation. Variables: sample points carry noise.
_EXACT_TOL = sympy.Float("1e-30", _DIGITS)
_SAMPLE_TOL = sympy.Float("1e-20", _DIGITS)
# Deterministic sample points for expressions with free variables (exact decimals): values
# away from 0, 1 and pi/2 avoid accidental zeros and poles; a point that still hits a pole is
# skipped.
_SAMPLES: tuple[tuple[str, ...], ...] = (
    ("0.3711", "1.2917", "-0.8431", "2.1013", "0.5779", "-1.6189"),
    ("1.7303", "-0.4421", "0.9137", "-2.3311", "1.1093", "0.6673"),
    ("-1.1467", "2.5153", "0.2081", "0.7919", "-0.3347", "1.9031"),
)


@dataclass
class _Trace:
    """How leaves were decided, reported in Outcome.method and Outcome.note."""

    methods: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def equivalent(candidate: str, reference: str) -> Outcome:
    """Compare two extracted answers (LaTeX or plain text). May run long: see module doc."""
    quick = quick_outcome(candidate, reference)
    if quick is not None:
        return quick
    a, b = clean(candidate), clean(reference)
    try:
        sa = parse_shape(a.text, was_text=a.was_text)
        sb = parse_shape(b.text, was_text=b.was_text)
    except ShapeError as exc:
        return Outcome("unequal", "text", a.text, b.text, f"unreadable shape: {exc}")
    trace = _Trace()
    readings = _readings(a, b)
    try:
        same = _same(sa, sb, lambda x, y: _same_scalar(x, y, readings, trace), trace)
    except ShapeError as exc:
        return Outcome("unequal", "text", a.text, b.text, f"unreadable shape: {exc}")
    method = "+".join(sorted(trace.methods)) or "shape"
    note = "; ".join(dict.fromkeys(trace.notes))[:500]
    return Outcome("equal" if same else "unequal", method, a.text, b.text, note)


# --- shapes ----------------------------------------------------------------------------------

LeafCmp = Callable[[str, str], bool]


def _same(a: Shape, b: Shape, leaf: LeafCmp, trace: _Trace) -> bool:
    # A one-element set or list is its element: "\\{2\\}" answers "2".
    if isinstance(a, Unordered) and len(a.items) == 1 and not isinstance(b, Unordered):
        return _same(a.items[0], b, leaf, trace)
    if isinstance(b, Unordered) and len(b.items) == 1 and not isinstance(a, Unordered):
        return _same(a, b.items[0], leaf, trace)
    if isinstance(a, Scalar) and isinstance(b, Scalar):
        return leaf(a.text, b.text)
    if isinstance(a, Equation) or isinstance(b, Equation):
        return _same_equation(a, b, leaf, trace)
    if isinstance(a, (Text, Choice)) or isinstance(b, (Text, Choice)):
        trace.methods.add("words")
        return _words(a) == _words(b)
    if isinstance(a, BaseNumber) or isinstance(b, BaseNumber):
        return _same_base_number(a, b)
    if isinstance(a, Matrix) or isinstance(b, Matrix):
        return _same_matrix(a, b, leaf, trace)
    if isinstance(a, Ordered) and isinstance(b, Ordered):
        return (
            a.open == b.open
            and a.close == b.close
            and _same_sequence(a.items, b.items, leaf, trace)
        )
    if (
        isinstance(a, Ordered)
        and isinstance(b, Unordered)
        or isinstance(a, Unordered)
        and isinstance(b, Ordered)
    ):
        # "1, -2" for the point (1,-2): accepted in the point's order, never for intervals.
        ordered = a if isinstance(a, Ordered) else b
        loose = b if ordered is a else a
        return (ordered.open, ordered.close) == ("(", ")") and _same_sequence(
            ordered.items, loose.items, leaf, trace
        )
    if isinstance(a, Unordered) and isinstance(b, Unordered):
        return _same_multiset(a.items, b.items, leaf, trace)
    if isinstance(a, (SetUnion, Unordered)) and isinstance(b, (SetUnion, Unordered)):
        # "(-\\infty,1) \\cup (2,\\infty)" also reads "x < 1 or x > 2".
        return _same_multiset(a.items, b.items, leaf, trace)
    trace.methods.add("shape")
    return False


def _same_sequence(xs: Sequence[Shape], ys: Sequence[Shape], leaf: LeafCmp, trace: _Trace) -> bool:
    return len(xs) == len(ys) and all(_same(x, y, leaf, trace) for x, y in zip(xs, ys, strict=True))


def _same_multiset(xs: Sequence[Shape], ys: Sequence[Shape], leaf: LeafCmp, trace: _Trace) -> bool:
    """A perfect matching between xs and ys under `_same` (answers have few elements)."""
    if len(xs) != len(ys):
        return False
    match = [[_same(x, y, leaf, trace) for y in ys] for x in xs]
    used = [False] * len(ys)

    def assign(i: int) -> bool:
        if i == len(xs):
            return True
        for j in range(len(ys)):
            if match[i][j] and not used[j]:
                used[j] = True
                if assign(i + 1):
                    return True
                used[j] = False
        return False

    return assign(0)


def _same_matrix(a: Shape, b: Shape, leaf: LeafCmp, trace: _Trace) -> bool:
    """Same dimensions and cells; a tuple `(a, b, c)` also reads as a row or column vector."""
    if isinstance(a, Matrix) and isinstance(b, Matrix):
        return [len(r) for r in a.rows] == [len(r) for r in b.rows] and _same_sequence(
            [c for r in a.rows for c in r], [c for r in b.rows for c in r], leaf, trace
        )
    matrix, other = (a, b) if isinstance(a, Matrix) else (b, a)
    assert isinstance(matrix, Matrix)
    vector = len(matrix.rows) == 1 or all(len(r) == 1 for r in matrix.rows)
    if not (vector and isinstance(other, Ordered) and (other.open, other.close) == ("(", ")")):
        return False
    return _same_sequence([c for r in matrix.rows for c in r], other.items, leaf, trace)


def _words(s: Shape) -> str:
    if isinstance(s, Text):
        return s.words
    if isinstance(s, Choice):
        return s.letter.lower()
    if isinstance(s, Scalar):
        return "".join(ch for ch in s.text.lower() if ch.isalnum())
    return repr(s)


def _same_base_number(a: Shape, b: Shape) -> bool:
    if isinstance(a, BaseNumber) and isinstance(b, BaseNumber):
        return (a.digits, a.base) == (b.digits, b.base)
    # "52" for 52_8: the digits are the answer; the base is implied by the question.
    num, other = (a, b) if isinstance(a, BaseNumber) else (b, a)
    assert isinstance(num, BaseNumber)
    return isinstance(other, Scalar) and other.text.lstrip("0").upper() == num.digits


_UNKNOWN_NAME = re.compile(r"[A-Za-z](?:_\w+)?(?:\([A-Za-z]\))?|\\[A-Za-z]+")


def _single_variable(side: str) -> bool:
    """`x`, `x_1`, `f(x)`, `\\theta`: the name of the unknown, not part of the answer."""
    return bool(_UNKNOWN_NAME.fullmatch(side))


def _same_equation(a: Shape, b: Shape, leaf: LeafCmp, trace: _Trace) -> bool:
    if isinstance(a, Equation) and isinstance(b, Equation):
        if leaf(a.lhs, b.lhs) and leaf(a.rhs, b.rhs):
            return True
        # Same relation written with sides moved: lhs-rhs agree up to sign.
        left = f"({a.lhs})-({a.rhs})"
        return leaf(left, f"({b.lhs})-({b.rhs})") or leaf(left, f"({b.rhs})-({b.lhs})")
    eq, other = (a, b) if isinstance(a, Equation) else (b, a)
    assert isinstance(eq, Equation)
    # "x = 5" against "5": the name of the unknown is not part of the answer.
    if _single_variable(eq.lhs):
        return _same(parse_shape(eq.rhs), other, leaf, trace)
    return False


# --- values ----------------------------------------------------------------------------------


Readings = tuple[tuple[sympy.Expr, sympy.Expr], ...]


def _readings(a: Cleaned, b: Cleaned) -> Readings:
    """Factors (for a, for b) to try: as written, then a marked side as a fraction/radians."""
    out = [(sympy.Integer(1), sympy.Integer(1))]
    for mark, factor in ((a.percent, sympy.Rational(1, 100)), (a.degrees, sympy.pi / 180)):
        if mark:
            out.append((factor, sympy.Integer(1)))
    for mark, factor in ((b.percent, sympy.Rational(1, 100)), (b.degrees, sympy.pi / 180)):
        if mark:
            out.append((sympy.Integer(1), factor))
    return tuple(out)


def _same_scalar(x: str, y: str, readings: Readings, trace: _Trace) -> bool:
    if x == y:
        trace.methods.add("text")
        return True
    try:
        vx, vy = to_sympy(x), to_sympy(y)
    except LatexParseError as exc:
        trace.methods.add("text")
        trace.notes.append(f"compared as text: {exc}")
        return "".join(x.split()).lower() == "".join(y.split()).lower()
    for fx, fy in readings:
        verdict = same_value(vx * fx, vy * fy)
        if verdict is not None:
            trace.methods.add(verdict[1])
            if verdict[0]:
                return True
    return False


def same_value(x: sympy.Expr, y: sympy.Expr) -> tuple[bool, str] | None:
    """(equal?, method) for two sympy values; None when no evidence either way."""
    if x == y:
        return True, "exact"
    if x.has(sympy.oo, -sympy.oo, sympy.zoo) or y.has(sympy.oo, -sympy.oo, sympy.zoo):
        return False, "exact"
    symbols = sorted(x.free_symbols | y.free_symbols, key=lambda s: s.name)
    if not symbols:
        nx, ny = _number(x), _number(y)
        if nx is None or ny is None:
            return None
        return _close(nx, ny, _EXACT_TOL), "numeric"
    if len(symbols) > len(_SAMPLES[0]):
        return None
    agree = 0
    for point in _SAMPLES:
        subs = dict(zip(symbols, (sympy.Float(v, _DIGITS) for v in point), strict=False))
        nx, ny = _number(x.subs(subs)), _number(y.subs(subs))
        if nx is None or ny is None:
            continue  # a pole or branch cut at this point; try the next one
        if not _close(nx, ny, _SAMPLE_TOL):
            return False, "samples"
        agree += 1
    if agree:
        return True, "samples"
    return None


def _number(e: sympy.Expr) -> sympy.Expr | None:
    """`e` evaluated to _DIGITS significant digits, or None when it is not a finite number."""
    try:
        value = sympy.N(e, _DIGITS)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return None
    if not value.is_number or value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return None
    return value


def _close(a: sympy.Expr, b: sympy.Expr, tol: float) -> bool:
    """Relative closeness; a value is never close to zero unless it is zero at this precision."""
    diff = sympy.N(sympy.Abs(a - b), _DIGITS)
    scale = max(sympy.N(sympy.Abs(a), _DIGITS), sympy.N(sympy.Abs(b), _DIGITS))
    return bool(diff <= tol * scale) if scale != 0 else bool(diff == 0)
