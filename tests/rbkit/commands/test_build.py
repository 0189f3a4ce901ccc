"""`rbkit build` on tiny fixture subsets (tests/rbkit/fixture_cli.py): what a build may never lose.

A missing source writes nothing and exits 3; --allow-missing records the gap; a build killed
while writing leaves the previous folder intact and the next build cleans up; a full disk ends
in one line and leaves the previous folder intact.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.resources import require

FIXTURE_CLI = Path(__file__).resolve().parents[1] / "fixture_cli.py"
_spec = importlib.util.spec_from_file_location("fixture_cli", FIXTURE_CLI)
assert _spec is not None and _spec.loader is not None
fixture_cli = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture_cli)
make_mirror = fixture_cli.make_mirror
FIXTURE_SHA256 = hashlib.sha256(fixture_cli.DATASET.read_bytes()).hexdigest()


def rbkit(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(FIXTURE_CLI), *args], capture_output=True, text=True, env=env, timeout=300)


def env_for(mirror: Path) -> dict[str, str]:
    return {**os.environ, "RBKIT_SOURCES": str(mirror), "COLUMNS": "80"}


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "timings.json"
    }


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.fixture
def full_mirror(tmp_path: Path) -> Path:
    return make_mirror(tmp_path / "mirror")


def test_a_missing_source_writes_nothing_lists_the_file_and_exits_3(full_mirror, tmp_path):
    out = tmp_path / "out"
    first = rbkit("build", "fixture", "--out", str(out), env=env_for(full_mirror))
    assert first.returncode == 0, first.stderr
    before = tree_bytes(out)
    assert set(json.loads((out / "build.json").read_text())["subsets"]) == {"fixture-natural", "fixture-other"}

    lacking = make_mirror(tmp_path / "lacking", without=("FixtureOther",))
    result = rbkit("build", "fixture", "--out", str(out), env=env_for(lacking))
    assert result.returncode == 3, result.stderr
    assert "cannot build fixture-other: source files are missing (nothing was written)" in result.stderr
    assert "source 'llmbar/FixtureOther' is missing" in result.stderr
    assert f"sha256 {FIXTURE_SHA256}" in result.stderr
    assert "rbkit sources fetch llmbar/FixtureOther" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree_bytes(out) == before and leftovers(out) == []


def test_nothing_buildable_writes_nothing_and_exits_3(tmp_path):
    empty = make_mirror(tmp_path / "empty", without=("FixtureNatural", "FixtureOther"))
    result = rbkit("build", "fixture", "--out", str(tmp_path / "out"), env=env_for(empty))
    assert result.returncode == 3, result.stderr
    assert "cannot build fixture-natural, fixture-other" in result.stderr
    assert "rbkit sources fetch llmbar/FixtureNatural llmbar/FixtureOther" in result.stderr
    assert not (tmp_path / "out").exists() and leftovers(tmp_path / "out") == []


def test_allow_missing_builds_the_rest_and_records_the_gap_in_build_json_and_card(tmp_path):
    lacking = make_mirror(tmp_path / "lacking", without=("FixtureOther",))
    out = tmp_path / "out"
    result = rbkit("build", "fixture", "--allow-missing", "--out", str(out), env=env_for(lacking))
    assert result.returncode == 0, result.stderr
    assert "partial build: missing subsets fixture-other" in result.stderr
    manifest = json.loads((out / "build.json").read_text())
    assert list(manifest["subsets"]) == ["fixture-natural"]
    assert manifest["missing"] == {
        "fixture-other": {
            "llmbar/FixtureOther": {
                "repo": "princeton-nlp/LLMBar",
                "revision": "900616bff90b6c6c8e1681f7d079250637c55992",
                "path": "Dataset/LLMBar/FixtureOther/dataset.json",
                "mirror_path": "llmbar/FixtureOther/dataset.json",
                "pin": f"sha256 {FIXTURE_SHA256}",
                "fetch": "rbkit sources fetch llmbar/FixtureOther",
            }
        }
    }
    card = (out / "README.md").read_text()
    assert "## Partial build" in card and "Partial build: missing subsets `fixture-other`." in card
    assert "`rbkit sources fetch llmbar/FixtureOther`" in card


def test_a_build_killed_while_writing_loses_nothing_and_the_next_one_cleans_up(full_mirror, tmp_path):
    out, clean = tmp_path / "out", tmp_path / "clean"
    env = env_for(full_mirror)
    previous = rbkit("build", "fixture", "--target-size", "2", "--out", str(out), env=env)
    assert previous.returncode == 0, previous.stderr
    before = tree_bytes(out)

    marker = tmp_path / "paused"
    proc = subprocess.Popen(
        [sys.executable, str(FIXTURE_CLI), "build", "fixture", "--out", str(out)],
        env={**env, "RBKIT_TEST_PAUSE_AFTER_FIRST_PARQUET": str(marker)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert proc.poll() is None, "the build ended before its write phase"
            assert time.monotonic() < deadline, "the build never reached its write phase"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert tree_bytes(out) == before
    left = leftovers(out)  # what the killed build left: its half-written folder and its lock
    assert any(name.startswith(f".out.tmp-{proc.pid}-") for name in left), left
    half = next(out.parent.glob(f".out.tmp-{proc.pid}-*"))
    written = [p.name for p in (half / "data").iterdir()]  # its first parquet, maybe not yet renamed
    assert len(written) == 1 and "fixture-natural.parquet" in written[0], written

    again = rbkit("build", "fixture", "--out", str(out), env=env)
    assert again.returncode == 0, again.stderr
    assert leftovers(out) == []
    assert rbkit("build", "fixture", "--out", str(clean), env=env).returncode == 0
    assert tree_bytes(out) == tree_bytes(clean) != before


TMPFS_SIZE = "1m"


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 1 MiB tmpfs (root only); under CI or RBKIT_STRICT=1 not getting one is a failure."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(disk)], capture_output=True, text=True)
    require("a 1 MiB tmpfs", mounted.returncode == 0, f"mount at {disk} needs root: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk: Path) -> None:
    """Write a filler file until the file system refuses: nothing is left for the next write."""
    with open(disk / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


def test_a_full_disk_ends_in_one_line_and_keeps_the_previous_output(full_mirror, small_disk):
    out = small_disk / "out"
    env = env_for(full_mirror)
    first = rbkit("build", "fixture", "--target-size", "2", "--out", str(out), env=env)
    assert first.returncode == 0, first.stderr
    before = tree_bytes(out)
    fill(small_disk)

    result = rbkit("build", "fixture", "--out", str(out), env=env)  # 80 columns: the path must not wrap
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"error: no space left writing {out}/data/fixture-natural.parquet", result.stderr
    assert "Traceback" not in result.stderr and "OSError" not in result.stderr
    assert tree_bytes(out) == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "out"]
