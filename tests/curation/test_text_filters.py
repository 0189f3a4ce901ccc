import pytest
from rbkit.curation.pipeline import BuildContext, BuildOptions, Keep
from rbkit.curation.rows import Provenance, TrioRow, stable_id
from rbkit.curation.text_filters import (
    encoding_problem,
    identical,
    language_problem,
    length_window,
    no_refusal,
    no_template_leak,
    nonempty,
    template_leak,
    truncation,
)

LONG_PROSE = "This paragraph explains the idea in plain words and with care. " * 40


def row(chosen, rejected, prompt="Say something.") -> TrioRow:
    return TrioRow(prompt, chosen, "a", rejected, "b", "s", stable_id("s", "k"), Provenance("x", "f", "r", "0" * 64, "k", "t", "1"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("```python\nprint('hi')\n", "truncated: unclosed code block (odd number of ``` fences)"),
        ("Here is a sample email you can use as a guide:", "truncated: ends on a dangling punctuation mark"),
        ("They can be fried, baked, or", "truncated: ends on a function word"),
        ("Spy satellites are still an important part of our", "truncated: ends on a function word"),
    ],
)
def test_truncated_texts(text, reason):
    finding = truncation(text)
    assert finding is not None and finding.reason == reason


@pytest.mark.parametrize(
    "text",
    [
        "The capital of France is Paris.",
        "SELECT name FROM people;",  # code ends on ';'
        "Notes:",  # a template field
        "Sincerely,\nYours truly,",  # sign-offs
        "what we have hoped for",  # a short list line ending on a preposition
        "Try to jump as high as you can",  # auxiliaries end sentences
        "The correct answer is A",
        LONG_PROSE + "\n10. The Tale of Peter Rabbit by Beatrix Potter and the other classics of the nursery shelf",  # a list item
        "#travel #summer #beach #sunset #friends #goodtimes #holiday #sea #sand #sun #fun #ocean",
        "```\ncode\n```",
        LONG_PROSE + "\nA sense of adventure would stay with them for the rest of their lives",  # period stripped upstream
    ],
)
def test_complete_texts(text):
    assert truncation(text) is None


def test_template_leak_ignores_markers_the_prompt_itself_contains():
    leaked = "Sure.\n### Human: and another thing?"
    assert template_leak(leaked).reason == "chat template leaked into the response"
    assert template_leak(leaked, prompt="Continue this log:\n### Human: hi") is None
    assert template_leak("Use <s>strikethrough</s> in HTML.") is None


def test_encoding_problems():
    assert encoding_problem("It’s a café, naïve and Zürich-based.") is None
    assert encoding_problem("Itâ€™s broken").reason == "broken encoding: mojibake sequence"
    assert encoding_problem("bad \ufffd char").reason == "broken encoding: replacement character U+FFFD"
    assert encoding_problem("bell\x07").reason == "broken encoding: control character"


def test_language_detection():
    korean = "This starts in English. " + "인류의 기원과 선사 시대를 더 잘 이해하기 위해 연구가 진행되고 있습니다. " * 3
    finding = language_problem(korean)
    assert finding is not None and "HANGUL" in finding.reason
    french = "Le praticien est appelé un dentiste et il travaille dans une clinique avec les patients pour la santé de la bouche et des dents."
    assert "foreign function words" in language_problem(french).reason
    assert language_problem("The character 好 is pronounced hǎo in Mandarin and means good.") is None
    assert language_problem("1. Paris (France)\n2. Madrid (Spain)\n3. Rome (Italy)") is None
    assert language_problem("See https://stackoverflow.com/questions/1/com-com-com-com-com-com-com-com-com") is None
    assert language_problem("```python\nfor el in los: print(el, la, les, des, du, et, est, une)\n```") is None


def test_identical_after_whitespace_and_case():
    assert identical("Paris is the capital.", "paris  is the capital.") is not None
    assert identical("Paris.", "Lyon.") is None


def test_row_filters_name_the_side():
    decision = nonempty.fn(row("", "x"))
    assert decision.reason == "chosen: empty" and decision.evidence["side"] == "chosen"
    assert isinstance(no_template_leak.fn(row("fine", "fine too")), Keep)


def test_length_window():
    step = length_window(0.8, 1.25)
    assert step.name == "length_window[0.8,1.25]"
    assert isinstance(step.fn(row("x" * 110, "x" * 100)), Keep)
    decision = step.fn(row("x" * 200, "x" * 100))
    assert decision.reason == "length ratio chosen/rejected outside [0.8, 1.25]" and decision.evidence["ratio"] == 2.0
    with pytest.raises(ValueError):
        length_window(1.2, 1.5)


def test_no_refusal_uses_the_classifier_on_the_named_side():
    calls = []

    def classify(text: str) -> str:
        calls.append(text)
        return "partial" if "cannot" in text else "comply"

    step = no_refusal(("chosen",), classify=classify)
    result = step([row("I cannot, but here is...", "ok"), row("Sure, here it is.", "I cannot")], BuildContext("s", BuildOptions()))
    assert [r.chosen for r in result.kept] == ["Sure, here it is."]
    assert result.dropped[0].reason == "chosen: partial refusal"
    assert calls == ["I cannot, but here is...", "Sure, here it is."]  # rejected side never checked


def test_no_refusal_rejects_an_unknown_verdict():
    step = no_refusal(classify=lambda text: "maybe")
    with pytest.raises(ValueError, match="maybe"):
        step([row("a", "b")], BuildContext("s", BuildOptions()))


def test_no_refusal_defaults_to_the_project_detector():
    result = no_refusal()([row("I'm sorry, but I can't help with that.", "ok")], BuildContext("s", BuildOptions()))
    assert result.dropped and '"rule"' in result.dropped[0].evidence
