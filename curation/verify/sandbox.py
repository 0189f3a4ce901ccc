"""Run one untrusted program with hard limits, so a bad candidate cannot hurt the build.

One module, past 400 lines, on purpose: every limit below is one part of a single guarantee,
and reading them side by side is how that guarantee is reviewed (the reaper is its own file only
because it runs as a separate process).

Every run gets:
- a fresh directory (`RunDir`: `work/` for the program, `out/` for its captured output);
- a scrubbed environment (only what the caller passes, plus a fixed PATH/HOME/TMPDIR/LANG);
- its own session and process group, killed with SIGKILL when the run ends, however it ends;
- a reaper (`reaper.py`) as the program's parent: a child subreaper, so descendants that left
  the process group and session (double fork, `setsid`) still end up below it, and it kills
  every one of them before it reports, with or without root. The reaper also enforces the
  wall-clock limit and the cap on the total bytes under the run folder (`Limits.total_bytes`,
  polled every few milliseconds: RLIMIT_FSIZE alone lets many files just under the limit fill
  the disk). If the reaper ends without its report (killed), the run raises
  `SandboxIsolationError`: escaped processes can then not be ruled out;
- rlimits set by util-linux `prlimit` before exec: CPU seconds (SIGXCPU, then SIGKILL one
  second later), data segment size (memory), file size (also caps captured stdout/stderr: a
  program that prints forever dies of SIGXFSZ), open files, no core files, and process count;
- no network: `unshare -n` puts it in an empty network namespace (root; other users get
  `unshare -r -n` where the kernel allows user namespaces). When neither works, every run
  raises `SandboxIsolationError` unless the sandbox was made with `allow_shared_network=True`
  (`rbkit build --allow-sandbox-network`), which builds record in build.json and on the card.

Programs that execute candidate code (`as_sandbox_user=True`) additionally run under a
throw-away uid when we are root (`setpriv`), fresh for every run folder (killed processes can
linger as zombies that still count against RLIMIT_NPROC, so uids are not reused soon). That
uid owns nothing but the run's `work/` folder, RLIMIT_NPROC applies to it (the kernel ignores
it for root, so a fork bomb needs the uid switch to be contained), and after the run every
process of that uid is stopped and killed (`kill -1` as that uid), including daemons that
left the process group. Not root: the program runs as the invoking user with RLIMIT_NPROC set
to that user's current process count plus the limit.

Compilers run as the invoking user (they read toolchain caches under $HOME) but with the same
limits, namespace and cleanup: they do not execute candidate code.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from rbkit.core.tail import tail_file
from rbkit.curation.errors import RbkitError, ToolchainMissingError

TAIL_BYTES = 4000  # how much of stdout/stderr a result keeps (the end, where failures are)
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
# Throw-away uids: UID_BASE + (pid mod 2**21) * 512 + (run counter mod 512), all below 2**31,
# so concurrent rbkit processes never share one and a uid comes back only 512 runs later.
UID_BASE = 1 << 30
RUNS_PER_PID = 512
REAPER = Path(__file__).with_name("reaper.py")
REAPER_GRACE_S = 30.0  # how long past the wall-clock limit we wait for the reaper's report


_RUNS = 0  # runs started by this process, shared by every Sandbox (uids derive from it)
_RUNS_LOCK = threading.Lock()


class SandboxIsolationError(RbkitError):
    """The sandbox cannot give a program the isolation it promises; nothing runs without it."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run; part of the verdict cache key, since they can change verdicts."""

    wall_s: float = 15.0
    cpu_s: int = 5
    memory_bytes: int = 2 << 30  # RLIMIT_DATA: heap and private writable mappings
    file_bytes: int = 16 << 20  # RLIMIT_FSIZE: any file written, captured output included
    nproc: int = 256  # processes and threads of the sandbox user
    nofile: int = 256
    disk_bytes: int | None = None  # total bytes the run folder may grow by; None: 4 * file_bytes

    @property
    def total_bytes(self) -> int:
        """The cap on everything a run writes (its files, stdout and stderr together)."""
        return self.disk_bytes if self.disk_bytes is not None else 4 * self.file_bytes

    def to_record(self) -> dict[str, float | int]:
        record: dict[str, float | int] = {
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "memory_bytes": self.memory_bytes,
            "file_bytes": self.file_bytes,
            "nproc": self.nproc,
            "nofile": self.nofile,
        }
        if self.disk_bytes is not None:  # the default derives from file_bytes, already recorded
            record["disk_bytes"] = self.disk_bytes
        return record


