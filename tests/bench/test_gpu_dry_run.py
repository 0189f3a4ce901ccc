"""bench/gpu.py --dry-run: the GPU bench's whole set-up runs on a CPU (both evaluators, model, sample, report)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.resources import require

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.model]


def test_dry_run_scores_the_same_pairs_with_both_evaluators():
    cache = Path(os.environ.get("RBKIT_BENCH_CACHE") or REPO / ".cache" / "bench")
    require("uv (creates the original evaluator's venv)", shutil.which("uv") is not None,
            "python3 -m pip install uv")
    sys.path.insert(0, str(REPO / "bench"))
    from speed_env import ensure_original_venv  # bench/ is scripts, not a package

    ensure_original_venv(cache)  # idempotent: a stamp file; created once (`make bench` does the same)
    done = subprocess.run([sys.executable, str(REPO / "bench" / "gpu.py"), "--dry-run"], cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    res = json.loads((cache / "runs" / "gpu-dry" / "gpu.json").read_text())
    assert res["dry_run"] is True and res["device"] == "cpu"
    assert res["pairs"] == 4
    for side in ("original", "rbkit"):
        fig = res[side]
        assert fig["pairs"] == 4 and fig["tokens_per_s"] > 0 and fig["share_of_measured_bf16_peak"] > 0
    assert res["rbkit_config"]["dtype"] == "bfloat16"
    assert "rewardbench 0.1.4" in done.stdout and "rbkit / original pairs/s" in done.stdout
