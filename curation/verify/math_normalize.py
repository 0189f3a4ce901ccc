"""LaTeX answer clean-up: one canonical spelling for answers that differ only in typography.

`clean` removes what never changes an answer's value (math delimiters, `\\left`/`\\right`,
spacing commands, `\\dfrac` vs `\\frac`, thousands separators, units, a dollar sign) and
records what might (a percent sign, a degree mark) as flags, so the comparer can try both
readings. Everything here is plain string work with linear-time regular expressions: it runs
in the calling process, before any sympy work (which runs in a killable worker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# Words that name units when they trail a number ("5.4 cents", "12 square inches").
_UNIT_WORDS = (
    "square units|square unit|sq units|units|unit|square inches|square inch|square feet|"
    "square foot|square meters|square centimeters|square cm|square miles|square yards|"
    "cubic inches|cubic feet|cubic units|cubic centimeters|cubic meters|inches|inch|feet|foot|"
    "ft|yards|yard|miles|mile|mph|meters|meter|metres|centimeters|centimeter|cm|mm|km|"
    "kilometers|kilometer|cents|cent|dollars|dollar|degrees|degree|radians|radian|hours|hour|"
    "minutes|minute|seconds|second|days|day|weeks|week|years|year|pounds|pound|ounces|ounce|"
    "gallons|gallon|liters|liter|people|students|ways|points|percent|cups|cup|"
    "square|sq|cubic"
)
_UNICODE = {
    "\u2212": "-",
    "\u221e": "\\infty ",
    "\u03c0": "\\pi ",
    "\u00d7": "\\times ",
    "\u221a": "\\sqrt ",
    "\u00b7": "\\cdot ",
}
_ROW_SEP = "\x00"  # stands in for the matrix row separator (two backslashes) during clean-up
_TEXT_COMMANDS = r"\\(?:text|textbf|textit|textrm|textnormal|mbox|mathrm|mathbf|mathit|rm|bf)"
_TRAILING_UNIT_TEXT = re.compile(
    r"(?<=\S)\s*"
    + _TEXT_COMMANDS
    + r"\s*\{\s*(?:"
    + _UNIT_WORDS
    + r")\s*\}(?:\s*\^\s*\{?\s*[23]\s*\}?)?\s*$",
    re.IGNORECASE,
)
_TRAILING_UNIT_WORD = re.compile(
    r"(?<=[0-9})])\s+(?:" + _UNIT_WORDS + r")(?:\s*\^\s*\{?\s*[23]\s*\}?)?\s*$", re.IGNORECASE
)
_TEXT_WRAPPER = re.compile(_TEXT_COMMANDS + r"\s*\{([^{}]*)\}")
_DEGREE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree(?![A-Za-z])")
_PERCENT = re.compile(r"\\%|%|\\text\{\s*percent\s*\}")
_SPACING = re.compile(r"\\[!,;:> ]|\\q?quad\b|~")
_THOUSANDS_BRACED = re.compile(r"(?<=\d)\{,\}(?=\d{3})")
_THOUSANDS_THIN = re.compile(r"(?<=\d),\\!\s*(?=\d{3}(?!\d))")
_PLAIN_THOUSANDS = re.compile(r"-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
_LEADING_VAR_IN = re.compile(r"^[A-Za-z]\s*\\in\s*")
_AND_OR = re.compile(r"(?<=[\w})\]])\s*,?\s+(?:and|or)\s+(?=[-\w(\[\\])")
# Inequalities become ASCII operators that math_structure turns into intervals.
_INEQUALITY_OPS = {
    "\\leq": "<=",
    "\\le": "<=",
    "\\leqslant": "<=",
    "\\geq": ">=",
    "\\ge": ">=",
    "\\geqslant": ">=",
    "\\lt": "<",
    "\\gt": ">",
    "\u2264": "<=",
    "\u2265": ">=",
}
_INEQUALITY = re.compile(r"\\(?:leqslant|geqslant|leq|geq|le|ge|lt|gt)(?![A-Za-z])|\u2264|\u2265")
_REPEATING = re.compile(r"(\d*)\.(\d*)\\overline\{(\d{1,12})\}")
_MIXED_NUMBER = re.compile(r"(?<![\w}^.])(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}")


@dataclass(frozen=True)
class Cleaned:
    """A canonical answer string plus the marks that were removed from it."""

    text: str
    percent: bool = False
    degrees: bool = False
    was_text: bool = False  # the whole answer was a \text{...} (a word answer such as "east")


def strip_delimiters(s: str) -> str:
    """Remove surrounding `$...$`, `$$...$$`, `\\(...\\)` and `\\[...\\]`."""
    s = s.strip()
    changed = True
    while changed and s:
        changed = False
        for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
            if s.startswith(left) and s.endswith(right) and len(s) >= len(left) + len(right):
                s = s[len(left) : len(s) - len(right)].strip()
                changed = True
                break
    return s


def _shorthand_args(s: str) -> str:
    """`\\frac43` -> `\\frac{4}{3}`, `\\frac 59`, `\\frac9{19}`, `\\sqrt2` -> `\\sqrt{2}`."""
    s = re.sub(r"\\frac\s*([0-9A-Za-z])\s*([0-9A-Za-z])", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\frac\s*([0-9A-Za-z])\s*\{", r"\\frac{\1}{", s)
    s = re.sub(r"\\frac\s*\{([^{}]*)\}\s*([0-9A-Za-z])", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\sqrt\s*([0-9A-Za-z])", r"\\sqrt{\1}", s)
    return s


def _repeating_decimal(m: re.Match[str]) -> str:
    """`0.1\\overline{6}` -> `\\frac{1}{6}`: the exact value of a repeating decimal."""
    whole, fixed, period = m.group(1) or "0", m.group(2), m.group(3)
    value = Fraction(
        int(whole + fixed + period) - int(whole + fixed), 10 ** len(fixed) * (10 ** len(period) - 1)
    )
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _collapse_spaces(s: str) -> str:
    """Drop spaces except where they separate two letters (`\\cot x`, `no solution`)."""
    s = re.sub(r"\s+", " ", s).strip()
    return re.sub(r"(?<![A-Za-z]) | (?![A-Za-z])", "", s)


MAX_INPUT_CHARS = 2000  # longer "answers" are runaway text; some patterns here are quadratic


def clean(answer: str) -> Cleaned:
    """Canonicalise an extracted answer's spelling; see the module docstring for what goes."""
    if len(answer) > MAX_INPUT_CHARS:  # not an answer: only collapse whitespace (linear)
        return Cleaned(" ".join(answer.split()))
    s = strip_delimiters(answer)
    for char, repl in _UNICODE.items():
        s = s.replace(char, repl)
    s = s.replace("\\\\", _ROW_SEP)
    s = s.replace("\\displaystyle", "").replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = s.replace("\\cfrac", "\\frac").replace("\\dbinom", "\\binom").replace("\\tbinom", "\\binom")
    s = re.sub(r"\\left\s*\.|\\right\s*\.", "", s)
    s = re.sub(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![A-Za-z])", "", s)
    s = s.replace("\\lbrace", "\\{").replace("\\rbrace", "\\}")
    s = s.replace("\\langle", "(").replace("\\rangle", ")")  # vectors <1, 2> read as tuples
    s = _INEQUALITY.sub(lambda m: _INEQUALITY_OPS[m.group(0)], s)
    s = _THOUSANDS_BRACED.sub("", s)
    s = _THOUSANDS_THIN.sub("", s)
    s = _SPACING.sub(" ", s)
    s = s.replace("\\$", "").replace("$", "")
    s = s.strip().rstrip(".").strip()
    s = re.sub(r"\\\.$", "", s).strip()

    degrees = False
    if _DEGREE.search(s):
        degrees = True
        s = _DEGREE.sub("", s)
    percent = False
    if _PERCENT.search(s):
        percent = True
        s = _PERCENT.sub("", s)

    # Units: a trailing \text{cm}^2 or a bare unit word after a number.
    for _ in range(2):
        new = _TRAILING_UNIT_TEXT.sub("", s).strip()
        new = _TRAILING_UNIT_WORD.sub("", new).strip()
        if new == s:
            break
        if re.search(r"degree", s[len(new) :], re.IGNORECASE):
            degrees = True
        s = new

    was_text = bool(re.fullmatch(r"\s*" + _TEXT_COMMANDS + r"\s*\{[^{}]*\}\s*", s))
    s = _TEXT_WRAPPER.sub(lambda m: m.group(1), s)
    s = _LEADING_VAR_IN.sub("", s)
    s = _AND_OR.sub(",", s)  # "3 and 5", "x = 1 or x = 2": lists of answers
    s = _shorthand_args(s)
    # "58,500" is a number but "2, 100" lists two: decide before spaces are collapsed.
    if _PLAIN_THOUSANDS.fullmatch(s.strip()):
        s = s.replace(",", "")
    s = _collapse_spaces(s)
    s = re.sub(r"(?<![\d])\.(\d)", r"0.\1", s)  # .35 -> 0.35
    if re.fullmatch(r"-?\d+\.0+", s):  # 12.00 -> 12
        s = s.split(".")[0]
    s = re.sub(r"_\{(\w)\}", r"_\1", s)  # x_{1} -> x_1, 52_{8} -> 52_8
    s = _REPEATING.sub(_repeating_decimal, s)
    s = _MIXED_NUMBER.sub(r"(\1+\\frac{\2}{\3})", s)
    s = s.replace(_ROW_SEP, "\\\\")
    return Cleaned(s, percent=percent, degrees=degrees, was_text=was_text)
