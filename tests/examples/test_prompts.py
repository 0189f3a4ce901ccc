"""The examples' prompt-extraction step, run as the README runs it: `python examples/<x>/prompts.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.examples.conftest import EXAMPLES

RUNS = {
    "math-best-of-4": [],
    "code-python": [],
    "refusals-regenerated": ["--subset", "refusals-offensive"],
}


def run(example: str, out: Path, *args: str, sources: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(EXAMPLES / example / "prompts.py"), "--limit", "2", "--out", str(out), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "RBKIT_SOURCES": str(sources)})


def test_each_example_writes_the_same_prompts_file_twice(mirror: Path, tmp_path: Path):
    for example, args in RUNS.items():
        first, second = tmp_path / f"{example}-1.jsonl", tmp_path / f"{example}-2.jsonl"
        for out in (first, second):
            done = run(example, out, *args, sources=mirror)
            assert done.returncode == 0, done.stderr
        assert first.read_bytes() == second.read_bytes()
        records = [json.loads(line) for line in first.read_text(encoding="utf-8").splitlines()]
        ids = [r["prompt_id"] for r in records]
        assert len(ids) == len(set(ids)) and all(r["prompt"] for r in records)
    math = [json.loads(line) for line in (tmp_path / "math-best-of-4-1.jsonl").read_text().splitlines()]
    assert all(r["prompt"].startswith(r["problem"]) and r["answer"] and r["solution"] for r in math)
    refusals = [json.loads(line) for line in (tmp_path / "refusals-regenerated-1.jsonl").read_text().splitlines()]
    assert [r["side"] for r in refusals] == ["refuse", "comply", "refuse", "comply"]
    assert {r["subcategory"] for r in refusals} == {"triggers for offensive language"}


def test_a_file_that_is_not_the_pinned_one_stops_with_one_line(tmp_path: Path):
    mirror = tmp_path / "mirror"
    bad = mirror / "prm800k" / "math_splits" / "test.jsonl"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"problem": "1+1", "solution": "2", "answer": "2", "unique_id": "x", "level": 1}\n')
    done = run("math-best-of-4", tmp_path / "p.jsonl", sources=mirror)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1
    assert "sha256" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "p.jsonl").exists()
