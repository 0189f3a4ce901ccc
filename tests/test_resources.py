"""Strict mode: in CI (or with RBKIT_STRICT=1) a test that lacks a resource fails, naming it.

The tests run a small test file in a separate pytest with tests/resources.py as its plugin, once
relaxed and once strict, with a toolchain that is surely not installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOOL = "zz-rbkit-no-such-compiler"

INNER = f'''
import shutil

import pytest
from rbkit.curation.errors import ToolchainMissingError

from tests.resources import require


def test_needs_a_toolchain():
    require("toolchain {TOOL}", shutil.which("{TOOL}") is not None, "run scripts/install-toolchains")


def test_verifier_finds_no_compiler():
    raise ToolchainMissingError("{TOOL} is not installed: run scripts/install-toolchains")


def test_skips_for_another_reason():
    pytest.skip("{TOOL} wanted by a plain skip")


def test_expected_failure_is_not_a_skip():
    pytest.xfail("xfail stays xfail")


def test_runs():
    assert True
'''


def run_inner(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(INNER)
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "RBKIT_STRICT")}
    clean["PYTHONPATH"] = os.pathsep.join([str(REPO), clean.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "tests.resources", "-p", "no:cacheprovider", "test_inner.py"],
        cwd=tmp_path,
        env={**clean, "COLUMNS": "400", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def counts(output: str) -> dict[str, int]:
    summary = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}


def test_without_strict_mode_a_missing_resource_skips_and_says_which(tmp_path: Path):
    done = run_inner(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert counts(done.stdout) == {"passed": 1, "skipped": 3, "xfailed": 1}
    assert f"missing toolchain {TOOL}: run scripts/install-toolchains" in done.stdout
    assert f"missing toolchain: {TOOL} is not installed" in done.stdout


def test_rbkit_strict_turns_every_missing_resource_into_a_failure_naming_it(tmp_path: Path):
    done = run_inner(tmp_path, RBKIT_STRICT="1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert counts(done.stdout) == {"failed": 3, "passed": 1, "xfailed": 1}
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 3 and all(TOOL in line for line in failed), failed


def test_ci_alone_is_strict(tmp_path: Path):
    done = run_inner(tmp_path, CI="true")
    assert done.returncode == 1 and counts(done.stdout)["failed"] == 3, done.stdout
