"""scripts/install-system, the Makefile's way to the apt packages, checked on the real dpkg database.

On a machine that has everything (as `make test` leaves it) the check must pass quickly. The
not-root path is taken for real: a non-root user runs it with one real Debian package that is
not installed added to the list, and must get one message naming it and the command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.resources import require

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install-system"
# Small real Debian packages that nothing here needs; the test uses the first one not installed.
CANDIDATES = ("sl", "cowsay", "figlet", "fortune-mod", "bsdgames")


def installed(package: str) -> bool:
    done = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package], capture_output=True, text=True)
    return done.stdout.startswith("ii")


def as_non_root() -> list[str]:
    """The command prefix that runs as a non-root user: nobody when we are root, else ourselves."""
    if os.geteuid() != 0:
        return []
    require("setpriv (util-linux)", shutil.which("setpriv") is not None, "apt-get install util-linux")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_with_everything_installed_the_check_passes_in_well_under_five_seconds():
    require("dpkg-query", shutil.which("dpkg-query") is not None, "a Debian machine")
    start = time.monotonic()
    done = subprocess.run([str(SCRIPT), "toolchains", "review"], capture_output=True, text=True, cwd=REPO, timeout=60)
    elapsed = time.monotonic() - start
    require("system packages", "missing system packages" not in done.stderr, done.stderr.strip())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "install-system: system packages present (toolchains review)"
    assert elapsed < 5, f"the check took {elapsed:.1f} s"


def test_not_root_with_packages_missing_stops_with_one_message_and_the_install_command():
    require("dpkg-query", shutil.which("dpkg-query") is not None, "a Debian machine")
    absent = [p for p in CANDIDATES if not installed(p)][:2]
    assert len(absent) == 2, "two of the candidate packages must be absent"
    # one missing package for each group script, checked by their own dpkg-query code
    env = {**os.environ, "RBKIT_EXTRA_TOOLCHAIN_PACKAGES": absent[0], "RBKIT_EXTRA_REVIEW_PACKAGES": absent[1]}
    done = subprocess.run(
        [*as_non_root(), "scripts/install-system", "toolchains", "review"], capture_output=True, text=True, cwd=REPO, env=env, timeout=60
    )
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    head, command = lines[0].split("; install them as root with: ")
    assert head.startswith("install-system: missing system packages: ")
    assert set(absent) <= set(head.split(": ", 2)[2].split())
    assert command == "sudo scripts/install-toolchains && sudo scripts/install-review-deps"
    assert not any(installed(p) for p in absent)  # the check installed nothing


def test_a_group_script_whose_check_breaks_stops_the_command_loudly(tmp_path: Path):
    shutil.copy(SCRIPT, tmp_path / "install-system")
    (tmp_path / "install-toolchains").write_text("exit 7\n")
    done = subprocess.run([str(tmp_path / "install-system"), "toolchains"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "install-toolchains --missing failed" in done.stderr, done.stderr


def test_an_unknown_group_is_refused():
    done = subprocess.run([str(SCRIPT), "toolchain"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown group 'toolchain'" in done.stderr
