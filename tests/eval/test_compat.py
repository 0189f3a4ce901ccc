"""--compat rewardbench-0.1.4: the original's inputs, token for token, against hand-derived strings.

The tiny tokenizer renders ChatML-like turns `<s>{role}\\n{content}</s>\\n` (eval_testkit.CHATML).
What the original builds was worked out by hand from rewardbench 0.1.4's code (dpo.py
`tokenize_row`, utils.py `prepare_dialogue_from_tokenizer`, models/pipeline.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_testkit import train_tokenizer
from rbkit.eval.compat import DPO_MAX_PROMPT_LENGTH, CompatRenderer, fastchat_tulu
from rbkit.eval.data import Pair
from rbkit.eval.errors import ModelError
from rbkit.eval.render import Renderer
from rbkit.eval.runner import EvalConfig, run
from transformers import AutoTokenizer

MODE = "rewardbench-0.1.4"
PROMPT_TEXT = "<s>user\nWhat is 2 + 2?</s>\n"  # the template on the user turn alone (no generation prompt)


def tok(tmp_path: Path, **kw) -> object:
    return AutoTokenizer.from_pretrained(train_tokenizer(tmp_path / "tok", **kw))


def pair(chosen: str = "The answer is 4.", rejected: str = "blue", prompt: str = "What is 2 + 2?") -> Pair:
    return Pair("1", "s", (("user", prompt),), (chosen,), (rejected,))


def ids(t, text: str) -> list[int]:
    return list(t(text, add_special_tokens=False)["input_ids"])


def test_dpo_counts_the_assistant_header_and_adds_bos_and_eos(tmp_path):
    t = tok(tmp_path)
    enc = CompatRenderer(t, MODE, kind="dpo").encode([pair()], boundaries=True)[0]
    chosen, rejected = enc.sequences
    # BOS before the rendered prompt (which starts with <s> itself), EOS after the rendered answer
    assert t.decode(chosen) == "<s>" + PROMPT_TEXT + "<s>assistant\nThe answer is 4.</s>\n" + "</s>"
    assert chosen == [t.bos_token_id, *ids(t, PROMPT_TEXT), *ids(t, "<s>assistant\nThe answer is 4.</s>\n"), t.eos_token_id]
    # the response (what is scored) starts at the assistant header, not after it
    assert t.decode(chosen[enc.starts[0]:]) == "<s>assistant\nThe answer is 4.</s>\n</s>"
    assert t.decode(rejected[enc.starts[1]:]) == "<s>assistant\nblue</s>\n</s>"
    assert enc.starts == [1 + len(ids(t, PROMPT_TEXT))] * 2 and not enc.truncated
    # rbkit's clean rendering of the same pair: one <s>, the response after the header, no extra </s>
    clean = Renderer(t).encode([pair()], boundaries=True)[0]
    assert t.decode(clean.sequences[0]) == PROMPT_TEXT + "<s>assistant\nThe answer is 4.</s>\n"
    assert t.decode(clean.sequences[0][clean.starts[0]:]) == "The answer is 4.</s>\n"


def test_dpo_removes_every_copy_of_the_prompt_text_from_the_answer(tmp_path):
    """The original's `chosen.replace(prompt, "")` also strips the prompt where the answer quotes it."""
    t = tok(tmp_path)
    enc = CompatRenderer(t, MODE, kind="dpo").encode([pair(chosen="I said " + PROMPT_TEXT + " ok")], boundaries=True)[0]
    assert t.decode(enc.sequences[0][enc.starts[0]:]) == "<s>assistant\nI said  ok</s>\n</s>"


def test_dpo_truncates_as_the_original_keep_end(tmp_path):
    """prompt + longer answer > 2048 tokens: the prompt keeps its last 128 tokens (BOS goes), then
    the answers their first 1920."""
    t = tok(tmp_path)
    long_prompt = "hello world " * 100
    long_answer = "The quick brown fox " * 700
    r = CompatRenderer(t, MODE, kind="dpo")
    enc = r.encode([pair(chosen=long_answer, rejected="blue", prompt=long_prompt)], boundaries=True)[0]
    prompt_text = f"<s>user\n{long_prompt}</s>\n"
    full_prompt = [t.bos_token_id, *ids(t, prompt_text)]
    answer = [*ids(t, f"<s>assistant\n{long_answer}</s>\n"), t.eos_token_id]
    assert len(answer) > 2048
    assert enc.truncated
    assert enc.starts == [DPO_MAX_PROMPT_LENGTH, DPO_MAX_PROMPT_LENGTH]
    assert enc.sequences[0] == full_prompt[-128:] + answer[:1920]
    # the short answer keeps all its tokens; its prompt is cut too (the rule looks at the longer answer)
    assert enc.sequences[1] == full_prompt[-128:] + [*ids(t, "<s>assistant\nblue</s>\n"), t.eos_token_id]


