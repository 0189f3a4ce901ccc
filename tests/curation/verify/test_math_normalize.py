import time

import pytest
from rbkit.curation.verify.math_normalize import clean
from rbkit.curation.verify.math_structure import (
    BaseNumber,
    Choice,
    Equation,
    Matrix,
    Ordered,
    Scalar,
    SetUnion,
    ShapeError,
    Text,
    Unordered,
    enclosing,
    parse_shape,
    split_top,
)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("$\\dfrac{1}{2}$", "\\frac{1}{2}"),
        ("\\tfrac{3}{4}", "\\frac{3}{4}"),
        ("\\frac43", "\\frac{4}{3}"),
        ("\\frac 59", "\\frac{5}{9}"),
        ("\\frac9{19}", "\\frac{9}{19}"),
        ("11\\sqrt2", "11\\sqrt{2}"),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"),
        ("10,\\!080", "10080"),
        ("11,\\! 111,\\! 111,\\! 100", "11111111100"),
        ("58,500", "58500"),
        ("10{,}000", "10000"),
        ("\\$32,\\!348", "32348"),
        ("\\$18.90", "18.90"),
        ("864 \\mbox{ inches}^2", "864"),
        ("15\\mbox{ cm}^2", "15"),
        ("5.4 \\text{ cents}", "5.4"),
        ("12 square units", "12"),
        ("x \\in [-2,7]", "[-2,7]"),
        (".0000672", "0.0000672"),
        ("12.00", "12"),
        ("4210_{5}", "4210_5"),
        ("1\\frac{4}{5}", "(1+\\frac{4}{5})"),
        ("137 \\frac{1}{2}", "(137+\\frac{1}{2})"),
        ("\\cot x", "\\cot x"),
        ("5.", "5"),
        ("\\text{no solution}", "no solution"),
        ("\u22122\u03c0", "-2\\pi"),
        ("x \\geq 2", "x>=2"),
        ("3 \\text{ and } 5", "3,5"),
        ("2, 100", "2,100"),
        ("\\langle 1,2 \\rangle", "(1,2)"),
    ],
)
def test_clean_gives_one_spelling(raw, text):
    assert clean(raw).text == text


def test_clean_records_degrees_and_percent_as_flags():
    deg = clean("90^\\circ")
    pct = clean("50\\%")
    assert (deg.text, deg.degrees, deg.percent) == ("90", True, False)
    assert (pct.text, pct.degrees, pct.percent) == ("50", False, True)
    assert clean("\\frac{270}7\\text{ degrees}").degrees
    assert clean("45^{\\circ}").text == "45"


def test_clean_keeps_matrix_row_separators():
    assert clean("\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}").text == (
        "\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}"
    )


def test_clean_does_not_take_a_variable_for_a_unit():
    assert clean("2m").text == "2m"
    assert clean("3 \\sqrt{5}").text == "3\\sqrt{5}"


def test_clean_marks_whole_text_answers():
    assert clean("\\text{Evelyn}").was_text
    assert not clean("5\\text{ cm}").was_text


def test_split_top_respects_brackets_and_command_names():
    assert split_top("(1,2),3", ",") == ["(1,2)", "3"]
    assert split_top("(0,9)\\cup(9,36)", "\\cup") == ["(0,9)", "(9,36)"]
    assert split_top("\\cupx", "\\cup") == ["\\cupx"]


def test_enclosing_needs_one_pair_around_everything():
    assert enclosing("(3,4]") == ("(", "]", "3,4")
    assert enclosing("(1)(2)") is None
    assert enclosing("\\{1,2\\}") == ("\\{", "\\}", "1,2")


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("52_8", BaseNumber("52", 8)),
        ("(3,4]", Ordered("(", "]", (Scalar("3"), Scalar("4")))),
        ("1,-2", Unordered((Scalar("1"), Scalar("-2")))),
        (
            "\\{1\\pm\\sqrt{5},-2\\}",
            Unordered((Scalar("1+\\sqrt{5}"), Scalar("1-\\sqrt{5}"), Scalar("-2"))),
        ),
        (
            "(0,9)\\cup(9,36)",
            SetUnion(
                (
                    Ordered("(", ")", (Scalar("0"), Scalar("9"))),
                    Ordered("(", ")", (Scalar("9"), Scalar("36"))),
                )
            ),
        ),
        ("y=2x+3", Equation("y", "2x+3")),
        ("x>=2", Ordered("[", ")", (Scalar("2"), Scalar("\\infty")))),
        ("1<x<=5", Ordered("(", "]", (Scalar("1"), Scalar("5")))),
        ("5>=x>1", Ordered("(", "]", (Scalar("1"), Scalar("5")))),
        ("(C)", Choice("C")),
        ("east", Text("east")),
        ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", Matrix(((Scalar("1"),), (Scalar("2"),)))),
        ("(2)", Scalar("(2)")),
        ("x^2+1", Scalar("x^2+1")),
    ],
)
def test_parse_shape(text, shape):
    assert parse_shape(text) == shape


def test_parse_shape_rejects_unbalanced_brackets():
    with pytest.raises(ShapeError):
        parse_shape("(1,2")


def test_clean_is_fast_on_runaway_input():
    started = time.perf_counter()
    for junk in ("1" + " " * 200_000 + "cm x", "(" * 100_000, "\\frac" * 50_000):
        clean(junk)
    assert time.perf_counter() - started < 1.0
