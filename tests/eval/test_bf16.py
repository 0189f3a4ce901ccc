"""bf16 on CPU: scores move with batch composition only within eval.precision's stated bound,
decisions never move outside near-ties, and the prefix self-check keeps a working cache."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from rbkit.eval.precision import BATCH_TOLERANCE, batch_bound, prefix_check_passes
from rbkit.eval.runner import EvalConfig, run

pytestmark = pytest.mark.model


def shuffled(src: Path, dest: Path) -> Path:
    lines = src.read_text().splitlines(keepends=True)
    random.Random(7).shuffle(lines)
    dest.write_text("".join(lines))
    return dest


def by_key(outcome) -> dict:
    return {(r.subset, r.id): r for r in outcome.rows}


def check_bf16(model: Path, rows: Path, tmp_path: Path, variants: tuple[dict, ...], **kw) -> None:
    common = dict(model=str(model), bootstrap=0, cache=False, progress=False, dtype="bfloat16", **kw)
    ref = by_key(run(EvalConfig(**common, dataset=str(rows), batch_size=64, max_tokens=10**7)))
    bound = batch_bound(torch.bfloat16, [s for r in ref.values() for s in r.scores])
    clear = {k for k, r in ref.items() if abs(r.scores[0] - r.scores[1]) > 2 * bound}
    assert len(clear) >= len(ref) // 2, "too few pairs outside the near-tie band for the test to see a flip"
    for variant in variants:
        got = by_key(run(EvalConfig(**common, **variant)))
        assert got.keys() == ref.keys()
        for key, r in got.items():
            for a, b in zip(r.scores, ref[key].scores, strict=True):
                assert abs(a - b) <= bound, f"{variant}: {key} score {a} vs {b} (bound {bound})"
            if key in clear:
                assert r.credit == ref[key].credit, f"{variant}: decision changed for {key}"


def test_bf16_classifier_scores_stay_within_the_stated_bound(tiny_rm, rows_70, tmp_path):
    check_bf16(tiny_rm, rows_70, tmp_path, (
        dict(dataset=str(rows_70), batch_size=5, max_tokens=10**7),
        dict(dataset=str(shuffled(rows_70, tmp_path / "shuffled.jsonl")), max_tokens=256),
    ))


def test_bf16_dpo_scores_stay_within_the_stated_bound(tiny_lm, rows_70, tmp_path):
    shuffled_rows = str(shuffled(rows_70, tmp_path / "shuffled.jsonl"))
    check_bf16(tiny_lm, rows_70, tmp_path, (dict(dataset=shuffled_rows, batch_size=9, max_tokens=10**7),),
               kind="dpo", reduction="sum")


def test_bf16_prefix_self_check_keeps_a_working_cache(tiny_rm, rows_70):
    outcome = run(EvalConfig(model=str(tiny_rm), dataset=str(rows_70), dtype="bfloat16", bootstrap=0, cache=False,
                             progress=False))
    assert outcome.results["scorer"]["prefix_cache"] is True
    assert not any("prefix sharing disabled" in n for n in outcome.notices)


def test_prefix_check_tolerance_follows_the_dtype():
    plain = torch.tensor([0.05, -0.02], dtype=torch.float64)
    one_percent = plain + 0.01 * 0.05
    assert prefix_check_passes(one_percent, plain, torch.bfloat16)
    assert not prefix_check_passes(one_percent, plain, torch.float32)
    assert not prefix_check_passes(plain + 0.2 * 0.05, plain, torch.bfloat16), "a broken cache misses by far more"


def test_fp32_bound_is_the_absolute_1e_5():
    assert batch_bound(torch.float32, [100.0, -3.0]) == BATCH_TOLERANCE[torch.float32] == 1e-5