def test_dpo_without_bos_uses_eos_and_without_template_fastchat_tulu(tmp_path):
    t = tok(tmp_path, template=None)
    t.bos_token = None
    enc = CompatRenderer(t, MODE, kind="dpo").encode([pair()], boundaries=True)[0]
    assert t.decode(enc.sequences[0]) == "</s><|user|>\nWhat is 2 + 2?\n<|assistant|>\nThe answer is 4.\n</s>"
    assert t.decode(enc.sequences[0][enc.starts[0]:]) == "<|assistant|>\nThe answer is 4.\n</s>"
    assert fastchat_tulu([("user", "hi"), ("assistant", "")]) == "<|user|>\nhi\n<|assistant|>\n"


def test_classifier_tokenises_the_rendered_text_with_special_tokens(tmp_path):
    t = tok(tmp_path)
    r = CompatRenderer(t, MODE, kind="classifier", pool_pad_id=t.pad_token_id)
    enc = r.encode([pair()], boundaries=False)[0]
    assert [t.decode(s) for s in enc.sequences] == [PROMPT_TEXT + "<s>assistant\nThe answer is 4.</s>\n",
                                                    PROMPT_TEXT + "<s>assistant\nblue</s>\n"]
    assert enc.sequences[1] == list(t(PROMPT_TEXT + "<s>assistant\nblue</s>\n")["input_ids"]) and enc.starts == [0, 0]


def test_classifier_drops_the_first_of_a_doubled_bos(tmp_path):
    t = tok(tmp_path, bos_adds=True)  # tokenizer prepends <s>; the template starts with <s>
    assert list(t(PROMPT_TEXT)["input_ids"][:2]) == [t.bos_token_id] * 2
    enc = CompatRenderer(t, MODE, kind="classifier").encode([pair()], boundaries=False)[0]
    assert t.decode(enc.sequences[0]) == PROMPT_TEXT + "<s>assistant\nThe answer is 4.</s>\n"
    assert enc.sequences[0][:2] == [t.bos_token_id, ids(t, "user")[0]]


def test_classifier_pools_before_trailing_pad_ids(tmp_path):
    """pad == EOS and a template ending in EOS: transformers 4.51 reads the score before it."""
    t = tok(tmp_path, template="{% for m in messages %}{{ m['role'] + ': ' + m['content'] + eos_token }}{% endfor %}")
    enc = CompatRenderer(t, MODE, kind="classifier", pool_pad_id=t.eos_token_id).encode([pair()], boundaries=False)[0]
    assert t.decode(enc.sequences[0]) == "user: What is 2 + 2?</s>assistant: The answer is 4."
    assert t.decode(CompatRenderer(t, MODE, kind="classifier", pool_pad_id=t.pad_token_id)
                    .encode([pair()], boundaries=False)[0].sequences[0]).endswith("4.</s>")


def test_multi_turn_prompts_alternate_roles_by_position(tmp_path):
    t = tok(tmp_path)
    p = Pair("1", "s", (("system", "Be brief."), ("user", "Hi"), ("user", "What is 2 + 2?")), ("4",), ("5",))
    enc = CompatRenderer(t, MODE, kind="classifier").encode([p], boundaries=False)[0]
    assert t.decode(enc.sequences[0]) == ("<s>user\nBe brief.</s>\n<s>assistant\nHi</s>\n<s>user\nWhat is 2 + 2?</s>\n"
                                          "<s>assistant\n4</s>\n")


def test_compat_mode_is_recorded_and_keys_the_cache(tiny_lm, rows_70, tmp_path):
    def go(**kw):
        return run(EvalConfig(model=str(tiny_lm), dataset=str(rows_70), kind="dpo", bootstrap=0, cache=False,
                              progress=False, out=tmp_path / str(len(kw)), **kw))

    clean, compat = go(), go(compat=MODE)
    assert clean.results["config"]["compat"] is None
    assert compat.results["config"]["compat"] == MODE and compat.results["rendering"]["compat"] == MODE
    assert compat.results["cache"]["key"] != clean.results["cache"]["key"]
    assert any("--compat rewardbench-0.1.4" in n for n in compat.results["notices"])
    assert [r.scores for r in compat.rows] != [r.scores for r in clean.rows]
    with pytest.raises(ModelError, match="--template and --max-length"):
        go(compat=MODE, max_length=64)
    with pytest.raises(ModelError, match="--compat 'rewardbench-9'"):
        go(compat="rewardbench-9")
