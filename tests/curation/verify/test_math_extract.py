import pytest
from rbkit.curation.verify.math_extract import (
    balanced_group,
    extract_answer,
    extract_answer_section,
    extract_boxed,
    extract_the_answer_is,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so $x = \\boxed{5}$.", "5"),
        ("$\\boxed{\\frac{1}{\\sqrt{2}}}$", "\\frac{1}{\\sqrt{2}}"),
        ("the set is $\\boxed{\\{1, 2\\}}$", "\\{1, 2\\}"),
        ("$\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("first \\boxed{1} then \\boxed{2}", "2"),
        ("old style \\fbox{7} answer", "7"),
        ("\\boxed 5$ done", "5"),
        (
            "\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}",
            "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
        ),
        ("\\boxed { 12 }", "12"),
    ],
)
def test_boxed_reads_the_last_box_with_nested_and_escaped_braces(text, expected):
    assert extract_boxed(text) == expected


def test_boxed_is_none_without_a_box_or_with_an_unclosed_one():
    assert extract_boxed("no box here") is None
    assert extract_boxed("\\boxed{\\frac{1}{2}") is None


def test_boxed_ignores_longer_command_names():
    assert extract_boxed("\\boxedsomething{3} and \\boxed{4}") == "4"
    assert extract_boxed("\\boxedsomething{3}") is None


def test_balanced_group_skips_escaped_braces():
    assert balanced_group("{a\\}b}c", 0) == ("a\\}b", 6)
    assert balanced_group("x{a}", 0) is None


def test_answer_section_takes_the_text_after_the_last_header():
    text = "step one\nstep two\n\n# Answer\n\n320,000"
    assert extract_answer_section(text) == "320,000"
    assert extract_answer_section("# Answer\n\n1\n# Answer\n\n2\n") == "2"
    assert extract_answer_section("# Answer\n\n") is None
    assert extract_answer_section("no header") is None


def test_the_answer_is_strips_math_and_the_final_period():
    assert extract_the_answer_is("So the answer is $\\frac{3}{4}$.") == "\\frac{3}{4}"
    assert extract_the_answer_is("The final answer is 0.5.") == "0.5"
    assert extract_the_answer_is("Thus the answer is: 12 apples. Done") == "12 apples"
    assert extract_the_answer_is("The answer is \\boxed{7}.") == "7"
    assert extract_the_answer_is("nothing") is None


def test_extract_answer_prefers_the_answer_section_over_an_earlier_box():
    got = extract_answer("we had \\boxed{3} earlier\n\n# Answer\n\n4")
    assert got is not None and (got.answer, got.method) == ("4", "answer-section")


def test_extract_answer_reads_a_box_inside_the_answer_section():
    got = extract_answer("work\n\n# Answer\n\n$\\boxed{9}$")
    assert got is not None and got.answer == "9"


def test_extract_answer_falls_back_to_box_then_sentence():
    boxed = extract_answer("so $\\boxed{42}$")
    said = extract_answer("I conclude the answer is 17.")
    assert boxed is not None and (boxed.answer, boxed.method) == ("42", "boxed")
    assert said is not None and (said.answer, said.method) == ("17", "the-answer-is")
    assert extract_answer("I could not finish this one") is None
