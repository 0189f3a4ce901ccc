"""A rank that dies mid-run: the rerun scores only what is missing and ends with the same result.

The death is eval.distributed's test hook (RBKIT_TEST_EXIT_AFTER="1:1": rank 1 leaves with
os._exit right after its first batch is in the cache, as a killed process leaves)."""

from __future__ import annotations

from pathlib import Path

import pytest
from launch_testkit import MAX_TOKENS, cache_rows, env_for, eval_args, results, scores, torchrun
from rbkit.eval.distributed import FAULT_HOOK
from rbkit.eval.runner import EvalConfig, run

pytestmark = [pytest.mark.slow, pytest.mark.model]


def test_a_rerun_after_a_rank_died_scores_only_the_missing_rows(tiny_rm: Path, rows_70: Path, tmp_path: Path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    died = torchrun(eval_args(tiny_rm, rows_70, out), env_for(cache, **{FAULT_HOOK: "1:1"}))
    assert died.returncode != 0, "the launch must fail when a rank dies"
    assert not (out / "results.json").exists()
    before = cache_rows(cache)
    assert 0 < len(before) < 70, "the death must land mid-run"

    rerun = torchrun(eval_args(tiny_rm, rows_70, out), env_for(cache))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    res = results(out)
    assert res["run"]["rows_cached"] == len(set(before))
    assert res["run"]["rows_scored"] == sum(res["distributed"]["rows_per_rank"]) == 70 - len(set(before))
    after = cache_rows(cache)
    assert len(after) == len(set(after)) == 70, "each row scored and stored exactly once"

    fresh = run(EvalConfig(model=str(tiny_rm), dataset=str(rows_70), out=tmp_path / "fresh", max_tokens=MAX_TOKENS,
                           bootstrap=50, cache=False, progress=False))
    a, b = scores(out), scores(tmp_path / "fresh")
    assert a["id"] == b["id"] and a["correct"] == b["correct"]
    assert all(abs(x - y) <= 1e-5 for x, y in zip(a["score_chosen"] + a["score_rejected"],
                                                  b["score_chosen"] + b["score_rejected"], strict=True))
    strip = ("run", "cache", "distributed", "notices")
    assert {k: v for k, v in res.items() if k not in strip} == {k: v for k, v in fresh.results.items() if k not in strip}
