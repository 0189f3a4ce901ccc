"""The trunk's Linear layers through oneDNN's packed GEMM (eval.cpu_linear): same decisions,
scores within the batch-invariance tolerance of torch's own fp32 GEMM."""

from __future__ import annotations

import pytest
import torch
from rbkit.eval.cpu_linear import PackedLinear, pack_trunk
from rbkit.eval.runner import EvalConfig, run

pytestmark = pytest.mark.model


def scores_of(model, rows, **kw) -> tuple[dict, dict]:
    outcome = run(EvalConfig(model=str(model), dataset=str(rows), bootstrap=0, cache=False, progress=False, **kw))
    return {(r.subset, r.id): (r.scores, r.credit) for r in outcome.rows}, outcome.results["run"]


def check_same(model, rows, **kw) -> None:
    packed, packed_run = scores_of(model, rows, onednn=True, **kw)
    plain, plain_run = scores_of(model, rows, onednn=False, **kw)
    assert packed_run["onednn_linears"] > 0 and plain_run["onednn_linears"] == 0
    assert packed.keys() == plain.keys()
    for key, (scores, credit) in packed.items():
        assert credit == plain[key][1], f"decision changed for {key}"
        for a, b in zip(scores, plain[key][0], strict=True):
            assert abs(a - b) <= 1e-5, f"{key}: {a} vs {b}"


def test_classifier_scores_match_torch_gemm(tiny_rm, rows_70):
    check_same(tiny_rm, rows_70)


def test_dpo_scores_match_torch_gemm(tiny_lm, rows_70):
    check_same(tiny_lm, rows_70, kind="dpo", reduction="sum")


def test_bf16_model_is_left_alone(tiny_rm):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_rm, dtype=torch.bfloat16)
    assert pack_trunk(model) == 0
    assert not any(isinstance(m, PackedLinear) for m in model.modules())


def test_a_weight_another_module_still_uses_is_kept_intact():
    """Packing releases the pages of the unpacked weights; a weight tied to a module that stays
    (here the embedding) must keep its values."""
    from transformers import LlamaConfig, LlamaForSequenceClassification

    config = LlamaConfig(vocab_size=256, hidden_size=256, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=4, num_labels=1, pad_token_id=0)
    torch.manual_seed(0)
    model = LlamaForSequenceClassification(config).eval()
    q_proj = model.model.layers[0].self_attn.q_proj
    q_proj.weight = model.model.embed_tokens.weight  # 256 x 256 fp32: 64 pages
    before = model.model.embed_tokens.weight.detach().clone()
    assert pack_trunk(model) > 0
    assert torch.equal(model.model.embed_tokens.weight.detach(), before)
