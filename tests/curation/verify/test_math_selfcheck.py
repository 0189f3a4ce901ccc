import json
import subprocess
import sys
from pathlib import Path

import pytest
from rbkit.curation.sources import resolve
from rbkit.curation.verify.math_selfcheck import run_selfcheck
from rbkit.subsets.prm_math import MATH_TEST

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def math500(mirror):
    """The self-check over the mirror's MATH500 file (the `mirror` fixture sets RBKIT_SOURCES)."""
    return run_selfcheck(resolve(MATH_TEST))


def test_reference_answers_are_extracted_and_equivalent(math500):
    assert math500.total == 500
    assert math500.extracted == 500
    assert math500.rate >= 0.99, "\n".join(m.line() for m in math500.misses)


def test_negative_control_finds_neighbouring_answers_unequal(math500):
    assert math500.control_pairs == 500
    assert not math500.control_failed
    assert math500.control_unequal >= 490, math500.summary()["control_equal"]


@pytest.mark.slow
def test_script_prints_the_figures(mirror):
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "math500_selfcheck.py"), "--json", "--no-control"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["total"] == 500 and figures["rate"] >= 0.99


def test_script_fails_clearly_without_the_mirror(tmp_path, monkeypatch):
    monkeypatch.setenv("RBKIT_SOURCES", str(tmp_path))
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "math500_selfcheck.py")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert done.returncode == 2
    assert "prm800k/math_splits/test.jsonl" in done.stderr
