"""Full sha256 of files, remembered by (path, size, mtime_ns) so a rerun reads nothing again.

The resume cache is keyed on a model's fingerprint, so the fingerprint must change whenever
any byte of a weight or config file changes: every file is hashed in full (a sampled hash
let two checkpoints that differ only in the middle share their scores). Multi-GB checkpoints
make that slow once, so each file's digest is stored in one small JSON file under the cache
root together with the file's resolved path, size and mtime_ns; a file whose three values
match is not read again, and any change to its size or mtime makes it be hashed anew.
The store is a cache: a missing, corrupt or foreign file is treated as empty.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rbkit.core.digest import sha256_file
from rbkit.core.files import atomic_write
from rbkit.core.paths import cache_root

FORMAT = 1
STORE_NAME = "file-sha256.json"


def store_path() -> Path:
    """`$RBKIT_CACHE/eval/file-sha256.json` (default `~/.cache/rbkit/eval/...`)."""
    return cache_root() / "eval" / STORE_NAME


def _load(store: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        return {}
    return data["files"]


class FileHashes:
    """Digests of files keyed by resolved path; `save` writes back only what changed."""

    def __init__(self, store: Path | None = None):
        self.store = store or store_path()
        self.files = _load(self.store)
        self.changed = False

    def sha256(self, path: Path) -> str:
        """The file's full sha256, from the store when its path, size and mtime_ns are unchanged."""
        real = Path(path).resolve()  # Hub snapshots link to blobs: key the blob itself
        st = os.stat(real)
        key = str(real)
        entry = self.files.get(key)
        if (isinstance(entry, dict) and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns
                and isinstance(entry.get("sha256"), str)):
            return entry["sha256"]  # type: ignore[return-value]
        digest = sha256_file(real)
        after = os.stat(real)
        if (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns):  # not written to meanwhile
            self.files[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
            self.changed = True
        return digest

    def save(self) -> None:
        """Write the store back (atomically) when something was hashed; forget files that are gone."""
        if not self.changed:
            return
        merged = {**_load(self.store), **self.files}  # keep what a concurrent run added meanwhile
        kept = {k: v for k, v in sorted(merged.items()) if os.path.exists(k)}
        text = json.dumps({"format": FORMAT, "files": kept}, sort_keys=True, indent=0) + "\n"
        try:
            atomic_write(self.store, text)
        except OSError:
            return  # a read-only cache costs time on the next run, never a wrong hash
        self.changed = False
