"""The curator's whole loop on a real subset: build, push, review, pull, rebuild with decisions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rbkit.curation.review.pull import pull
from rbkit.curation.review.push import push
from rbkit.curation.trio_io import read_rows

from tests.curation.review.conftest import Live

pytestmark = [pytest.mark.argilla, pytest.mark.slow]


def rbkit(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("rbkit")), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=dict(os.environ))


def folder_files(build: Path) -> dict[str, bytes]:
    """Every file of a build folder but timings.json (the one file allowed to differ) and
    review/ (the pulled decisions: the rebuild's input, read from the reviewed folder)."""
    return {
        name: p.read_bytes()
        for p in sorted(build.rglob("*"))
        if p.is_file() and (name := p.relative_to(build).as_posix()) != "timings.json" and not name.startswith("review/")
    }


def test_a_rebuild_with_the_decisions_reproduces_the_pulled_subset(live_argilla: Live, mirror: Path, tmp_path: Path):
    reviewed, rebuilt = tmp_path / "reviewed", tmp_path / "rebuilt"
    built = rbkit("build", "llmbar-natural", "--out", str(reviewed))
    assert built.returncode == 0, built.stderr
    rows = read_rows(reviewed / "data" / "llmbar-natural.parquet")
    before = json.loads((reviewed / "build.json").read_text())["subsets"]["llmbar-natural"]["rulers"]

    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    assert push(reviewed, target).pushed == {"llmbar-natural": len(rows)}
    alice = live_argilla.reviewer("alice", ws)
    alice.answer("llmbar-natural", rows[0].id, "chosen")
    alice.answer("llmbar-natural", rows[1].id, "rejected", "the other output follows the instruction")
    alice.answer("llmbar-natural", rows[2].id, "invalid", "the instruction is ambiguous")
    pull(reviewed, target)
    pulled = read_rows(reviewed / "data" / "llmbar-natural.parquet")
    assert len(pulled) == len(rows) - 1 and pulled[1].chosen == rows[1].rejected
    after = json.loads((reviewed / "build.json").read_text())["subsets"]["llmbar-natural"]["rulers"]
    assert after["n"] == len(rows) - 1 and after != before  # the pull recomputed the rulers

    again = rbkit("build", "llmbar-natural", "--out", str(rebuilt), "--review-decisions", str(reviewed / "review"))
    assert again.returncode == 0, again.stderr
    # Every file, rulers and card included: a swap changes "pick the longer" on this subset.
    pulled_files, rebuilt_files = folder_files(reviewed), folder_files(rebuilt)
    assert sorted(pulled_files) == sorted(rebuilt_files)
    assert {"README.md", "build.json", "dropped.jsonl", "data/llmbar-natural.parquet"} <= set(pulled_files)
    for name in pulled_files:
        assert pulled_files[name] == rebuilt_files[name], name
    manifest = json.loads((rebuilt / "build.json").read_text())
    assert manifest["subsets"]["llmbar-natural"]["dropped_by_step"] == {"review": 1}
    assert manifest["subsets"]["llmbar-natural"]["report"]["steps"]["review"]["by_label"] == {
        "chosen": 1, "invalid": 1, "rejected": 1
    }