COMPILE_LIMITS = Limits(wall_s=120.0, cpu_s=120, memory_bytes=4 << 30, file_bytes=512 << 20, nproc=512, nofile=1024)
RUN_LIMITS = Limits()


@dataclass(frozen=True)
class RunResult:
    """What happened to one program: exit status, limits hit, and the tails of its output."""

    returncode: int
    timed_out: bool  # wall-clock or CPU limit
    output_limited: bool  # killed by SIGXFSZ (file size limit, e.g. endless printing)
    signal: str | None  # name of the signal that ended it, if any
    stdout_tail: str
    stderr_tail: str
    seconds: float
    disk_limited: bool = False  # killed for writing more than Limits.total_bytes in all

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.disk_limited


@dataclass
class RunDir:
    """A fresh folder for one candidate: `work/` (cwd, writable by the program), `out/` (ours).

    `uid` is the throw-away user that runs the candidate's code in this folder.
    """

    root: Path
    uid: int
    work: Path = field(init=False)
    out: Path = field(init=False)

    def __post_init__(self) -> None:
        self.work = self.root / "work"
        self.out = self.root / "out"
        self.work.mkdir(mode=0o755)
        self.out.mkdir(mode=0o700)

    def write(self, name: str, text: str) -> Path:
        path = self.work / name
        path.write_text(text, encoding="utf-8")
        return path

    def read(self, name: str) -> str:
        return (self.work / name).read_text(encoding="utf-8", errors="replace")

    def cleanup(self) -> None:
        def unlock(_func: object, path: str, _exc: object) -> None:  # a program made a folder unreadable
            with contextlib.suppress(OSError):
                os.chmod(os.path.dirname(path), 0o700)
                os.chmod(path, 0o700)
            with contextlib.suppress(OSError):
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)

        shutil.rmtree(self.root, onerror=unlock)


def _signal_name(returncode: int) -> str | None:
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"SIG{-returncode}"


