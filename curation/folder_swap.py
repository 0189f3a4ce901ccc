"""Replacing an output folder as one step, and cleaning up after builds that were killed.

A writer fills `.<out>.tmp-<pid>-<random>` beside `out`, then swaps it in with Linux
`renameat2(RENAME_EXCHANGE)`: one system call, so `out` is at every moment either the whole old
folder or the whole new one, never absent and never half written. `.<out>.lock` (an flock) is
held from before the temporary folder exists until the old folder is deleted. So a second
writer of the same `out` fails at once with a clear message, and any temporary folder found
while holding the lock belongs to a writer that died (SIGKILL, power loss): it is deleted.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from rbkit.curation.errors import OutputBusyError, OutputWriteError

AT_FDCWD = -100
RENAME_EXCHANGE = 2

_held: dict[Path, int] = {}  # lock path -> depth; one process re-entering its own lock


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def _leftover_pattern(out: Path) -> re.Pattern[str]:
    # mkdtemp's random part is 8 of [a-z0-9_]; anchoring keeps `out2`'s or `out.tmp-x`'s folders
    # apart. The pid is optional: rbkit before the lock named them `.out.tmp-<random>`.
    return re.compile(rf"\.{re.escape(out.name)}\.(tmp|old)-(\d+-)?[a-z0-9_]{{8}}")


@contextmanager
def writing(shown: Path) -> Iterator[None]:
    """Turn an OSError while writing into one line naming `shown` (no space left writing ...)."""
    try:
        yield
    except OutputWriteError:
        raise
    except OSError as exc:
        raise OutputWriteError.of(shown, exc) from exc


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold `.<out>.lock` for the duration; a busy lock is an error, not a wait.

    Re-entrant within one process, so a build can hold it from its first step and its writer can
    take it again. On first entry, folders left by a killed writer of `out` are deleted.
    """
    out = Path(out).resolve()  # as write_build names it, so both take the same lock
    path = lock_path(out)
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    with writing(path):
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire(path, out)
    _held[path] = 1
    try:
        remove_leftovers(out)
        yield
    finally:
        del _held[path]
        with suppress(FileNotFoundError):
            os.unlink(path)  # before unlocking: a waiter then sees a new inode and retries
        os.close(fd)


def _acquire(path: Path, out: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputBusyError(
                f"another rbkit process is writing {out} (it holds {path}); "
                "wait for it to finish, or write to another folder"
            ) from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder unlinked it between our open and our lock: take the new one


def remove_leftovers(out: Path) -> list[Path]:
    """Delete `.<out>.tmp-*` / `.<out>.old-*` folders; call only while holding the lock."""
    pattern = _leftover_pattern(out)
    removed = []
    for entry in sorted(out.parent.iterdir()) if out.parent.is_dir() else []:
        if pattern.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def new_temp(out: Path, mode: int) -> Path:
    """An empty folder beside `out` with the name `remove_leftovers` recognises."""
    with writing(out.parent):
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
        os.chmod(tmp, mode)
    return tmp


def swap_in(tmp: Path, out: Path) -> None:
    """Make the finished `tmp` the new `out` in one step, then delete the old folder.

    `out` that does not exist yet is a plain rename. A file system that cannot exchange
    (EINVAL, ENOSYS) is an error: `out` stays as it was rather than vanish for a moment.
    """
    if not os.path.lexists(out):
        os.rename(tmp, out)
        return
    exchange(tmp, out)
    shutil.rmtree(tmp, ignore_errors=True)  # now the old folder; a kill here leaves a leftover


def _renameat2() -> Callable[..., int] | None:
    """libc's renameat2, or None when this C library lacks it (glibc before 2.28, musl)."""
    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> None:
    """Swap the directory entries `a` and `b` atomically (renameat2 with RENAME_EXCHANGE)."""
    renameat2 = _renameat2()
    if renameat2 is None:
        raise OutputWriteError(
            f"cannot replace {b} atomically: this C library has no renameat2 (glibc 2.28 or later "
            f"needed); {b} is unchanged"
        )
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        raise OutputWriteError(
            f"cannot replace {b} atomically: the file system under {b.parent} does not support "
            f"renameat2(RENAME_EXCHANGE) ({os.strerror(code)}); {b} is unchanged. Write to a local "
            "file system (ext4, xfs, btrfs, tmpfs) or remove the old folder first"
        )
    raise OutputWriteError.of(b, OSError(code, os.strerror(code), str(b)))
