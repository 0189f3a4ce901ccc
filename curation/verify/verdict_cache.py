"""A content-addressed store of verifier verdicts, so a rebuild re-runs nothing unchanged.

The key is the sha256 of the canonical JSON of everything that can change a verdict (for code:
language, program, tests, toolchain versions, limits, runner version). Records are small JSON
files under `<root>/<kind>/<key[:2]>/<key>.json`, written to a temporary file in the same
folder and renamed into place, so parallel workers and interrupted builds never leave a torn
record. A record that cannot be read is treated as missing and overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rbkit.curation.rows import canonical_json


def default_cache_dir(explicit: Path | None = None) -> Path:
    """`--cache-dir` if given, else `$RBKIT_CACHE/verify`, else `~/.cache/rbkit/verify`."""
    if explicit is not None:
        return Path(explicit).expanduser()
    base = os.environ.get("RBKIT_CACHE")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "rbkit"
    return root / "verify"


def cache_key(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(parts)).encode("utf-8")).hexdigest()


class VerdictCache:
    """Verdict records of one verifier kind (e.g. "code") under a cache root."""

    def __init__(self, root: Path, kind: str):
        self.dir = Path(root) / kind

    def path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            with open(self.path(key), encoding="utf-8") as fh:
                record = json.load(fh)
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def put(self, key: str, record: Mapping[str, Any]) -> None:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(canonical_json(dict(record)))
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
