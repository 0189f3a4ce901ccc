"""eval.distributed's pure parts: the launch from the environment, and batches shared out by tokens."""

from __future__ import annotations

import pytest
from rbkit.eval.distributed import FAULT_HOOK, Launch, assign, detect, exit_after, rank_device
from rbkit.eval.errors import ModelError


def test_no_launcher_is_one_process():
    assert detect({}) == Launch(0, 1, 0, 1)
    assert not detect({}).distributed


def test_torchrun_variables_give_the_rank():
    launch = detect({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert launch == Launch(3, 4, 1, 2) and launch.distributed and not launch.main


def test_a_rank_outside_the_world_is_refused():
    with pytest.raises(ModelError, match="RANK=4 is not within WORLD_SIZE=4"):
        detect({"RANK": "4", "WORLD_SIZE": "4"})


def test_batches_are_balanced_by_tokens_not_rows():
    costs = [1000, 10, 10, 10, 10, 10, 10, 900]
    shards = assign(costs, 2)
    assert sorted(b for s in shards for b in s) == list(range(len(costs))), "every batch exactly once"
    # by rows it would be 4 and 4; by tokens the 1000-token batch stands alone against the rest (960)
    assert shards == [[0], [1, 2, 3, 4, 5, 6, 7]]


def test_more_ranks_than_batches_leaves_some_idle():
    assert assign([5, 3], 4) == [[0], [1], [], []]


def test_auto_device_is_the_local_gpu_under_a_launcher():
    two = Launch(1, 2, 1, 2)
    assert rank_device("auto", two, cuda_available=True) == "cuda:1"
    assert rank_device("cuda", two, cuda_available=True) == "cuda:1"
    assert rank_device("auto", Launch(), cuda_available=True) == "cuda"
    assert rank_device("auto", two, cuda_available=False) == "cpu"


def test_fault_hook_names_one_rank_and_only_under_a_launcher():
    env = {FAULT_HOOK: "1:2"}
    assert exit_after(Launch(1, 2, 1, 2), env) == 2
    assert exit_after(Launch(0, 2, 0, 2), env) is None
    assert exit_after(Launch(), {FAULT_HOOK: "0:1"}) is None
