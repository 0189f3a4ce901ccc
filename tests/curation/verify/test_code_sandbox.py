"""The sandbox that runs candidate code: users, limits, cleanup."""

from __future__ import annotations

import os
import sys
import time

import pytest
from rbkit.curation.verify.sandbox import Limits, Sandbox, _pids_of_uid

from tests.resources import require

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
LIMITS = Limits(wall_s=5.0, cpu_s=2, file_bytes=1 << 20, nproc=64)


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox()


def run(sandbox: Sandbox, argv: list[str], **kw):
    run_dir = sandbox.new_dir()
    try:
        sandbox.hand_over(run_dir)
        return run_dir.uid, sandbox.run(argv, run_dir, LIMITS, as_sandbox_user=True, **kw)
    finally:
        run_dir.cleanup()


def test_each_run_gets_its_own_throwaway_user(sandbox: Sandbox):
    require("root", sandbox.drops_privileges, "not root: candidates run as the invoking user")
    uid_a, a = run(sandbox, ["id", "-u"])
    uid_b, b = run(sandbox, ["id", "-u"])
    assert a.stdout_tail.strip() == str(uid_a) and b.stdout_tail.strip() == str(uid_b)
    assert uid_a != uid_b and 0 not in (uid_a, uid_b)


def test_the_environment_is_scrubbed(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RBKIT_SECRET_FOR_TEST", "leak")
    _, r = run(sandbox, ["env"], env={"EXTRA": "1"})
    names = {line.split("=", 1)[0] for line in r.stdout_tail.splitlines()}
    assert "RBKIT_SECRET_FOR_TEST" not in names
    assert {"PATH", "HOME", "EXTRA"} <= names


def test_the_network_namespace_is_empty(sandbox: Sandbox):
    """No skip where unshare is not permitted: there every run raises SandboxIsolationError."""
    _, r = run(sandbox, [PY, "-c", "import socket; print(socket.if_nameindex())"])
    assert r.ok and "eth" not in r.stdout_tail and "lo" in r.stdout_tail


def test_a_daemon_that_leaves_the_process_group_is_killed(sandbox: Sandbox):
    uid, r = run(sandbox, ["sh", "-c", "setsid sleep 600 & echo started"])
    assert r.ok and r.stdout_tail == "started\n"
    if sandbox.drops_privileges:
        assert _pids_of_uid(uid) == []


def test_a_fork_bomb_leaves_nothing_behind(sandbox: Sandbox):
    started = time.monotonic()
    uid, r = run(sandbox, ["sh", "-c", "b() { b | b & }; b; sleep 600"])
    assert time.monotonic() - started < LIMITS.wall_s + 5
    # Either it overstays (timeout) or the bomb has taken every process slot before the shell
    # forks `sleep` ("Cannot fork", exit 2): a race in the shell, contained either way.
    assert r.timed_out or (r.returncode == 2 and "Cannot fork" in r.stderr_tail), r
    if sandbox.drops_privileges:
        assert _pids_of_uid(uid) == []


def test_the_candidate_cannot_write_outside_its_folder(sandbox: Sandbox, tmp_path):
    require("root", sandbox.drops_privileges, "not root: candidates run as the invoking user")
    os.chmod(tmp_path, 0o755)
    target = tmp_path / "owned"
    _, r = run(sandbox, ["sh", "-c", f"echo y > here && echo x > {target}"])
    assert not target.exists()
    assert r.returncode != 0 and "Permission denied" in r.stderr_tail


def test_memory_limit_stops_a_huge_allocation(sandbox: Sandbox):
    _, r = run(sandbox, [PY, "-c", "x = bytearray(3 << 30)"])
    assert r.returncode != 0 and "MemoryError" in r.stderr_tail
