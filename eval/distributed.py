"""Data parallel scoring: `rbkit eval` under `torchrun` or `accelerate launch`.

Both launchers start one process per device and tell each its place through RANK,
WORLD_SIZE and LOCAL_RANK (MASTER_ADDR/MASTER_PORT for the rendezvous); `detect` reads them,
and a world of one is the ordinary single-process run. Under a launcher:

- every rank tokenises the rows missing from the resume cache (rank 0 decides which, so all
  agree) and builds the single-process batch plan; `assign` hands whole batches to ranks,
  balanced by tokens (largest first onto the least-loaded rank), so a batch's scores are the
  ones one process computes for it: bit for bit with equal threads per process;
- each rank appends its finished batches to the shared resume cache (appends are locked,
  `eval.cache`), so a rank that dies loses at most its batch in flight and a rerun scores
  only what is missing;
- rank 0 gathers every rank's rows and timings and writes the one results folder.

Backend: NCCL for CUDA tensors (with gloo beside it for the small Python objects gathered),
gloo on CPU. torchrun sets OMP_NUM_THREADS=1 per process unless it is set: export it to run
several CPU threads per rank.

Test hook (tests/eval/test_distributed_resume.py): RBKIT_TEST_EXIT_AFTER="RANK:N" makes that
rank leave with os._exit(3) right after its N-th batch is in the cache, the way a process
killed mid-run leaves. It is read only under a launcher and does nothing otherwise.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rbkit.eval.errors import ModelError

FAULT_HOOK = "RBKIT_TEST_EXIT_AFTER"


@dataclass(frozen=True)
class Launch:
    """This process's place in the launch (rank 0 of 1 when not launched by torchrun/accelerate)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def detect(env: Mapping[str, str] | None = None) -> Launch:
    """The launch from the launcher's environment variables (torchrun and accelerate set the same ones)."""
    env = os.environ if env is None else env
    try:
        world = int(env.get("WORLD_SIZE", "1"))
        rank = int(env.get("RANK", "0"))
        local = int(env.get("LOCAL_RANK", str(rank)))
        local_world = int(env.get("LOCAL_WORLD_SIZE", str(world)))
    except ValueError as exc:
        raise ModelError(f"RANK/WORLD_SIZE/LOCAL_RANK must be integers ({exc})") from exc
    if world < 1 or not 0 <= rank < world or local < 0:
        raise ModelError(f"launcher environment: RANK={rank} is not within WORLD_SIZE={world}")
    return Launch(rank, world, local, local_world)


def rank_device(device: str, launch: Launch, cuda_available: bool) -> str:
    """Each rank's device: `auto`/`cuda` mean the GPU of its local rank; anything else as given."""
    if device == "auto":
        if not cuda_available:
            return "cpu"
        return f"cuda:{launch.local_rank}" if launch.distributed else "cuda"
    if device == "cuda" and launch.distributed:
        return f"cuda:{launch.local_rank}"
    return device


def assign(costs: Sequence[int], world_size: int) -> list[list[int]]:
    """Batch indices per rank, balanced by tokens: the costliest batch first onto the least-loaded
    rank (ties to the lower rank). Each rank keeps its batches in plan order (longest first)."""
    heap = [(0, r) for r in range(world_size)]
    shards: list[list[int]] = [[] for _ in range(world_size)]
    for b in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        load, r = heapq.heappop(heap)
        shards[r].append(b)
        heapq.heappush(heap, (load + costs[b], r))
    return [sorted(s) for s in shards]


def exit_after(launch: Launch, env: Mapping[str, str] | None = None) -> int | None:
    """The test hook: after how many batches this rank leaves (None: it does not)."""
    spec = (os.environ if env is None else env).get(FAULT_HOOK, "")
    if not spec or not launch.distributed:
        return None
    rank, _, count = spec.partition(":")
    return int(count or 1) if int(rank) == launch.rank else None


class Group:
    """The process group of one launch: object collectives over gloo, NCCL set up for CUDA ranks."""

    def __init__(self, launch: Launch, device: str):
        import torch
        import torch.distributed as dist

        self.launch = launch
        self._dist = dist
        cuda = device.startswith("cuda")
        if cuda:
            torch.cuda.set_device(torch.device(device))
        self.backend = "cpu:gloo,cuda:nccl" if cuda else "gloo"
        if not dist.is_initialized():  # accelerate's own state may have set it up already
            dist.init_process_group(backend=self.backend, rank=launch.rank, world_size=launch.world_size)
        self._objects = dist.new_group(backend="gloo") if cuda else None

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's `obj` on every rank."""
        box = [obj]
        self._dist.broadcast_object_list(box, src=0, group=self._objects)
        return box[0]

    def gather(self, obj: Any) -> list[Any] | None:
        """Every rank's `obj`, in rank order, on rank 0 (None on the others)."""
        out: list[Any] | None = [None] * self.launch.world_size if self.launch.main else None
        self._dist.gather_object(obj, out, dst=0, group=self._objects)
        return out

    def smallest(self, value: int) -> int:
        """The smallest `value` over all ranks (a token budget every rank can afford)."""
        values = [None] * self.launch.world_size
        self._dist.all_gather_object(values, value, group=self._objects)
        return min(int(v) for v in values)  # type: ignore[arg-type]

    def barrier(self) -> None:
        self._dist.barrier(group=self._objects)

    def close(self) -> None:
        if self._dist.is_initialized():
            self._dist.destroy_process_group()


def distributed_block(launch: Launch, backend: str, shards: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """results.json's record of the launch: who scored how many rows, tokens and seconds."""
    return {
        "world_size": launch.world_size,
        "backend": backend,
        "rows_per_rank": [int(s["rows"]) for s in shards],
        "batches_per_rank": [int(s["batches"]) for s in shards],
        "tokens_per_rank": [int(s["tokens"]) for s in shards],
        "seconds_per_rank": [round(float(s["seconds"]), 3) for s in shards],
        "threads_per_rank": [int(s["threads"]) for s in shards],
    }
