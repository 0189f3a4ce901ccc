"""Rendering: one BOS, explicit fallback template, roles kept, response boundary, length policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_testkit import CHATML, train_tokenizer
from rbkit.eval.data import Pair
from rbkit.eval.errors import ModelError, TooLongError
from rbkit.eval.render import Renderer, truncate
from transformers import AutoTokenizer


def tok(tmp_path: Path, **kw) -> object:
    return AutoTokenizer.from_pretrained(train_tokenizer(tmp_path / "tok", **kw))


def pair(prompt=(("user", "What is 2 + 2?"),), chosen="The answer is 4.", rejected="blue") -> Pair:
    return Pair("1", "s", tuple(prompt), (chosen,), (rejected,))


def test_template_with_bos_and_a_bos_adding_tokenizer_give_one_bos(tmp_path):
    t = tok(tmp_path, bos_adds=True)  # tokenizer prepends <s>, template renders <s> too
    assert t("x")["input_ids"][0] == t.bos_token_id
    r = Renderer(t)
    enc = r.encode([pair()], boundaries=False)[0]
    for ids in enc.sequences:
        assert ids[0] == t.bos_token_id and ids[1] != t.bos_token_id
    # what the original did (render, then tokenise again with special tokens) doubles it
    naive = t(r.render(pair().messages() + [{"role": "assistant", "content": "4"}], generation_prompt=False, where="x"))["input_ids"]
    assert naive[:2] == [t.bos_token_id, t.bos_token_id]
    with pytest.raises(ModelError, match="two BOS"):
        r.check_specials(naive, "s/1")


def test_bos_is_added_when_the_template_has_none(tmp_path):
    t = tok(tmp_path, bos_adds=True, template="{% for m in messages %}{{ m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}")
    enc = Renderer(t).encode([pair()], boundaries=False)[0]
    assert all(ids[0] == t.bos_token_id and ids[1] != t.bos_token_id for ids in enc.sequences)


def test_no_chat_template_falls_back_to_tulu_and_says_so(tmp_path):
    t = tok(tmp_path, template=None)
    r = Renderer(t)
    assert r.name == "tulu" and r.describe()["template"] == "tulu"
    text = r.render([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], generation_prompt=False, where="x")
    assert text == "<|user|>\nhi\n<|assistant|>\nyo</s>"


def test_multi_turn_prompts_keep_roles_and_system(tmp_path):
    t = tok(tmp_path)
    prompt = (("system", "Be brief."), ("user", "hello"), ("assistant", "hi"), ("user", "what is 2 + 2?"))
    r = Renderer(t)
    text = r.render([*pair(prompt).messages(), {"role": "assistant", "content": "4"}], generation_prompt=False, where="x")
    assert text == (
        "<s>system\nBe brief.</s>\n<s>user\nhello</s>\n<s>assistant\nhi</s>\n"
        "<s>user\nwhat is 2 + 2?</s>\n<s>assistant\n4</s>\n"
    )
    tulu = Renderer(t, "tulu").render(pair(prompt).messages(), generation_prompt=True, where="x")
    assert tulu.startswith("<|system|>\nBe brief.\n<|user|>\nhello\n<|assistant|>\nhi</s>\n<|user|>")
    assert tulu.endswith("<|assistant|>\n")


def test_response_boundary_comes_from_the_templated_prompt(tmp_path):
    t = tok(tmp_path)
    enc = Renderer(t).encode([pair(chosen="The answer is 4.", rejected="blue")], boundaries=True)[0]
    chosen_ids, start = enc.sequences[0], enc.starts[0]
    assert t.decode(chosen_ids[start:]) == "The answer is 4.</s>\n"
    assert t.decode(chosen_ids[:start]).endswith("<s>assistant\n")
    assert t.decode(enc.sequences[1][enc.starts[1]:]) == "blue</s>\n"


def test_eos_is_not_appended_twice(tmp_path):
    from tokenizers import processors

    t = tok(tmp_path)
    eos = t.eos_token_id
    t._tokenizer.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", eos)])
    file = tmp_path / "ends-with-eos.jinja"
    file.write_text("{% for m in messages %}{{ m['content'] + eos_token }}{% endfor %}")
    r = Renderer(t, str(file))
    assert r.suffix == (eos,) and r.name == "file:ends-with-eos.jinja"
    for ids in r.encode([pair()], boundaries=False)[0].sequences:
        assert ids[-1] == eos and ids[-2] != eos


def test_text_longer_than_the_context_is_refused_with_a_clear_message(tmp_path):
    t = tok(tmp_path)
    long = pair(chosen="blue " * 200)
    r = Renderer(t, context_length=64)
    enc = r.encode([long], boundaries=False)
    with pytest.raises(TooLongError, match=r"s/1 \(\d+ tokens\).*--max-length"):
        r.apply_length_policy([long], enc, boundaries=False)


def test_max_length_truncates_prompt_first_and_flags_the_pair(tmp_path):
    t = tok(tmp_path, bos_adds=True)
    long = pair(prompt=(("user", "hello world " * 60),), chosen="The answer is 4.")
    r = Renderer(t, max_length=40, context_length=64)
    enc = r.encode([long], boundaries=True)
    r.apply_length_policy([long], enc, boundaries=True)
    e = enc[0]
    assert e.truncated and all(len(s) <= 40 for s in e.sequences)
    assert e.sequences[0][0] == t.bos_token_id  # BOS survives
    assert t.decode(e.sequences[0][e.starts[0]:]) == "The answer is 4.</s>\n"  # response intact


def test_max_length_above_the_context_is_refused(tmp_path):
    with pytest.raises(TooLongError, match="exceeds the model's context"):
        Renderer(tok(tmp_path), max_length=100, context_length=64)


def test_truncate_cuts_response_tail_once_the_prompt_is_gone():
    ids, start = truncate(list(range(20)), start=5, limit=10, keep_head=1)
    assert ids == [0, 5, 6, 7, 8, 9, 10, 11, 12, 13] and start == 1


def test_chatml_helper_template_is_what_the_tests_assume():
    assert "bos_token" in CHATML
