"""The resume cache: per-row scores appended as they are computed, so no work is lost.

One JSONL file per (model fingerprint, scoring config) under `$RBKIT_CACHE/eval/` (default
`~/.cache/rbkit/eval`). Each line holds one row's scores keyed by the row's content hash, and
lines are written batch by batch with a single `write` and a flush. A run killed at any
point (SIGKILL included) leaves at worst a torn last line, which the next run drops before
appending; it then scores only the rows that are not in the file. Batch size is not part of
the key: scores do not depend on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rbkit.core.files import atomic_write
from rbkit.core.jsonio import canonical_json
from rbkit.core.paths import cache_root

FORMAT = 1


def cache_dir() -> Path:
    """The resume cache: `eval/` under the rbkit cache root."""
    return cache_root() / "eval"


def cache_key(model_fingerprint: str, config: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json({"format": FORMAT, "model": model_fingerprint, "config": config}).encode()).hexdigest()


@dataclass(frozen=True)
class CachedRow:
    scores: tuple[float, ...]  # chosen then rejected
    truncated: bool


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
                self.rows[rec["h"]] = CachedRow(tuple(float(x) for x in rec["s"]), bool(rec.get("t", False)))

    def get(self, content_hash: str) -> CachedRow | None:
        return self.rows.get(content_hash)

    def add(self, items: Iterable[tuple[str, CachedRow]]) -> None:
        lines = []
        for h, row in items:
            self.rows[h] = row
            lines.append(json.dumps({"h": h, "s": list(row.scores), "t": row.truncated}) + "\n")
        if lines and self._fh is not None:
            self._fh.write("".join(lines))
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()

    def __enter__(self) -> ScoreCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
