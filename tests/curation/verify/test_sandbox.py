"""The sandbox fails closed: no network, a cap on total bytes, no process left behind.

Each test is built so that it fails when the guarantee is missing: the network test first shows
that an unsandboxed process reaches the listener, the disk test writes files that each pass the
per-file limit, and the escape tests look for a daemonised grandchild after the run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rbkit.curation.verify import sandbox as sandbox_mod
from rbkit.curation.verify.reaper import folder_bytes
from rbkit.curation.verify.sandbox import REAPER, Limits, RunDir, Sandbox, SandboxIsolationError

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
LIMITS = Limits(wall_s=20.0, cpu_s=10, file_bytes=1 << 20, nproc=64)
LATE_S = 1.5  # the daemon writes its late file this long after it started


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox()


@pytest.fixture
def non_root_sandbox() -> Sandbox:
    """The path a non-root user takes: `unshare -r -n`, no throw-away uid, no uid sweep.

    These tests are about cleanup and the disk cap, so where user namespaces are off they run
    with the shared network (explicitly allowed) rather than not at all.
    """
    box = Sandbox()
    box.__dict__["is_root"] = False  # cached_property: set before the other probes read it
    assert not box.drops_privileges
    box.allow_shared_network = not box.network_isolated
    return box


@pytest.fixture
def run_dir(sandbox: Sandbox) -> Iterator[RunDir]:
    folder = sandbox.new_dir()
    sandbox.hand_over(folder)
    yield folder
    folder.cleanup()


@pytest.fixture
def own_dir(non_root_sandbox: Sandbox) -> Iterator[RunDir]:
    """A run folder as the non-root path has it: `work/` stays the invoking user's."""
    folder = non_root_sandbox.new_dir()
    non_root_sandbox.hand_over(folder)  # a no-op without a throw-away uid
    yield folder
    folder.cleanup()


# --- network --------------------------------------------------------------------------------


class Listener:
    """A real TCP server on 127.0.0.1 outside the sandbox that answers every connection."""

    REPLY = b"pong-from-outside\n"

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                self.accepted += 1
                conn.sendall(self.REPLY)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.close()

    def client(self) -> list[str]:
        code = (
            "import socket\n"
            f"s = socket.create_connection(('127.0.0.1', {self.port}), timeout=5)\n"
            "print(s.recv(64).decode(), end='')\n"
        )
        return [PY, "-c", code]


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def test_a_plain_process_reaches_the_listener_and_a_sandboxed_one_does_not(
    sandbox: Sandbox, run_dir: RunDir, listener: Listener
):
    plain = subprocess.run(listener.client(), capture_output=True, text=True, timeout=30)
    assert plain.stdout == Listener.REPLY.decode(), plain.stderr
    assert listener.accepted == 1
    r = sandbox.run(listener.client(), run_dir, LIMITS, as_sandbox_user=True)
    assert r.returncode != 0 and Listener.REPLY.decode() not in r.stdout_tail
    assert listener.accepted == 1, "the sandboxed program connected to a listener outside"


def test_the_listener_test_would_see_a_shared_network(run_dir: RunDir, listener: Listener):
    """With no namespace (allowed explicitly), the same client does get through: the test can fail."""
    shared = Sandbox(allow_shared_network=True)
    shared.__dict__["network_wrapper"] = []
    r = shared.run(listener.client(), run_dir, LIMITS, as_sandbox_user=True)
    assert r.ok and r.stdout_tail == Listener.REPLY.decode()
    assert shared.describe()["network"].startswith("shared (--allow-sandbox-network)")


def test_without_a_network_namespace_nothing_runs(run_dir: RunDir):
    box = Sandbox()
    box.__dict__["network_wrapper"] = []  # the probe found neither `unshare -n` nor `unshare -r -n`
    marker = run_dir.work / "ran"
    with pytest.raises(SandboxIsolationError, match="no private network namespace.*--allow-sandbox-network"):
        box.run(["sh", "-c", f"touch {marker}"], run_dir, LIMITS, as_sandbox_user=True)
    assert not marker.exists()


# --- total bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize("as_root", [True, False], ids=["root", "non-root"])
def test_many_files_under_the_per_file_limit_hit_the_total_cap(
    sandbox: Sandbox, non_root_sandbox: Sandbox, run_dir: RunDir, own_dir: RunDir, as_root: bool
):
    box, run_dir = (sandbox, run_dir) if as_root else (non_root_sandbox, own_dir)
    limits = Limits(wall_s=30.0, cpu_s=20, file_bytes=1 << 20, disk_bytes=8 << 20, nproc=64)
    chunk = limits.file_bytes - 1  # each file alone is allowed
    files = 300  # 300 MiB in all, were nothing to stop it
    code = (
        "import os\n"
        f"block = b'x' * {chunk}\n"
        f"for i in range({files}):\n"
        "    with open(f'f{i}', 'wb') as fh:\n"
        "        fh.write(block)\n"
        "        fh.flush()\n"
        "        os.fsync(fh.fileno())\n"
        "print('wrote everything')\n"
    )
    r = box.run([PY, "-c", code], run_dir, limits, as_sandbox_user=True)
    assert r.disk_limited and not r.ok and not r.output_limited
    assert "wrote everything" not in r.stdout_tail
    written = sorted(run_dir.work.glob("f*"))
    sizes = [p.stat().st_size for p in written]
    assert max(sizes) <= chunk  # no file reached RLIMIT_FSIZE: only the total stopped it
    assert sizes.count(chunk) >= limits.total_bytes // limits.file_bytes - 1  # many whole files first
    used = folder_bytes(str(run_dir.root))
    assert used is not None and used <= limits.total_bytes + 8 * limits.file_bytes, used


