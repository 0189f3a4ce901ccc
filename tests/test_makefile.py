"""`make test` fails whenever pytest does, including pytest's exit 5 (no test collected)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.resources import require

REPO = Path(__file__).resolve().parents[1]


def test_make_test_fails_when_no_test_is_collected():
    require("make", shutil.which("make") is not None, "apt-get install make")
    done = subprocess.run(
        # -o: the set-up and lint prerequisites count as done; only the pytest step runs
        ["make", "-s", "-o", "system", "-o", "venv", "-o", "lint", "test", "PYTEST_ARGS=tests/test_makefile.py -k zz_no_such_test -p no:cacheprovider"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "no tests ran" in done.stdout or "deselected" in done.stdout, done.stdout + done.stderr
    assert done.returncode != 0
    assert "Error 5" in done.stderr  # make names pytest's exit status
