"""Launching `rbkit eval` the way users do for data parallel runs: `torchrun --nproc_per_node 2` on
the CPU (gloo), one thread per process as torchrun sets it, and reading what the runs left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
MAX_TOKENS = 512  # small enough that 70 rows make several batches to share out


def eval_args(model: Path, rows: Path, out: Path) -> list[str]:
    return ["eval", "--model", str(model), "--dataset", str(rows), "--out", str(out), "--max-tokens", str(MAX_TOKENS),
            "--bootstrap", "50", "--quiet"]


def env_for(cache: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "RBKIT_CACHE": str(cache), "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
            "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **extra}


def torchrun(args: list[str], env: dict[str, str], ranks: int = 2) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(ranks),
           "-m", "rbkit", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def accelerate_launch(args: list[str], env: dict[str, str], ranks: int = 2) -> subprocess.CompletedProcess[str]:
    """`accelerate launch --multi_gpu`: on a machine without GPUs it starts torch.distributed.run
    too, so the ranks meet over gloo (accelerate's `--cpu` multi-process mode needs MPI instead)."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(ranks),
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "rbkit", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def cache_rows(cache: Path) -> list[str]:
    """Content hashes of every scored line in the resume cache (duplicates kept)."""
    hashes = []
    for f in (cache / "eval").glob("*.jsonl"):
        for line in f.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "h" in rec:
                hashes.append(rec["h"])
    return hashes


def scores(out: Path) -> dict[str, list]:
    return pq.read_table(out / "scores.parquet").to_pydict()


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))
