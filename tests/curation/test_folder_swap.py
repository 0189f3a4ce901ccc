"""The output folder is swapped in one step, guarded by a lock, and cleaned after a killed writer."""

from __future__ import annotations

import ctypes
import errno
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from rbkit.curation import folder_swap
from rbkit.curation.build import write_build
from rbkit.curation.errors import OutputBusyError, OutputWriteError
from rbkit.curation.folder_swap import exchange, new_temp, output_lock, swap_in


def folder(path: Path, text: str) -> Path:
    path.mkdir()
    (path / "file").write_text(text)
    return path


def test_exchange_swaps_the_two_entries_in_one_step(tmp_path):
    old, new = folder(tmp_path / "out", "old"), folder(tmp_path / "new", "new")
    old_inode, new_inode = old.stat().st_ino, new.stat().st_ino
    exchange(new, old)
    assert (old.stat().st_ino, new.stat().st_ino) == (new_inode, old_inode)
    assert (old / "file").read_text() == "new" and (new / "file").read_text() == "old"


def test_out_is_never_absent_while_builds_replace_it(tmp_path):
    out = folder(tmp_path / "out", "0")
    seen_missing, done = [], threading.Event()

    def watch() -> None:
        while not done.is_set():
            if not out.is_dir():
                seen_missing.append(True)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # let the watcher run between any two system calls of the swap
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(200):
            swap_in(folder(tmp_path / f"tmp{i}", str(i)), out)
    finally:
        done.set()
        watcher.join()
        sys.setswitchinterval(interval)
    assert seen_missing == [] and (out / "file").read_text() == "199"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_file_system_without_exchange_is_an_error_and_out_stays(tmp_path, monkeypatch):
    def no_exchange(*args: object) -> int:
        ctypes.set_errno(errno.EINVAL)
        return -1

    monkeypatch.setattr(folder_swap, "_renameat2", lambda: no_exchange)
    out = folder(tmp_path / "out", "old")
    with pytest.raises(OutputWriteError, match=r"cannot replace .*out atomically: the file system under .* does not support renameat2\(RENAME_EXCHANGE\)"):
        write_build(out, {}, [], {"subsets": {}}, None, {})
    assert [p.name for p in out.iterdir()] == ["file"] and (out / "file").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_first_build_renames_without_exchange(tmp_path, monkeypatch):
    monkeypatch.setattr(folder_swap, "_renameat2", lambda: pytest.fail("no exchange needed"))
    out = tmp_path / "out"
    with output_lock(out):
        swap_in(new_temp(out, 0o755), out)
    assert out.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


HOLD = """
import sys, time
from pathlib import Path
from rbkit.curation.folder_swap import new_temp, output_lock
out = Path(sys.argv[1])
with output_lock(out):
    print(new_temp(out, 0o755), flush=True)
    time.sleep(600)
"""


def test_a_second_writer_fails_clearly_and_spares_the_running_ones_folder(tmp_path):
    out = folder(tmp_path / "out", "old")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        running_tmp = Path(holder.stdout.readline().strip())
        assert running_tmp.is_dir() and running_tmp.name.startswith(f".out.tmp-{holder.pid}-")
        with pytest.raises(OutputBusyError, match=rf"another rbkit process is writing {out} \(it holds {tmp_path}/.out.lock\)"):
            write_build(out, {}, [], {"subsets": {}}, None, {})
        assert running_tmp.is_dir() and (out / "file").read_text() == "old"
    finally:
        holder.kill()
        holder.wait()
    # The holder was killed: its lock is free and its folder is a leftover the next writer removes.
    write_build(out, {}, [], {"subsets": {}}, None, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (out / "build.json").is_file()


def test_only_this_outputs_leftovers_are_removed(tmp_path):
    out = tmp_path / "out"
    removed = (".out.tmp-123-abc_9xyz", ".out.old-77-k2j4h5g6", ".out.old-k2j4h5g6")  # the last: older rbkit
    kept = (".out2.tmp-1-abcdefgh", ".out.tmp-1-ab.keep", "out.tmp-1-abcdefgh", ".out.tmp-1-abcdefghi")
    for name in (*removed, *kept):
        (tmp_path / name).mkdir()
    with output_lock(out):
        assert (tmp_path / ".out.lock").is_file()
        with output_lock(out):  # re-entrant within one process
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
