"""Where rbkit keeps what it may throw away: one cache root for sources, verdicts, scores,
models and the local review server."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """`$RBKIT_CACHE` when set, else `~/.cache/rbkit`; each user of the cache takes a subfolder."""
    value = os.environ.get("RBKIT_CACHE")
    return Path(value).expanduser() if value else Path.home() / ".cache" / "rbkit"
