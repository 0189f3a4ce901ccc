"""A `rbkit eval --kind judge` process killed with SIGKILL resumes without asking anything twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.eval.generation.openai_server import serve_openai
from tests.eval.judge.conftest import MAX_NEW_TOKENS, write_jsonl

pytestmark = [pytest.mark.model, pytest.mark.slow]
ROWS = [{"id": f"q{i}", "subset": "llmbar-natural", "prompt": f"What is {i} + {i}?", "chosen": f"{2 * i}.",
         "rejected": f"{2 * i + 1}."} for i in range(4)]


def judge_cli(url: str, rows: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "rbkit", "eval", "--kind", "judge", "--model", "SmolLM2-135M-Instruct",
            "--api-base", url, "--dataset", str(rows), "--out", str(out), "--bootstrap", "0",
            "--max-new-tokens", str(MAX_NEW_TOKENS), "--concurrency", "1", "--quiet"]


def cached_lines(cache: Path) -> int:
    return sum(1 for f in (cache / "generation").glob("*.jsonl") for line in f.read_text().splitlines() if line.strip())


def test_sigkill_mid_run_then_rerun_asks_only_the_rest(smollm2_backend, mirror: Path, tmp_path: Path) -> None:
    rows = write_jsonl(tmp_path / "rows.jsonl", ROWS)
    cache = tmp_path / "cache"
    env = {**os.environ, "RBKIT_CACHE": str(cache), "RBKIT_SOURCES": str(mirror)}
    with serve_openai(smollm2_backend) as server:
        child = subprocess.Popen(judge_cli(server.url, rows, tmp_path / "killed"), env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while server.generated < 2 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.poll() is None, child.stderr.read().decode()[-2000:] if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        kept = cached_lines(cache)
        before = server.chat_requests
        done = subprocess.run(judge_cli(server.url, rows, tmp_path / "out"), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert 1 <= kept < 8 and not (tmp_path / "killed" / "results.json").exists()
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert server.chat_requests - before == 8 - kept == res["run"]["requests_sent"]
    assert res["run"]["requests_cached"] == kept and res["judge"]["overall"]["requests"] == 8
