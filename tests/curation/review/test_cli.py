"""`rbkit review push/pull` as a user runs them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rbkit.curation.review.decisions import read_decisions

from tests.curation.review.conftest import Live, by_text, fixture_rows


def rbkit(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("rbkit")), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, **env})


@pytest.mark.argilla
@pytest.mark.slow
def test_push_then_pull_from_the_command_line(live_argilla: Live, build_dir: Path):
    ws = live_argilla.workspace()
    env = {"ARGILLA_API_URL": live_argilla.url, "ARGILLA_API_KEY": live_argilla.owner_key}
    pushed = rbkit("review", "push", str(build_dir), "--subset", "xstest-should-refuse", "--workspace", ws, **env)
    assert pushed.returncode == 0, pushed.stderr
    assert "new dataset" in pushed.stdout
    assert f"annotate xstest-should-refuse: {live_argilla.url}/dataset/" in pushed.stdout
    assert "Sending records" not in pushed.stderr  # the SDK's own progress bars stay quiet

    neighbour = by_text(fixture_rows(), "neighbour")
    live_argilla.reviewer("alice", ws).answer("xstest-should-refuse", neighbour.id, "rejected", "the refusal is right")
    pulled = rbkit("review", "pull", str(build_dir), "--workspace", ws, **env)
    assert pulled.returncode == 0, pulled.stderr
    assert "1 decisions in" in pulled.stdout
    assert read_decisions(build_dir)[neighbour.id].reviewer == "alice"


@pytest.mark.argilla
@pytest.mark.slow
def test_two_pushes_started_at_once_both_succeed_without_duplicates(live_argilla: Live, build_dir: Path):
    ws = live_argilla.workspace()  # new: both pushes race to create the workspace and each dataset
    env = {**os.environ, "ARGILLA_API_URL": live_argilla.url, "ARGILLA_API_KEY": live_argilla.owner_key}
    command = [str(Path(sys.executable).with_name("rbkit")), "review", "push", str(build_dir), "--workspace", ws]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (_, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr
        assert "Traceback" not in stderr and "Error" not in stderr, stderr
    pairs: dict[str, int] = {}
    for row in fixture_rows():
        pairs[row.subset] = pairs.get(row.subset, 0) + 1
    for subset, count in pairs.items():
        records = live_argilla.records(ws, subset)
        assert sorted(r["external_id"] for r in records) == sorted({r["external_id"] for r in records})
        assert len(records) == count, subset
        notes = [line for stdout, _ in outputs for line in stdout.splitlines() if line.strip("│| ").startswith(subset)]
        assert sum("new dataset" in line for line in notes) == 1, notes  # one created it, the other reused it


def test_an_unreachable_server_is_one_clear_error(build_dir: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = rbkit("review", "pull", str(build_dir), "--api-url", f"http://127.0.0.1:{port}", "--api-key", "k")
    assert result.returncode == 1
    assert "error: cannot reach Argilla" in result.stderr and "Traceback" not in result.stderr
    assert not (build_dir / "review").exists()


def test_an_unknown_subset_names_the_ones_there(build_dir: Path):
    result = rbkit("review", "push", str(build_dir), "--subset", "nope", "--api-url", "http://127.0.0.1:9", "--api-key", "k")
    assert result.returncode == 1
    assert "no subset 'nope' in this build; it has hep-python, llmbar-natural, xstest-should-refuse" in " ".join(result.stderr.split())
