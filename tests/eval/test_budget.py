"""Token budgets: --max-tokens as given, the CPU default, a probe sized by what a token costs."""

from __future__ import annotations

import torch
from rbkit.eval.budget import DEFAULT_CPU_TOKENS, bytes_per_token, token_budget
from rbkit.eval.prefix_cache import SUB_BATCH_TOKENS, trunk_budget


def test_the_option_wins():
    assert token_budget(3000, object()) == (3000, "option")


def test_no_gpu_model_gets_the_cpu_default():
    assert token_budget(None, object()) == (DEFAULT_CPU_TOKENS, "default")


def test_a_token_of_a_1b_llama_in_bf16_costs_its_kv_twice_and_one_layer_of_activations():
    from transformers import LlamaConfig

    cfg = LlamaConfig(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                      num_key_value_heads=8)
    kv = 2 * 16 * 8 * 64 * 2
    assert bytes_per_token(cfg, 2) == 2 * kv + (6 * 2048 + 3 * 8192) * 2


def test_cpu_trunk_calls_keep_the_cpu_cap_and_accelerators_take_the_whole_budget():
    assert trunk_budget(100_000, torch.device("cpu")) == SUB_BATCH_TOKENS
    assert trunk_budget(1000, torch.device("cpu")) == 1000
    assert trunk_budget(100_000, torch.device("cuda", 0)) == 100_000
