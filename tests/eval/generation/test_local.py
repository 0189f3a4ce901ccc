"""The local transformers backend with SmolLM2-135M-Instruct: chat template, batching, seeds, stops."""

from __future__ import annotations

import pytest
from rbkit.eval.generation import (
    GenerationError,
    GenerationRequest,
    Message,
    SamplingParams,
    open_backend,
)

pytestmark = pytest.mark.model

PROMPTS = ["What is 2+2?", "Name a colour.", "Write a haiku about the sea."]


def _ask(rid: str, prompt: str, **params) -> GenerationRequest:
    return GenerationRequest(rid, (Message("user", prompt),), SamplingParams(**params))


def _generate(backend, requests, batch_size):
    old, backend.batch_size = backend.batch_size, batch_size
    try:
        return {c.request_id: c for c in backend.generate(requests)}
    finally:
        backend.batch_size = old


def test_greedy_text_does_not_depend_on_the_batch_or_rows_leaving_it(smollm2_backend):
    # prompts of 34 and 37 tokens; the first one finishes first and leaves the batch
    requests = [_ask(f"g{i}", p, max_new_tokens=2 + 2 * i) for i, p in enumerate(PROMPTS[1:])]
    alone = _generate(smollm2_backend, requests, 1)
    together = _generate(smollm2_backend, requests, 2)  # the shorter prompt left-padded
    assert {k: c.text for k, c in alone.items()} == {k: c.text for k, c in together.items()}
    assert [(c.finish_reason, c.completion_tokens) for _, c in sorted(together.items())] == [("length", 2), ("length", 4)]
    assert all(c.prompt_tokens > 10 for c in together.values())


def test_a_seeded_sample_is_the_same_whatever_its_neighbours(smollm2_backend):
    params = {"max_new_tokens": 4, "temperature": 1.0, "seed": 1234}
    alone = _generate(smollm2_backend, [_ask("s", PROMPTS[2], **params)], 1)["s"]
    beside = _generate(smollm2_backend, [_ask("x", PROMPTS[0], **{**params, "seed": 1}), _ask("s", PROMPTS[2], **params)], 2)
    other_seed = _generate(smollm2_backend, [_ask("s", PROMPTS[2], **{**params, "seed": 99})], 1)["s"]
    assert beside["s"].text == alone.text
    assert other_seed.text != alone.text


def test_a_stop_string_ends_the_completion_before_it(smollm2_backend):
    [free] = smollm2_backend.generate([_ask("f", PROMPTS[0], max_new_tokens=6)])
    words = free.text.split(" ")
    stop = " " + words[2]  # a word the model writes, so it stops there
    [cut] = smollm2_backend.generate([_ask("c", PROMPTS[0], max_new_tokens=6, stop=(stop,))])
    assert cut.finish_reason == "stop" and cut.text == free.text[: free.text.index(stop)]
    assert cut.completion_tokens < 6


def test_a_model_without_a_chat_template_is_a_clear_error_naming_it(tmp_path):
    from eval_testkit import tiny_config, train_tokenizer
    from transformers import AutoTokenizer, LlamaForCausalLM

    folder = train_tokenizer(tmp_path / "plain-lm", template=None)
    LlamaForCausalLM(tiny_config(len(AutoTokenizer.from_pretrained(folder)))).save_pretrained(folder)
    with pytest.raises(GenerationError, match=rf"model {folder}: its tokenizer has no chat template"):
        open_backend(str(folder))
