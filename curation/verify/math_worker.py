"""Answer comparison with a hard time limit: sympy runs in a child process that can be killed.

sympy has no cancellation, and some answers make it compute for hours or exhaust memory
(`2^{2^{2^{20}}}` is evaluated as an exact integer). `signal.alarm` cannot interrupt C code
and only works in the main thread, so the only limit that truly holds is a separate process:
the parent sends one comparison, waits `timeout_s` (select on the reply pipe), and on silence
kills the child (SIGKILL) and reports `timeout`. The child also runs under an address-space limit so a runaway
expression fails with MemoryError instead of swapping the machine. A fresh child is started
lazily for the next comparison.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from rbkit.core.tail import tail
from rbkit.curation.verify.math_normalize import clean
from rbkit.curation.verify.math_outcome import Outcome, quick_outcome

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_MEMORY_MB = 2048
START_TIMEOUT_S = 120.0  # importing sympy in a fresh interpreter on a busy machine
_REPO_ROOT = Path(__file__).resolve().parents[2]


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not on POSIX: the time limit still holds
        return
    limit = memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _reply(out: IO[str], tag: str, payload: Any) -> None:
    out.write(json.dumps([tag, payload]) + "\n")
    out.flush()


def serve(memory_mb: int) -> None:
    """Child loop on stdin/stdout: one JSON [candidate, reference] line in, one reply line out."""
    _limit_memory(memory_mb)
    from rbkit.curation.verify.math_equiv import equivalent

    equivalent("\\frac{1}{2}", "0.5")  # warm sympy's caches before announcing readiness
    out = sys.stdout
    _reply(out, "ready", None)
    for line in sys.stdin:
        candidate, reference = json.loads(line)
        try:
            _reply(out, "ok", equivalent(candidate, reference).__dict__)
        except MemoryError:
            _reply(
                out,
                "error",
                "MemoryError: the expression needs more than the worker's memory limit",
            )
        except RecursionError:
            _reply(out, "error", "RecursionError: the expression is nested too deeply")
        except Exception as exc:  # a sympy bug must not end the whole verification
            _reply(out, "error", f"{type(exc).__name__}: {exc}"[:500])


class WorkerStartError(RuntimeError):
    """The comparison child did not come up (it could not import sympy, or it crashed)."""


class EquivalenceWorker:
    """Compares answers in a killable child process; use as a context manager.

    `compare` never blocks for longer than `timeout_s` once the child is running (the first
    call also waits for the child to start). Verdicts: equal, unequal, timeout, error.
    The child is a plain `python -m rbkit.curation.verify.math_worker` subprocess rather than a
    multiprocessing one, so callers need no `if __name__ == "__main__"` guard.
    """

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB):
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._proc: subprocess.Popen[str] | None = None
        self.restarts = 0  # children killed after a timeout or crash (reported by steps)

    def __enter__(self) -> EquivalenceWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the child now (otherwise the first comparison that needs sympy does).

        `timeout_s` bounds a comparison once the child runs; starting one (at first use and
        after each kill) takes a few seconds more, bounded by START_TIMEOUT_S.
        """
        if self._proc is None:
            self._start()

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rbkit.curation.verify.math_worker",
                "--memory-mb",
                str(self.memory_mb),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        line = self._read_line(proc, START_TIMEOUT_S)
        if line is None or not line.startswith('["ready"'):
            proc.kill()
            _, err = proc.communicate()
            raise WorkerStartError(
                f"the math comparison worker did not start (exit code {proc.returncode}): "
                f"{tail((err or '').strip()) or 'no output'}"
            )
        self._proc = proc
        return proc

    @staticmethod
    def _read_line(proc: subprocess.Popen[str], timeout: float) -> str | None:
        """One reply line, or None on timeout or when the child closed its output."""
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([proc.stdout], [], [], remaining)
            if ready:
                line = proc.stdout.readline()
                return line or None

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.communicate()
            self.restarts += 1
        self._proc = None

    def close(self) -> None:
        """Stop the child (if any); the worker can still be used and starts a new one."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.close()  # the child's read loop ends
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def compare(self, candidate: str, reference: str) -> Outcome:
        """Is `candidate` the same answer as `reference`? Bounded by `timeout_s`."""
        quick = quick_outcome(candidate, reference)
        if quick is not None:
            return quick
        proc = self._proc or self._start()
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps([candidate, reference]) + "\n")
            proc.stdin.flush()
        except BrokenPipeError:
            self._kill()
            return self._failed(candidate, reference, "error", "the comparison process had exited")
        line = self._read_line(proc, self.timeout_s)
        if line is None:
            dead = proc.poll() is not None
            self._kill()
            if dead:
                return self._failed(candidate, reference, "error", "the comparison process died")
            return self._failed(
                candidate,
                reference,
                "timeout",
                f"no result within {self.timeout_s:g} s; the comparison process was killed",
            )
        tag, payload = json.loads(line)
        if tag == "ok":
            return Outcome(**payload)
        return self._failed(candidate, reference, "error", str(payload))

    @staticmethod
    def _failed(candidate: str, reference: str, verdict: Any, note: str) -> Outcome:
        return Outcome(verdict, "worker", clean(candidate).text, clean(reference).text, note)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="rbkit math answer comparison worker (internal)")
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB)
    serve(parser.parse_args().memory_mb)