def _pids_of_uid(uid: int) -> list[int]:
    """Live (non-zombie) processes whose real uid is `uid`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as fh:
                status = fh.read()
        except OSError:
            continue
        state = re.search(r"^State:\s+(\S)", status, re.M)
        real_uid = re.search(r"^Uid:\s+(\d+)", status, re.M)
        if state and real_uid and state.group(1) not in "ZX" and int(real_uid.group(1)) == uid:
            pids.append(int(entry))
    return pids


class Sandbox:
    """Probes what isolation this machine allows once, then runs programs under it.

    `allow_shared_network=True` lets programs run without a private network namespace where the
    machine gives none; otherwise such a machine runs nothing (`SandboxIsolationError`).
    """

    def __init__(self, base_dir: Path | None = None, *, allow_shared_network: bool = False):
        self.base_dir = Path(base_dir or tempfile.gettempdir())
        self.allow_shared_network = allow_shared_network
        for tool in ("prlimit", "setpriv", "unshare", "kill"):
            if shutil.which(tool, path=SAFE_PATH) is None:
                raise ToolchainMissingError(
                    f"the code sandbox needs `{tool}` (Debian package "
                    f"{'procps' if tool == 'kill' else 'util-linux'}); install it or pass --skip-verify"
                )

    # --- what this machine allows -----------------------------------------------------------

    @cached_property
    def is_root(self) -> bool:
        return os.geteuid() == 0

    @cached_property
    def network_wrapper(self) -> list[str]:
        """The command prefix that gives a program an empty network namespace, or [] if none works.

        Root: `unshare -n`. Other users: `unshare -r -n` (a user namespace), where the kernel allows it.
        """
        prefix = ["unshare", "-n", "--"] if self.is_root else ["unshare", "-r", "-n", "--"]
        try:
            done = subprocess.run([*prefix, "true"], env={"PATH": SAFE_PATH}, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return []
        return prefix if done.returncode == 0 else []

    @property
    def network_isolated(self) -> bool:
        return bool(self.network_wrapper)

    def require_isolation(self) -> None:
        """Fail closed: stop before running anything when the network cannot be taken away."""
        if self.network_isolated or self.allow_shared_network:
            return
        how = "`unshare -n` is not permitted" if self.is_root else "`unshare -r -n` (user namespaces) is not permitted"
        raise SandboxIsolationError(
            f"code sandbox: no private network namespace ({how}); run as root or enable user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1), or pass --allow-sandbox-network to run candidates "
            "with network access (recorded in build.json and on the card)"
        )

    @cached_property
    def drops_privileges(self) -> bool:
        """True when candidate code runs under a throw-away uid (we are root and setpriv works)."""
        if not self.is_root:
            return False
        uid = self._next_uid()
        argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", "true"]
        try:
            done = subprocess.run(argv, env={"PATH": SAFE_PATH}, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0

    def describe(self) -> dict[str, str]:
        """Deterministic facts about the isolation in force (for build reports)."""
        return {
            "network": f"isolated ({' '.join(self.network_wrapper[:-1])})"
            if self.network_isolated
            else "shared (--allow-sandbox-network): unshare is not permitted here",
            "user": "throw-away uid per run (setpriv)" if self.drops_privileges else "invoking user",
            "limits": "prlimit: cpu, data, fsize, nofile, nproc, core=0; wall clock; total bytes under the run folder",
            "cleanup": "subreaper kills every descendant; process-group kill"
            + ("; throw-away uid swept" if self.drops_privileges else ""),
        }

    # --- folders and their throw-away users --------------------------------------------------

    def _next_uid(self) -> int:
        """A uid no other run of this process (any Sandbox instance) has used recently."""
        global _RUNS
        with _RUNS_LOCK:
            _RUNS += 1
            return UID_BASE + (os.getpid() % (1 << 21)) * RUNS_PER_PID + _RUNS % RUNS_PER_PID

    def new_dir(self, prefix: str = "rbkit-run-") -> RunDir:
        root = Path(tempfile.mkdtemp(prefix=prefix, dir=self.base_dir))
        os.chmod(root, 0o711)  # a throw-away uid may enter but not list it
        return RunDir(root, self._next_uid())

    def hand_over(self, run_dir: RunDir) -> None:
        """Give `work/` to the folder's throw-away uid so its program can write there, only there."""
        if self.drops_privileges:
            os.chown(run_dir.work, run_dir.uid, run_dir.uid)

    # --- running ----------------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        run_dir: RunDir,
        limits: Limits,
        *,
        env: Mapping[str, str] | None = None,
        as_sandbox_user: bool = False,
        name: str = "run",
    ) -> RunResult:
        """Run `argv` in `run_dir.work` under `limits`; returns, and leaves no process behind.

        Raises SandboxIsolationError (before starting anything) when the network cannot be taken
        away and that was not allowed, and (after killing what it can) when the reaper was lost.
        """
        self.require_isolation()
        drop = as_sandbox_user and self.drops_privileges
        uid = run_dir.uid
        full_env = {
            "PATH": SAFE_PATH,
            "HOME": str(run_dir.work),
            "TMPDIR": str(run_dir.work),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            **(env or {}),
        }
        nproc = limits.nproc
        if as_sandbox_user and not drop:  # RLIMIT_NPROC counts every process of the user
            nproc += len(_pids_of_uid(os.getuid())) + 64
        report_read, report_write = os.pipe()
        wrapper: list[str] = [*self.network_wrapper]
        wrapper += [sys.executable, "-I", "-S", str(REAPER), str(report_write), repr(limits.wall_s)]
        wrapper += [str(run_dir.root), str(limits.total_bytes), "--"]
        wrapper += [
            "prlimit",
            f"--cpu={limits.cpu_s}:{limits.cpu_s + 1}",
            f"--data={limits.memory_bytes}",
            f"--fsize={limits.file_bytes}",
            f"--nofile={limits.nofile}",
            "--core=0",
        ]
        if as_sandbox_user:
            wrapper.append(f"--nproc={nproc}")
        wrapper.append("--")
        if drop:
            wrapper += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]
        stdout_path = run_dir.out / f"{name}.stdout"
        stderr_path = run_dir.out / f"{name}.stderr"
        started = time.monotonic()
        try:
            with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
                try:
                    proc = subprocess.Popen(
                        [*wrapper, *argv],
                        cwd=run_dir.work,
                        env=full_env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                        start_new_session=True,
                        close_fds=True,
                        pass_fds=(report_write,),
                    )
                except OSError as exc:
                    return RunResult(127, False, False, None, "", f"could not start {argv[0]}: {exc}", 0.0)
                os.close(report_write)
                report_write = -1
                try:
                    proc.wait(timeout=limits.wall_s + REAPER_GRACE_S)  # the reaper keeps the wall clock
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                finally:
                    self._kill_group(proc.pid)
                    if drop:
                        self._sweep_uid(uid)
            report = os.read(report_read, 256).decode("ascii", errors="replace").split()
        finally:
            os.close(report_read)
            if report_write >= 0:
                os.close(report_write)
        if len(report) != 2 or report[0] not in ("exit", "wall", "disk"):
            raise SandboxIsolationError(
                f"code sandbox: the reaper of `{argv[0]}` in {run_dir.root} ended without its report "
                f"(exit status {proc.returncode}), so escaped processes cannot be ruled out"
            )
        reason, returncode = report[0], int(report[1])
        seconds = time.monotonic() - started
        sig = _signal_name(returncode)
        timed_out = reason == "wall" or sig in ("SIGXCPU",) or (sig == "SIGKILL" and seconds >= limits.cpu_s)
        # Python and the JVM ignore SIGXFSZ and fail their writes instead: check the sizes too.
        output_limited = sig == "SIGXFSZ" or any(
            p.stat().st_size >= limits.file_bytes for p in (stdout_path, stderr_path)
        )
        return RunResult(
            returncode=returncode,
            timed_out=timed_out,
            output_limited=output_limited,
            signal=sig,
            stdout_tail=tail_file(stdout_path, TAIL_BYTES),
            stderr_tail=tail_file(stderr_path, TAIL_BYTES),
            seconds=seconds,
            disk_limited=reason == "disk",
        )

    @staticmethod
    def _kill_group(pgid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)

    def _sweep_uid(self, uid: int) -> None:
        """Stop, then kill, every process of the throw-away uid (escaped daemons, fork bombs)."""
        for _ in range(20):
            if not _pids_of_uid(uid):
                return
            for sig in ("-STOP", "-KILL"):
                subprocess.run(
                    ["kill", sig, "--", "-1"],
                    user=uid,
                    group=uid,
                    extra_groups=[],
                    env={"PATH": SAFE_PATH},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=False,
                )
            time.sleep(0.01)
        raise RuntimeError(f"could not kill the processes of sandbox uid {uid}")


_DEFAULT: dict[bool, Sandbox] = {}
_DEFAULT_LOCK = threading.Lock()


def default_sandbox(allow_shared_network: bool = False) -> Sandbox:
    """One sandbox per process and network choice: the probes (unshare, setpriv) run once."""
    with _DEFAULT_LOCK:
        if allow_shared_network not in _DEFAULT:
            _DEFAULT[allow_shared_network] = Sandbox(allow_shared_network=allow_shared_network)
        return _DEFAULT[allow_shared_network]