def test_the_total_cap_defaults_to_four_files_and_stays_out_of_the_cache_key():
    assert Limits(file_bytes=1 << 20).total_bytes == 4 << 20
    assert "disk_bytes" not in Limits().to_record()  # verdict cache keys of the defaults are unchanged
    assert Limits(disk_bytes=5).to_record()["disk_bytes"] == 5


# --- escaped processes --------------------------------------------------------------------------

DAEMON = f"""
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for fd in (0, 1, 2):
            os.close(fd)
        with open("daemon.pid", "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep({LATE_S})
        with open("late", "w") as fh:
            fh.write("still alive")
        time.sleep(600)
        os._exit(0)
    os._exit(0)
os.wait()
while not os.path.exists("daemon.pid"):
    time.sleep(0.01)
print("parent done", flush=True)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def assert_daemon_is_dead(work: Path) -> None:
    pid = int((work / "daemon.pid").read_text())
    assert not alive(pid), f"daemon {pid} survived the run"
    time.sleep(LATE_S + 0.5)
    assert not (work / "late").exists(), "the daemon wrote its late file after the run"


def test_a_daemonised_grandchild_is_killed_as_root(sandbox: Sandbox, run_dir: RunDir):
    if os.geteuid() != 0:
        pytest.fail("this test needs root (run the non-root variants as a user)")
    assert sandbox.drops_privileges
    r = sandbox.run([PY, "-c", DAEMON], run_dir, LIMITS, as_sandbox_user=True)
    assert r.ok and r.stdout_tail == "parent done\n", r.stderr_tail
    assert_daemon_is_dead(run_dir.work)


def test_a_daemonised_grandchild_is_killed_on_the_non_root_path(non_root_sandbox: Sandbox, own_dir: RunDir):
    r = non_root_sandbox.run([PY, "-c", DAEMON], own_dir, LIMITS, as_sandbox_user=True)
    assert r.ok and r.stdout_tail == "parent done\n", r.stderr_tail
    assert_daemon_is_dead(own_dir.work)


def test_a_daemonised_grandchild_is_killed_for_a_real_non_root_user():
    """The non-root chain (`unshare -r -n`, reaper, prlimit) run by an unprivileged uid."""
    system_python = "/usr/bin/python3"
    assert os.path.exists(system_python), "needs the system python3 (readable by any user)"
    work = Path(tempfile.mkdtemp(prefix="rbkit-nonroot-"))
    try:
        become: list[str] = []
        if os.geteuid() == 0:
            uid = 2_000_000_000 + os.getpid() % 100_000
            os.chown(work, uid, uid)
            become = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
        userns = ["unshare", "-r", "-n", "--"]  # as the sandbox does; the reaper works without it too
        if subprocess.run([*become, *userns, "true"], capture_output=True, timeout=30).returncode != 0:
            userns = []
        read, write = os.pipe()
        argv = [
            *become, *userns,
            system_python, "-I", "-S", str(REAPER), str(write), "20", str(work), str(8 << 20), "--",
            "prlimit", "--nproc=64", "--", system_python, "-c", DAEMON,
        ]  # fmt: skip
        done = subprocess.run(argv, cwd=work, pass_fds=(write,), capture_output=True, text=True, timeout=60)
        os.close(write)
        report = os.read(read, 256).decode()
        os.close(read)
        assert done.returncode == 0 and report == "exit 0\n", done.stderr
        assert done.stdout == "parent done\n"
        assert_daemon_is_dead(work)
    finally:
        subprocess.run(["rm", "-rf", "--", str(work)], check=False)


def test_a_program_that_kills_its_reaper_stops_the_build(non_root_sandbox: Sandbox, own_dir: RunDir):
    """Without root the program may kill its reaper; then escapes cannot be ruled out: fail closed."""
    with pytest.raises(SandboxIsolationError, match="ended without its report"):
        non_root_sandbox.run(["sh", "-c", "kill -9 $PPID; sleep 5"], own_dir, LIMITS, as_sandbox_user=True)


def test_as_root_the_program_cannot_kill_its_reaper(sandbox: Sandbox, run_dir: RunDir):
    if os.geteuid() != 0:
        pytest.fail("this test needs root")
    r = sandbox.run(["sh", "-c", "kill -9 $PPID"], run_dir, LIMITS, as_sandbox_user=True)
    assert r.returncode != 0 and "Operation not permitted" in r.stderr_tail


def test_the_wall_clock_limit_kills_the_whole_tree(sandbox: Sandbox, run_dir: RunDir):
    limits = Limits(wall_s=1.0, cpu_s=10, file_bytes=1 << 20, nproc=64)
    started = time.monotonic()
    r = sandbox.run(["sh", "-c", "sleep 600 & sleep 600"], run_dir, limits, as_sandbox_user=True)
    assert r.timed_out and r.signal == "SIGKILL"
    assert time.monotonic() - started < 10


def test_default_sandboxes_differ_by_network_choice():
    assert sandbox_mod.default_sandbox(False) is sandbox_mod.default_sandbox(False)
    assert sandbox_mod.default_sandbox(True).allow_shared_network
    assert not sandbox_mod.default_sandbox(False).allow_shared_network
