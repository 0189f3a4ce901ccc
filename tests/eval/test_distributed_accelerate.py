"""`accelerate launch --multi_gpu --num_processes 2` (gloo on a CPU machine) scores like one process."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from launch_testkit import MAX_TOKENS, accelerate_launch, env_for, eval_args, results, scores
from rbkit.eval.runner import EvalConfig, run

pytestmark = [pytest.mark.slow, pytest.mark.model]


def test_accelerate_launch_gives_the_rows_and_decisions_of_one_process(tiny_rm: Path, rows_70: Path, tmp_path: Path):
    single = tmp_path / "single"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run(EvalConfig(model=str(tiny_rm), dataset=str(rows_70), out=single, max_tokens=MAX_TOKENS, bootstrap=50,
                       cache=False, progress=False))
    finally:
        torch.set_num_threads(threads)
    out = tmp_path / "accelerate"
    done = accelerate_launch(eval_args(tiny_rm, rows_70, out), env_for(tmp_path / "cache"))
    assert done.returncode == 0, done.stderr[-3000:]
    block = results(out)["distributed"]
    assert block["world_size"] == 2 and sum(block["rows_per_rank"]) == 70 and min(block["rows_per_rank"]) > 0
    a, b = scores(single), scores(out)
    assert a["id"] == b["id"] and a["correct"] == b["correct"]
    assert all(abs(x - y) <= 1e-5 for x, y in zip(a["score_chosen"] + a["score_rejected"],
                                                  b["score_chosen"] + b["score_rejected"], strict=True))
