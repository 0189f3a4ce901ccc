import pytest
import sympy
from rbkit.curation.verify.math_equiv import equivalent, same_value
from rbkit.curation.verify.math_latex import LatexParseError, to_sympy

x, y = sympy.symbols("x y")


@pytest.mark.parametrize(
    ("latex", "value"),
    [
        ("\\frac{3\\sqrt{3}}{4}", 3 * sympy.sqrt(3) / 4),
        ("\\frac43", sympy.Rational(4, 3)),
        ("\\sqrt[3]{8}", sympy.Integer(2)),
        ("2^{10}", sympy.Integer(1024)),
        ("x^2-2x+1", x**2 - 2 * x + 1),
        ("2(x+1)", 2 * x + 2),
        ("6-5i", 6 - 5 * sympy.I),
        ("0.35625", sympy.Rational(35625, 100000)),
        ("5!", sympy.Integer(120)),
        ("\\binom{5}{2}", sympy.Integer(10)),
        ("|-3|", sympy.Integer(3)),
        ("\\sin^2 x+\\cos^2 x", sympy.sin(x) ** 2 + sympy.cos(x) ** 2),
        ("\\log_2 8", sympy.log(8, 2)),
        ("x_1+y", sympy.Symbol("x_1") + y),
        ("\\pi r^2", sympy.pi * sympy.Symbol("r") ** 2),
        ("\\lfloor 2.5 \\rfloor", sympy.Integer(2)),
        ("2\\cdot3", sympy.Integer(6)),
        ("6\\div4", sympy.Rational(3, 2)),
    ],
)
def test_to_sympy_reads_math_answers(latex, value):
    assert sympy.simplify(to_sympy(latex) - value) == 0


@pytest.mark.parametrize("bad", ["", "\\text{hi}", "1+", "(1", "x=1", "\\foo{2}", "a'b"])
def test_to_sympy_rejects_what_it_cannot_read(bad):
    with pytest.raises(LatexParseError):
        to_sympy(bad)


EQUAL = [
    ("\\frac12", "0.5"),
    ("\\dfrac{1}{2}", "\\frac{1}{2}"),
    ("2\\sqrt{2}", "\\sqrt8"),
    ("40,\\!000", "40000"),
    ("(3,4]", "\\left(3, 4\\right]"),
    ("1,-2", "-2, 1"),
    ("\\{1\\pm\\sqrt{5},-2\\}", "-2, 1+\\sqrt5, 1-\\sqrt 5"),
    ("1 \\pm \\sqrt{19}", "1-\\sqrt{19},1+\\sqrt{19}"),
    ("x=5", "5"),
    ("y = 2x + 3", "2x+3"),
    ("y=2x+3", "2x+3=y"),
    ("90^\\circ", "90"),
    ("\\frac{\\pi}{2}", "90^\\circ"),
    ("50\\%", "0.5"),
    ("\\text{(C)}", "C"),
    ("(C)", "C"),
    ("\\text{east}", "East"),
    ("52_8", "52_{8}"),
    ("1750", "1750_8"),
    ("1\\frac45", "\\frac95"),
    ("137.5", "137 \\frac{1}{2}"),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "(1,2)"),
    (
        "\\begin{pmatrix} -1/3 \\\\ 2/3 \\end{pmatrix}",
        "\\begin{pmatrix}-\\frac13\\\\\\frac23\\end{pmatrix}",
    ),
    ("\\cot x", "\\frac{\\cos x}{\\sin x}"),
    ("6-5i", "-5i+6"),
    ("(0,9) \\cup (9,36)", "(9,36)\\cup(0,9)"),
    (".0000672", "6.72\\times10^{-5}"),
    ("864 \\mbox{ inches}^2", "864"),
    ("(a+5)(b+2)", "ab+2a+5b+10"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\pi/2)"),
    ("(2,\\infty)", "(2, \\infty)"),
    ("\\$18.90", "18.9"),
    ("\\{2\\}", "2"),
    ("x > 2", "(2,\\infty)"),
    ("-1 \\le x < 3", "[-1,3)"),
    ("3 > x", "(-\\infty,3)"),
    ("x<1 \\text{ or } x>2", "(-\\infty,1)\\cup(2,\\infty)"),
    ("3 \\text{ and } 5", "3, 5"),
    ("x = 1 or x = 2", "2, 1"),
    ("\\langle 1, 2\\rangle", "\\begin{pmatrix}1\\\\2\\end{pmatrix}"),
    ("f(x) = 2x+1", "2x+1"),
    ("\\theta = \\frac{\\pi}{4}", "\\frac\\pi4"),
    ("0.\\overline{3}", "\\frac13"),
    ("1.\\overline{27}", "\\frac{14}{11}"),
]
UNEQUAL = [
    ("320,000", "40,\\!000"),
    ("(3,4]", "(3,4)"),
    ("[1,2]", "(1,2)"),
    ("(1,2)", "(2,1)"),
    ("0.33", "\\frac13"),
    (".0000672", ".0000673"),
    ("3R^2", "3r^2"),
    ("1770_8", "1750_8"),
    ("1750_7", "1750_8"),
    ("2, 3", "2, -3"),
    ("2, 3", "2, 3, 4"),
    ("\\text{(B)}", "\\text{(C)}"),
    ("\\text{east}", "\\text{west}"),
    ("x^2+1", "x^2-1"),
    ("\\infty", "-\\infty"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}"),
    ("1+2i", "1-2i"),
    ("5", "(5,5)"),
    ("x > 2", "[2,\\infty)"),
    ("x \\geq 2", "(2,\\infty)"),
    ("2x+1=0", "2x+1"),
    ("0.\\overline{3}", "0.3"),
]


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_forms(a, b):
    assert equivalent(a, b).verdict == "equal"
    assert equivalent(b, a).verdict == "equal"


@pytest.mark.parametrize(("a", "b"), UNEQUAL)
def test_different_answers(a, b):
    assert equivalent(a, b).verdict == "unequal"
    assert equivalent(b, a).verdict == "unequal"


def test_outcome_says_how_it_decided():
    assert equivalent("\\frac{1}{2}", "\\dfrac{1}{2}").method == "text"
    assert "exact" in equivalent("\\frac12", "0.5").method
    assert equivalent("\\cot x", "\\frac{\\cos x}{\\sin x}").method == "samples"


def test_unreadable_latex_falls_back_to_spelling():
    same = equivalent("\\heartsuit", "\\heartsuit")
    different = equivalent("\\heartsuit+1", "\\spadesuit+1")
    assert same.verdict == "equal" and different.verdict == "unequal"
    assert different.method == "text"
    assert "compared as text" in different.note and "heartsuit" in different.note


def test_same_value_never_calls_a_tiny_number_zero():
    assert same_value(sympy.Rational(1, 10**12), sympy.Integer(0)) == (False, "numeric")


def test_same_value_skips_sample_points_at_poles():
    # The first sample point puts x at 0.3711 exactly: both sides are undefined there.
    pole = sympy.Rational(3711, 10000)
    a = 1 / (x - pole)
    b = 2 / (2 * x - 2 * pole)
    assert a != b  # not structurally equal, so the sample points decide
    assert same_value(a, b) == (True, "samples")
    assert same_value(a, b + 1) == (False, "samples")


def test_runaway_answers_are_unequal_without_parsing():
    outcome = equivalent("1 + " * 5000, "1")
    assert (outcome.verdict, outcome.note) == ("unequal", "answer too long to parse")
