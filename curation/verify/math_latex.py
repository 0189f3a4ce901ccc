"""A small LaTeX-to-sympy reader for final answers (no `eval`, no external grammar runtime).

sympy's own `parse_latex` needs an ANTLR or lark runtime pinned to a matching version, and
`parse_expr` evaluates Python source; answer strings come from model output, so rbkit reads
them with this recursive-descent parser instead. It covers what MATH answers use: numbers
(decimals are exact rationals), letters and subscripted letters, `\\frac`, `\\sqrt[n]{}`,
`^`, `!`, `\\binom`, `\\pi`, `\\infty`, `i`, Greek letters, trigonometric and log functions,
`|x|`, floor/ceiling, and implicit multiplication.

Building sympy values can take unbounded time (`2^{2^{2^{20}}}`), so callers run this inside
the killable worker of `math_worker`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

_TOKEN = re.compile(
    r"(?P<num>\d+(?:\.\d*)?|\.\d+)"
    r"|(?P<cmd>\\[A-Za-z]+|\\[{}|])"
    r"|(?P<letter>[A-Za-z])"
    r"|(?P<op>[-+*/^_!()\[\]{}|])"
    r"|(?P<space>\s+)"
)

GREEK = frozenset(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "varepsilon",
        "zeta",
        "eta",
        "theta",
        "vartheta",
        "iota",
        "kappa",
        "lambda",
        "mu",
        "nu",
        "xi",
        "omicron",
        "rho",
        "sigma",
        "tau",
        "upsilon",
        "phi",
        "varphi",
        "chi",
        "psi",
        "omega",
        "Gamma",
        "Delta",
        "Theta",
        "Lambda",
        "Xi",
        "Sigma",
        "Upsilon",
        "Phi",
        "Psi",
        "Omega",
    ]
)
FUNCTIONS = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "cot": sympy.cot,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "ln": sympy.log,
    "log": sympy.log,
    "exp": sympy.exp,
}
_FRACTIONS = frozenset({"frac", "dfrac", "tfrac", "cfrac"})
_ATOM_COMMANDS = (
    _FRACTIONS
    | GREEK
    | set(FUNCTIONS)
    | {
        "sqrt",
        "binom",
        "dbinom",
        "tbinom",
        "pi",
        "infty",
        "lfloor",
        "lceil",
        "operatorname",
    }
)
_MULTIPLY = frozenset({"*", "\\cdot", "\\times"})
_DIVIDE = frozenset({"/", "\\div"})


class LatexParseError(ValueError):
    """The answer uses LaTeX this reader does not understand (compared as text instead)."""


@dataclass
class _Tok:
    kind: str  # num | cmd | letter | op
    text: str


def tokenize(s: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if m is None:
            raise LatexParseError(f"unexpected character {s[pos]!r} at {pos} in {s!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind != "space":
            toks.append(_Tok(kind, m.group(0)))
    return toks


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.pos = 0

    # -- token helpers --
    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def is_op(self, *texts: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text in texts and tok.kind in ("op", "cmd")

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise LatexParseError(f"unexpected end of {self.text!r}")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise LatexParseError(f"expected {text!r}, got {tok.text!r} in {self.text!r}")

    def starts_atom(self) -> bool:
        tok = self.peek()
        if tok is None:
            return False
        if tok.kind in ("num", "letter"):
            return True
        if tok.kind == "op":
            return tok.text in "({["
        return tok.kind == "cmd" and tok.text[1:] in _ATOM_COMMANDS

    # -- grammar --
    def parse(self) -> sympy.Expr:
        value = self.sum()
        if self.peek() is not None:
            raise LatexParseError(f"unexpected {self.peek().text!r} in {self.text!r}")  # type: ignore[union-attr]
        return value

    def sum(self) -> sympy.Expr:
        value = self.signed()
        while self.is_op("+", "-"):
            op = self.take().text
            rhs = self.signed()
            value = value + rhs if op == "+" else value - rhs
        return value

    def signed(self) -> sympy.Expr:
        if self.is_op("-"):
            self.take()
            return -self.signed()
        if self.is_op("+"):
            self.take()
            return self.signed()
        return self.product()

    def product(self) -> sympy.Expr:
        value = self.power()
        while True:
            tok = self.peek()
            if tok is not None and tok.text in _MULTIPLY:
                self.take()
                value = value * self.signed_power()
            elif tok is not None and tok.text in _DIVIDE:
                self.take()
                value = value / self.signed_power()
            elif self.starts_atom():
                value = value * self.power()
            else:
                return value

    def signed_power(self) -> sympy.Expr:
        if self.is_op("-"):
            self.take()
            return -self.signed_power()
        return self.power()

    def power(self) -> sympy.Expr:
        base = self.postfix()
        if self.is_op("^"):
            self.take()
            return sympy.Pow(base, self.script())
        return base

    def postfix(self) -> sympy.Expr:
        value = self.atom()
        while self.is_op("!"):
            self.take()
            value = sympy.factorial(value)
        return value

    def script(self) -> sympy.Expr:
        """The argument of ^: a braced group or one token (x^2, x^-1, 2^\\pi)."""
        if self.is_op("-"):
            self.take()
            return -self.script()
        return self.argument()

    def argument(self) -> sympy.Expr:
        """A macro argument: `{...}` or a single token (`\\frac43` reads 4 then 3)."""
        tok = self.peek()
        if tok is None:
            raise LatexParseError(f"missing argument in {self.text!r}")
        if tok.text == "{":
            self.take()
            value = self.sum()
            self.expect("}")
            return value
        if tok.kind == "num" and len(tok.text) > 1:
            self.toks[self.pos] = _Tok("num", tok.text[1:])
            return sympy.Integer(int(tok.text[0])) if tok.text[0].isdigit() else self._bad(tok)
        return self.atom()

    def _bad(self, tok: _Tok) -> sympy.Expr:
        raise LatexParseError(f"cannot read {tok.text!r} in {self.text!r}")

    def group_text(self) -> str:
        """Raw text of a braced group or one token (subscripts, operator names)."""
        tok = self.take()
        if tok.text != "{":
            return tok.text
        parts = []
        while not self.is_op("}"):
            parts.append(self.take().text)
        self.take()
        return "".join(parts)

    def atom(self) -> sympy.Expr:
        tok = self.take()
        if tok.kind == "num":
            return sympy.Rational(tok.text) if "." in tok.text else sympy.Integer(int(tok.text))
        if tok.kind == "letter":
            if self.is_op("_"):
                self.take()
                return sympy.Symbol(f"{tok.text}_{self.group_text()}")
            return sympy.I if tok.text == "i" else sympy.Symbol(tok.text)
        if tok.kind == "op":
            closer = {"(": ")", "[": "]", "{": "}"}.get(tok.text)
            if closer is None:
                if tok.text == "|":
                    value = self.sum()
                    self.expect("|")
                    return sympy.Abs(value)
                return self._bad(tok)
            value = self.sum()
            self.expect(closer)
            return value
        return self.command(tok.text[1:])

    def command(self, name: str) -> sympy.Expr:
        if name in _FRACTIONS:
            num = self.argument()
            return num / self.argument()
        if name == "sqrt":
            if self.is_op("["):
                self.take()
                index = self.sum()
                self.expect("]")
                return sympy.root(self.argument(), index)
            return sympy.sqrt(self.argument())
        if name in ("binom", "dbinom", "tbinom"):
            top = self.argument()
            return sympy.binomial(top, self.argument())
        if name == "pi":
            return sympy.pi
        if name == "infty":
            return sympy.oo
        if name in GREEK:
            return sympy.Symbol(name)
        if name in ("lfloor", "lceil"):
            value = self.sum()
            self.expect("\\rfloor" if name == "lfloor" else "\\rceil")
            return sympy.floor(value) if name == "lfloor" else sympy.ceiling(value)
        if name == "operatorname":
            name = self.group_text()
            if name not in FUNCTIONS:
                raise LatexParseError(f"unknown operator {name!r} in {self.text!r}")
        if name in FUNCTIONS:
            return self.function(name)
        raise LatexParseError(f"unsupported command \\{name} in {self.text!r}")

    def function(self, name: str) -> sympy.Expr:
        exponent = None
        base = None
        if self.is_op("^"):
            self.take()
            exponent = self.script()
        if name == "log" and self.is_op("_"):
            self.take()
            base = self.argument()
        if self.is_op("("):
            self.take()
            arg = self.sum()
            self.expect(")")
        else:
            arg = self.power()
        value = sympy.log(arg, base) if base is not None else FUNCTIONS[name](arg)
        return value if exponent is None else sympy.Pow(value, exponent)


def to_sympy(latex: str) -> sympy.Expr:
    """The value of a LaTeX scalar (raises LatexParseError on anything it cannot read)."""
    if not latex.strip():
        raise LatexParseError("empty expression")
    try:
        return _Parser(latex).parse()
    except (TypeError, ValueError, ZeroDivisionError, AttributeError) as exc:
        if isinstance(exc, LatexParseError):
            raise
        raise LatexParseError(f"{type(exc).__name__}: {exc} in {latex!r}") from exc
