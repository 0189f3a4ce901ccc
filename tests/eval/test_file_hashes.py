"""Model fingerprints hash every byte of every file, and a rerun reads nothing again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rbkit.eval import file_hashes
from rbkit.eval.file_hashes import FileHashes, store_path
from rbkit.eval.models import fingerprint

SIZE = 9 << 20  # above the old 8 MiB "edges only" limit


def checkpoint(folder: Path, middle: bytes) -> Path:
    """A model folder whose 9 MiB weight file differs from its twin only at its middle byte."""
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}\n')
    data = bytearray(b"\x01" * SIZE)
    data[SIZE // 2 : SIZE // 2 + 1] = middle
    (folder / "model.safetensors").write_bytes(bytes(data))
    return folder


@pytest.fixture
def counted(monkeypatch):
    """Every full read of a file, by path."""
    calls: list[str] = []
    real = file_hashes.sha256_file

    def counting(path: Path) -> str:
        calls.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(file_hashes, "sha256_file", counting)
    return calls


def test_checkpoints_that_differ_only_in_the_middle_get_different_fingerprints(tmp_path):
    a = checkpoint(tmp_path / "a", b"\x02")
    b = checkpoint(tmp_path / "b", b"\x03")
    assert (a / "model.safetensors").stat().st_size == (b / "model.safetensors").stat().st_size
    assert fingerprint(a) != fingerprint(b)
    same = checkpoint(tmp_path / "c", b"\x02")
    assert fingerprint(same) == fingerprint(a), "the fingerprint depends on content, not on the folder's path"


def test_a_rerun_reuses_the_stored_hashes_without_reading(tmp_path, counted):
    a = checkpoint(tmp_path / "a", b"\x02")
    first = fingerprint(a)
    assert sorted(counted) == ["config.json", "model.safetensors"]
    stored = json.loads(store_path().read_text())["files"]
    assert str((a / "model.safetensors").resolve()) in stored
    counted.clear()
    assert fingerprint(a) == first and counted == [], "nothing is read again when path, size and mtime match"


def test_a_changed_mtime_or_size_is_hashed_again(tmp_path, counted):
    a = checkpoint(tmp_path / "a", b"\x02")
    before = fingerprint(a)
    weights = a / "model.safetensors"
    st = weights.stat()
    # Same size, new content, new mtime: the middle byte changes in place.
    with open(weights, "r+b") as fh:
        fh.seek(SIZE // 2)
        fh.write(b"\x07")
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    counted.clear()
    changed = fingerprint(a)
    assert counted == ["model.safetensors"] and changed != before
    # Same mtime as stored, but another size: hashed again.
    st = weights.stat()
    with open(weights, "ab") as fh:
        fh.write(b"\x00")
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns))
    counted.clear()
    assert fingerprint(a) not in (before, changed) and counted == ["model.safetensors"]


def test_a_corrupt_store_is_ignored_and_rewritten(tmp_path, counted):
    a = checkpoint(tmp_path / "a", b"\x02")
    store = store_path()
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text("{not json")
    value = fingerprint(a)
    assert len(counted) == 2 and json.loads(store.read_text())["format"] == file_hashes.FORMAT
    assert FileHashes().sha256(a / "config.json") == file_hashes.sha256_file(a / "config.json")
    assert value == fingerprint(a)
