"""The end of a program's output, for messages and verdict details: the one tail helper."""

from __future__ import annotations

import os
from pathlib import Path

MARK = "..."  # stands before a tail that was cut


def tail(text: str, limit: int = 2000) -> str:
    """The last `limit` characters of `text`, with "..." in front when something was cut."""
    return text if len(text) <= limit else MARK + text[-limit:]


def tail_file(path: Path, limit: int = 4096, *, missing: str = "") -> str:
    """The last `limit` bytes of the file at `path` (decoded leniently), "..." in front when
    something was cut; `missing` when the file cannot be read. Reads only the end of the file."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            data = fh.read()
    except OSError:
        return missing
    text = data.decode("utf-8", errors="replace")
    return text if size <= limit else MARK + text
