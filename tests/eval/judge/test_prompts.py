"""Judge prompts come from the pinned FastChat file (or a Jinja file), never from code."""

from __future__ import annotations

from pathlib import Path

import pytest
from rbkit.eval.judge.prompts import (
    TIE_CLAUSE,
    PromptError,
    jinja_prompt,
    named_prompt,
    pairwise_no_tie,
    question_text,
)


@pytest.fixture
def prompts_file(mirror: Path) -> Path:
    return mirror / "mtbench" / "judge_prompts.jsonl"


def test_default_pairwise_prompt_offers_only_a_and_b(prompts_file: Path) -> None:
    prompt = pairwise_no_tie(prompts_file)
    system, user = prompt.render(question="Q?", answer_a="first", answer_b="second")
    assert '"[[A]]" if assistant A is better, "[[B]]" if assistant B is better.' in system.content
    assert "[[C]]" not in system.content and TIE_CLAUSE not in system.content
    assert user.content.index("first") < user.content.index("second")


def test_single_v1_asks_for_a_rating(prompts_file: Path) -> None:
    prompt = named_prompt(prompts_file, "single-v1")
    assert prompt.kind == "single"
    _, user = prompt.render(question="What is 2+2?", answer="4")
    assert "[[rating]]" in user.content and "What is 2+2?" in user.content


def test_a_prompt_needing_a_reference_answer_is_refused(prompts_file: Path) -> None:
    with pytest.raises(PromptError, match="ref_answer_1"):
        named_prompt(prompts_file, "single-math-v1")


def test_a_file_without_the_tie_clause_is_not_the_pinned_one(tmp_path: Path) -> None:
    bad = tmp_path / "judge_prompts.jsonl"
    bad.write_text('{"name": "pair-v2", "type": "pairwise", "system_prompt": "Judge.", "prompt_template": "{question}"}\n')
    with pytest.raises(PromptError, match="judge_prompts.jsonl:1 system_prompt"):
        pairwise_no_tie(bad)


def test_jinja_template_replaces_the_user_message_and_the_hash(prompts_file: Path, tmp_path: Path) -> None:
    base = pairwise_no_tie(prompts_file)
    template = tmp_path / "mine.jinja"
    template.write_text("Q: {{ question }}\n1) {{ answer_a }}\n2) {{ answer_b }}\n")
    mine = jinja_prompt(template, base)
    system, user = mine.render(question="Why?", answer_a="x", answer_b="y")
    assert user.content == "Q: Why?\n1) x\n2) y\n" and system == base.render(question="", answer_a="", answer_b="")[0]
    assert mine.sha256 != base.sha256 and mine.name == "file:mine.jinja"


def test_jinja_syntax_error_names_file_and_line(prompts_file: Path, tmp_path: Path) -> None:
    template = tmp_path / "broken.jinja"
    template.write_text("ok\n{{ question \n")
    with pytest.raises(PromptError, match=r"broken.jinja:\d+: Jinja syntax error"):
        jinja_prompt(template, pairwise_no_tie(prompts_file))


def test_multi_turn_prompt_becomes_a_transcript() -> None:
    text = question_text((("user", "Hi"), ("assistant", "Hello"), ("user", "Tell a joke")))
    assert text == "### User:\nHi\n\n### Assistant:\nHello\n\n### User:\nTell a joke"


def test_jinja_field_the_mode_does_not_supply_is_named(prompts_file: Path, tmp_path: Path) -> None:
    template = tmp_path / "pairwise.jinja"
    template.write_text("{{ question }} {{ answer_a }}")
    rating = jinja_prompt(template, named_prompt(prompts_file, "single-v1"))
    with pytest.raises(PromptError, match="'answer_a' is undefined"):
        rating.render(question="q", answer="a")
