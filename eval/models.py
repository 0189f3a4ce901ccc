"""Where a model's files are, which revision they are, and a fingerprint of their bytes.

`--model` is a local folder or a Hub id (`org/name[@revision]`, fetched through the Hub
client into its usual cache). The fingerprint keys the resume cache: it is a sha256 over the
name, size and full sha256 of every file in the folder (config, tokenizer and weights), so
any changed byte gives another fingerprint. File digests are remembered by (path, size,
mtime_ns) in `eval.file_hashes`, so only the first run over a checkpoint reads it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from rbkit.eval.errors import ModelError
from rbkit.eval.file_hashes import FileHashes


@dataclass(frozen=True)
class ModelRef:
    id: str  # as the user named it (Hub id, folder, or "default:...")
    path: Path  # local folder with config.json
    revision: str | None  # Hub commit sha, when it came from the Hub
    fingerprint: str

    def to_record(self) -> dict[str, str | None]:
        return {"id": self.id, "path": str(self.path), "revision": self.revision, "fingerprint": self.fingerprint}


def fingerprint(folder: Path, hashes: FileHashes | None = None) -> str:
    """sha256 over (relative name, size, full sha256) of every non-hidden file under `folder`."""
    store = hashes or FileHashes()
    h = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    for p in files:
        rel = p.relative_to(folder).as_posix()
        h.update(f"{rel}\x1f{p.stat().st_size}\x1f".encode())
        h.update(bytes.fromhex(store.sha256(p)))
    store.save()
    return h.hexdigest()


def looks_local(name: str) -> bool:
    """A name meant as a folder, not a Hub id: starts with / . ~, has more than one separator,
    or names a folder whose parent exists here (`models/rm` beside a `models/` folder)."""
    if name.startswith(("/", ".", "~")) or (os.sep != "/" and os.sep in name):
        return True
    bare = name.split("@", 1)[0]
    if bare.count("/") > 1:
        return True
    parent = Path(bare).parent
    return bare.count("/") == 1 and parent != Path(".") and parent.is_dir()


def resolve(name: str, revision: str | None = None, option: str = "--model") -> ModelRef:
    """A local folder, or a Hub model id downloaded (or found in the HF cache) at `revision`.

    `option` names the CLI flag in error messages (`--model`, `--ref-model`)."""
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not a model folder (no config.json)")
        return ModelRef(name, path.resolve(), None, fingerprint(path))
    if looks_local(name):
        raise ModelError(f"{option}: no such folder: {path}")
    if "@" in name and revision is None:
        name, revision = name.split("@", 1)
    if name.count("/") != 1:
        raise ModelError(f"{option} {name!r}: no such folder, and not a Hub id of the form org/name")
    try:
        from huggingface_hub import snapshot_download

        local = Path(snapshot_download(repo_id=name, revision=revision))
    except Exception as exc:  # offline, gated, missing
        first = (str(exc).strip().splitlines() or [""])[0]  # Hub errors span lines; the first says why
        raise ModelError(f"{option} {name}: cannot get it from the Hub ({type(exc).__name__}: {first})") from exc
    sha = local.name if len(local.name) == 40 else revision
    return ModelRef(name, local, sha, fingerprint(local))
