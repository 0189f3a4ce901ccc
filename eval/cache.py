"""The resume cache: per-row scores appended as they are computed, so no work is lost.

One JSONL file per (model fingerprint, scoring config) under `$RBKIT_CACHE/eval/` (default
`~/.cache/rbkit/eval`). Each line holds one row's scores keyed by the row's content hash, and
lines are written batch by batch with a single `write` and a flush. A run killed at any
point (SIGKILL included) leaves at worst a torn last line, which the next run drops before
appending; it then scores only the rows that are not in the file. Batch size is not part of
the key: scores do not depend on it.

Several processes may append to one file at once (the ranks of a `torchrun` launch, on one
machine or on a shared filesystem): each batch is written under an exclusive `flock`, and a
writer that finds the file not ending in a newline (a process killed mid-write) starts a new
line first, so lines never interleave and a torn one costs only its own row.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rbkit.core.files import atomic_write
from rbkit.core.jsonio import canonical_json
from rbkit.core.paths import cache_root

FORMAT = 1


@contextlib.contextmanager
def _locked(fh: IO[str]) -> Iterator[None]:
    """An exclusive advisory lock on an open file (no-op where flock does not exist)."""
    try:
        import fcntl
    except ImportError:  # Windows: one process per cache there
        yield
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def cache_dir() -> Path:
    """The resume cache: `eval/` under the rbkit cache root."""
    return cache_root() / "eval"


def cache_key(model_fingerprint: str, config: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json({"format": FORMAT, "model": model_fingerprint, "config": config}).encode()).hexdigest()


@dataclass(frozen=True)
class CachedRow:
    scores: tuple[float, ...]  # chosen then rejected
    truncated: bool
    lengths: tuple[int, ...] = ()  # tokens of each completion as scored ("n" in the file; older lines lack it)


class ScoreCache:
    """Append-only map from row content hash to scores, backed by one JSONL file."""

    def __init__(self, path: Path | None, header: dict[str, Any]):
        self.path = path
        self.rows: dict[str, CachedRow] = {}
        self._fh = None
        if path is not None:  # None: in memory only (--no-cache)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._load(path, header)
            self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the cache

    @classmethod
    def open(cls, model_fingerprint: str, config: dict[str, Any], *, persist: bool = True,
             root: Path | None = None) -> ScoreCache:
        key = cache_key(model_fingerprint, config)
        header = {"format": FORMAT, "model": model_fingerprint, "config": config}
        return cls((root or cache_dir()) / f"{key}.jsonl" if persist else None, header)

    def _load(self, path: Path, header: dict[str, Any]) -> None:
        if not path.exists() or path.stat().st_size == 0:
            atomic_write(path, json.dumps({"header": header}, sort_keys=True) + "\n")
            return
        data = path.read_bytes()
        keep = len(data) if data.endswith(b"\n") else data.rfind(b"\n") + 1  # drop a torn last line
        if keep < len(data):
            with open(path, "r+b") as fh:
                fh.truncate(keep)
        for line in data[:keep].decode("utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "h" in rec:
                self.rows[rec["h"]] = CachedRow(tuple(float(x) for x in rec["s"]), bool(rec.get("t", False)),
                                               tuple(int(x) for x in rec.get("n", ())))

    def get(self, content_hash: str) -> CachedRow | None:
        return self.rows.get(content_hash)

    def add(self, items: Iterable[tuple[str, CachedRow]]) -> None:
        lines = []
        for h, row in items:
            self.rows[h] = row
            rec = {"h": h, "s": list(row.scores), "t": row.truncated}
            if row.lengths:
                rec["n"] = list(row.lengths)
            lines.append(json.dumps(rec) + "\n")
        if lines and self._fh is not None:
            self._append("".join(lines))

    def _append(self, text: str) -> None:
        """One locked write at the end of the file, on a line of its own."""
        fh = self._fh
        assert fh is not None
        with _locked(fh):
            fh.seek(0, os.SEEK_END)
            if fh.tell() > 0:
                with open(fh.name, "rb") as peek:
                    peek.seek(-1, os.SEEK_END)
                    if peek.read(1) != b"\n":  # another writer died mid-line
                        text = "\n" + text
            fh.write(text)
            fh.flush()

    def absorb(self, items: Iterable[tuple[str, CachedRow]]) -> None:
        """Rows other processes scored: remembered, and appended only if the file lacks them
        (a cache folder not shared between machines); on a shared one they are there already."""
        items = list(items)
        on_disk: set[str] = set()
        if self.path is not None:
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.startswith('{"h": '):
                    try:
                        on_disk.add(json.loads(line)["h"])
                    except (json.JSONDecodeError, KeyError):
                        continue
        for h, row in items:
            self.rows[h] = row
        missing = [(h, row) for h, row in items if h not in on_disk]
        if missing:
            self.add(missing)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()

    def __enter__(self) -> ScoreCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
