"""The parent of every sandboxed program: kills whatever it leaves behind, caps what it writes.

`sandbox.py` starts it as `python -I -S reaper.py REPORT_FD WALL_S WATCH_DIR DISK_BYTES -- ARGV...`
(standard library only and few imports: it starts once per run, in a fresh interpreter).

Why a separate process: a program can escape its process group and session (double fork and
`setsid`), and without root there is no throw-away uid to sweep afterwards. This process marks
itself a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), so every orphan among the program's
descendants, however far it detached, is reparented to it rather than to init. When the program
ends (or overstays WALL_S, or writes too much), it stops and kills every descendant, reaps them,
and only then reports. No descendants are left when it has no children left to wait for.

It also enforces the total-bytes cap that RLIMIT_FSIZE cannot: every few milliseconds it sums
the sizes under WATCH_DIR (the run folder: the program's cwd, HOME and TMPDIR, and the files its
stdout and stderr go to) and kills everything once the growth since the start passes DISK_BYTES.

Report (one line on REPORT_FD, written after the cleanup): `<reason> <returncode>`, where reason is
`exit` (the program ended), `wall` (wall-clock limit) or `disk` (total-bytes cap, or the folder
could not be measured) and returncode is the program's, as `subprocess` gives it (negative: the
signal). A missing report means the reaper itself was killed; the caller then fails closed.
"""

import ctypes
import os
import resource
import select
import sys
import time

# The C module under `signal`: the same numbers without importing enum (a third of our start-up).
from _signal import SIGCHLD, SIGKILL, SIGPIPE, SIGSTOP, SIGXFSZ, set_wakeup_fd
from _signal import signal as set_handler

PR_SET_CHILD_SUBREAPER = 36
MIN_POLL_S, MAX_POLL_S = 0.005, 0.2
KILL_ROUNDS = 1000  # each round stops, kills and reaps one generation; RLIMIT_NPROC bounds them


def folder_bytes(root: str) -> int | None:
    """Bytes under `root` (apparent size or allocated blocks, whichever is larger); None: unreadable."""
    total, stack = 0, [root]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    total += max(st.st_size, st.st_blocks * 512)
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except FileNotFoundError:
            continue
        except OSError:
            return None
    return total


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process we can see."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        out[int(name)] = int(fields[1])
    return out


def descendants(me: int) -> set[int]:
    """Every process below `me` (orphans were reparented to us, so this is all that is left)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [me]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _signal_all(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):  # noqa: PERF203 (gone already, or not ours)
            continue


def reap(main: int, status: dict[int, int]) -> bool:
    """Reap every child that has ended (recording `main`'s wait status); False when none is left.

    Orphans of the program become our children; reaped at once, as init would, their zombies
    never pile up against the program's RLIMIT_NPROC.
    """
    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True
        if pid == main:
            status[main] = wait_status


def kill_descendants(me: int, main: int, status: dict[int, int]) -> bool:
    """Stop, kill and reap every descendant; True when none is left. Records `main`'s wait status."""
    for _ in range(KILL_ROUNDS):
        if not reap(main, status):
            return True  # no children: a subreaper without children has no descendants
        stopped: set[int] = set()
        while True:  # freeze the tree first, so nothing forks while we kill
            fresh = descendants(me) - stopped
            if not fresh:
                break
            _signal_all(fresh, SIGSTOP)
            stopped |= fresh
        _signal_all(stopped, SIGKILL)
        time.sleep(0.001)
    return False


def wait_for(pid: int, wall_s: float, watch: str, disk_bytes: int, wake: int, status: dict[int, int]) -> str:
    """Reap children until `pid` ends ("exit"), overstays ("wall") or writes too much ("disk").

    `wake` becomes readable on every SIGCHLD (the signal module's wakeup fd).
    """
    started = time.monotonic()
    base = folder_bytes(watch)
    poller = select.poll()
    poller.register(wake, select.POLLIN)
    interval = MIN_POLL_S
    while True:
        reap(pid, status)
        if pid in status:
            return "exit"
        left = started + wall_s - time.monotonic()
        if left <= 0:
            return "wall"
        if poller.poll(min(interval, left) * 1000):
            while True:  # drain; the next reap() takes what ended
                try:
                    os.read(wake, 4096)
                except BlockingIOError:
                    break
            continue
        t0 = time.monotonic()
        used = folder_bytes(watch)
        if base is None or used is None or used - base > disk_bytes:
            return "disk"
        # Walking a big folder costs time: poll less often then, but never less than 5 times a second.
        interval = min(MAX_POLL_S, max(MIN_POLL_S, 20 * (time.monotonic() - t0)))


def main(argv: list[str]) -> int:
    report_fd, wall_s, watch, disk_bytes = int(argv[1]), float(argv[2]), argv[3], int(argv[4])
    if argv[5] != "--" or len(argv) < 7:
        print("usage: reaper.py REPORT_FD WALL_S WATCH_DIR DISK_BYTES -- ARGV...", file=sys.stderr)
        return 2
    command = argv[6:]
    os.set_inheritable(report_fd, False)  # only we may write the report
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(f"reaper: prctl(PR_SET_CHILD_SUBREAPER) failed: errno {ctypes.get_errno()}", file=sys.stderr)
        return 2
    me = os.getpid()
    wake_read, wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    set_wakeup_fd(wake_write)
    set_handler(SIGCHLD, lambda signum, frame: None)  # a handler, so SIGCHLD wakes poll()
    # Python ignores SIGPIPE and SIGXFSZ; the program must get the default actions (as subprocess does).
    try:
        pid = os.posix_spawnp(command[0], command, os.environ, setsigdef=(SIGPIPE, SIGXFSZ))
    except OSError as exc:
        print(f"could not start {command[0]}: {exc}", file=sys.stderr)
        os.write(report_fd, b"exit 127\n")
        return 0
    status: dict[int, int] = {}
    reason = wait_for(pid, wall_s, watch, disk_bytes, wake_read, status)
    if reason != "exit":
        _signal_all({pid}, SIGKILL)
    if not kill_descendants(me, pid, status) or pid not in status:
        print("reaper: could not kill every descendant", file=sys.stderr)
        return 3  # no report: the caller fails closed
    code = os.waitstatus_to_exitcode(status[pid])
    os.write(report_fd, f"{reason} {code}\n".encode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
