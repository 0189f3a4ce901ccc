"""`torchrun --nproc_per_node 2` (gloo, CPU) scores like one process: same rows, same decisions, same scores."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from launch_testkit import MAX_TOKENS, cache_rows, env_for, eval_args, results, scores, torchrun
from rbkit.eval.runner import EvalConfig, run

pytestmark = [pytest.mark.slow, pytest.mark.model]


@pytest.fixture(scope="module")
def one_process(tiny_rm: Path, rows_70: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The single-process result at one thread, the thread count torchrun gives each rank."""
    out = tmp_path_factory.mktemp("one-process")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run(EvalConfig(model=str(tiny_rm), dataset=str(rows_70), out=out, max_tokens=MAX_TOKENS, bootstrap=50,
                       cache=False, progress=False))
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="module")
def two_ranks(tiny_rm: Path, rows_70: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(result folder, cache folder) of one torchrun launch with two CPU ranks."""
    base = tmp_path_factory.mktemp("two-ranks")
    out, cache = base / "out", base / "cache"
    done = torchrun(eval_args(tiny_rm, rows_70, out), env_for(cache))
    assert done.returncode == 0, done.stderr[-3000:]
    return out, cache


def test_two_ranks_give_the_decisions_and_scores_of_one_process(one_process, two_ranks):
    a, b = scores(one_process), scores(two_ranks[0])
    assert a["id"] == b["id"] and len(a["id"]) == 70
    assert a["correct"] == b["correct"]
    assert all(abs(x - y) <= 1e-5 for x, y in zip(a["score_chosen"] + a["score_rejected"],
                                                  b["score_chosen"] + b["score_rejected"], strict=True))
    ra, rb = results(one_process), results(two_ranks[0])
    for block in ("subsets", "sections", "overall"):
        assert ra[block] == rb[block]


def test_two_ranks_match_one_process_bit_for_bit_at_equal_threads(one_process, two_ranks):
    """Whole batches of the one-process plan, one thread each: the very same floats."""
    a, b = scores(one_process), scores(two_ranks[0])
    assert a["scores"] == b["scores"]


def test_every_row_is_scored_by_exactly_one_rank(two_ranks):
    out, cache = two_ranks
    res = results(out)
    block = res["distributed"]
    assert block["world_size"] == 2 and block["backend"] == "gloo"
    assert len(block["rows_per_rank"]) == len(block["seconds_per_rank"]) == 2
    assert all(n > 0 for n in block["rows_per_rank"]), "no rank scores everything"
    assert sum(block["rows_per_rank"]) == res["run"]["rows_scored"] == 70
    assert block["threads_per_rank"] == [1, 1]
    stored = cache_rows(cache)
    assert len(stored) == len(set(stored)) == 70, "each row is appended once, by one rank"
