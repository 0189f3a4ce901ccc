"""The one atomic file write: readers (and a crash) never see half a file.

Everything rbkit writes goes through `atomic_write`: the bytes land in a temporary file in the
destination's folder, get the mode `open()` would have given (or the one asked for), and are
renamed over the destination. When writing fails, the destination is untouched and the
temporary file is gone.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would have given; mkstemp's 0600 would hide files
DIR_MODE = 0o777 & ~_umask()


def atomic_write(path: Path, content: bytes | str | Callable[[Path], object], *, mode: int | None = None) -> None:
    """Write `content` to `path` atomically.

    `content` is the bytes, the text (UTF-8), or a callable that writes the temporary file whose
    path it is given (for writers that want a path, such as parquet); whatever it raises leaves
    `path` as it was. `mode` defaults to what `open()` would have given under the umask.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        if callable(content):
            os.close(fd)
            content(tmp)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else content
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        os.chmod(tmp, FILE_MODE if mode is None else mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

