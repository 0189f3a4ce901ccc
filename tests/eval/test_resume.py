"""Resume: a run killed with SIGKILL restarts, scores only the missing rows, ends with the same result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from eval_testkit import tiny_classifier, write_rows

REPO = Path(__file__).resolve().parents[2]
ROWS = 240


def cache_lines(cache: Path) -> list[dict]:
    files = list((cache / "eval").glob("*.jsonl"))
    if not files:
        return []
    out = []
    for line in files[0].read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line
        if "h" in rec:
            out.append(rec)
    return out


def eval_cmd(model: Path, rows: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "rbkit", "eval", "--model", str(model), "--dataset", str(rows), "--out", str(out),
            "--batch-size", "1", "--bootstrap", "100", "--quiet"]


def env_with(cache: Path) -> dict[str, str]:
    return {**os.environ, "RBKIT_CACHE": str(cache), "PYTHONPATH": str(REPO)}


@pytest.mark.slow
def test_sigkill_then_restart_scores_only_the_missing_rows(tmp_path):
    model = tiny_classifier(tmp_path / "rm")
    rows = write_rows(tmp_path / "rows.jsonl", ROWS)
    cache = tmp_path / "cache"
    out = tmp_path / "resumed"

    proc = subprocess.Popen(eval_cmd(model, rows, out), cwd=REPO, env=env_with(cache),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    try:
        while len(cache_lines(cache)) < 40:
            assert proc.poll() is None, f"eval ended before it could be killed: {proc.communicate()[1].decode()[-2000:]}"
            assert time.monotonic() < deadline, "no rows were cached within 300 s"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    done_before = len({r["h"] for r in cache_lines(cache)})
    assert 40 <= done_before < ROWS, "the kill must land mid-run"
    assert not (out / "results.json").exists()

    subprocess.run(eval_cmd(model, rows, out), cwd=REPO, env=env_with(cache), check=True, capture_output=True)
    resumed = json.loads((out / "results.json").read_text())
    assert resumed["run"]["rows_cached"] == done_before
    assert resumed["run"]["rows_scored"] == ROWS - done_before
    lines = cache_lines(cache)
    assert len(lines) == ROWS == len({r["h"] for r in lines}), "each row is scored and stored exactly once"

    fresh_out = tmp_path / "fresh"
    subprocess.run(eval_cmd(model, rows, fresh_out), cwd=REPO, env=env_with(tmp_path / "cache2"), check=True,
                   capture_output=True)
    fresh = json.loads((fresh_out / "results.json").read_text())
    assert fresh["run"]["rows_cached"] == 0
    strip = ("run", "cache")
    assert {k: v for k, v in resumed.items() if k not in strip} == {k: v for k, v in fresh.items() if k not in strip}
    a, b = pq.read_table(out / "scores.parquet").to_pydict(), pq.read_table(fresh_out / "scores.parquet").to_pydict()
    assert a["id"] == b["id"] and a["correct"] == b["correct"]
    assert all(abs(x - y) <= 1e-5 for x, y in zip(a["score_chosen"] + a["score_rejected"],
                                                  b["score_chosen"] + b["score_rejected"], strict=True))
