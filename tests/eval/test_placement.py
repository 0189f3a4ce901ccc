"""eval.placement: --max-memory parsing, --attn-implementation passed through, --ref-device for the DPO reference."""

from __future__ import annotations

import pytest
from eval_testkit import tiny_causal_lm
from rbkit.eval.errors import ModelError
from rbkit.eval.placement import parse_max_memory
from rbkit.eval.runner import EvalConfig, run


def test_max_memory_names_devices_and_sizes():
    assert parse_max_memory("0=70GiB, 1=70GiB,cpu=200GiB") == {0: "70GiB", 1: "70GiB", "cpu": "200GiB"}
    assert parse_max_memory("cpu=123456") == {"cpu": 123456}
    with pytest.raises(ValueError, match="expected DEVICE=SIZE"):
        parse_max_memory("cpu:2GiB")


@pytest.mark.model
def test_attn_implementation_reaches_transformers_and_keeps_scores(tiny_rm, rows_70):
    common = dict(model=str(tiny_rm), dataset=str(rows_70), bootstrap=0, cache=False, progress=False)
    sdpa = run(EvalConfig(**common, attn_implementation="sdpa"))
    eager = run(EvalConfig(**common, attn_implementation="eager"))
    assert eager.results["config"]["attn_implementation"] == "eager"
    a, b = {r.id: r.scores for r in sdpa.rows}, {r.id: r.scores for r in eager.rows}
    assert all(abs(x - y) <= 1e-5 for k in a for x, y in zip(a[k], b[k], strict=True))


def test_an_unknown_attn_implementation_is_refused(tiny_rm, rows_70):
    with pytest.raises(ModelError, match="--attn-implementation 'fast'"):
        run(EvalConfig(model=str(tiny_rm), dataset=str(rows_70), attn_implementation="fast", progress=False))


@pytest.mark.model
def test_ref_device_holds_the_reference_and_scores_the_same(tiny_lm, rows_70, tmp_path):
    ref = tiny_causal_lm(tmp_path / "ref", seed=1)
    common = dict(model=str(tiny_lm), ref_model=str(ref), dataset=str(rows_70), bootstrap=0, cache=False,
                  progress=False, sample=4)
    together = run(EvalConfig(**common))
    apart = run(EvalConfig(**common, ref_device="cpu"))
    assert apart.results["scorer"]["reference_device"] == "cpu"
    assert apart.results["config"]["ref_device"] == "cpu"
    assert [r.scores for r in together.rows] == [r.scores for r in apart.rows]


def test_ref_device_needs_a_reference(tiny_lm, rows_70):
    with pytest.raises(ModelError, match="--ref-device only applies with --ref-model"):
        run(EvalConfig(model=str(tiny_lm), kind="dpo", dataset=str(rows_70), ref_device="cpu", progress=False))


def test_weights_load_straight_onto_the_device_in_the_asked_dtype():
    import torch
    from rbkit.eval.placement import Placement, load_kwargs

    one = load_kwargs(Placement(device="cuda:1"), torch.bfloat16)
    assert one == {"dtype": torch.bfloat16, "low_cpu_mem_usage": True, "device_map": "cuda:1"}
    spread = load_kwargs(Placement(device_map="auto", max_memory={0: "70GiB"}, offload_folder=None,
                                   attn_implementation="sdpa"), torch.bfloat16)
    assert spread["device_map"] == "auto" and spread["max_memory"] == {0: "70GiB"}
    assert spread["offload_folder"] and spread["attn_implementation"] == "sdpa"
