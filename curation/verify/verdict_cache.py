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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rbkit.core.files import atomic_write
from rbkit.core.jsonio import canonical_json
from rbkit.core.paths import cache_root


def default_cache_dir(explicit: Path | None = None) -> Path:
    """`--cache-dir` if given, else `$RBKIT_CACHE/verify`, else `~/.cache/rbkit/verify`."""
    if explicit is not None:
        return Path(explicit).expanduser()
    return cache_root() / "verify"


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
        atomic_write(self.path(key), canonical_json(dict(record)))
