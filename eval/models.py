"""Where a model's files are, which revision they are, and a fingerprint of their bytes.

`--model` is a local folder or a Hub id (`org/name[@revision]`, fetched through the Hub
client into its usual cache). The fingerprint keys the resume cache: it changes when any
config, tokenizer or weight file changes, and is cheap for multi-GB checkpoints (weights are
hashed by size plus their first and last MiB; small files in full).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rbkit.eval.errors import ModelError

_FULL_HASH_LIMIT = 8 << 20
_EDGE = 1 << 20


@dataclass(frozen=True)
class ModelRef:
    id: str  # as the user named it (Hub id, folder, or "default:...")
    path: Path  # local folder with config.json
    revision: str | None  # Hub commit sha, when it came from the Hub
    fingerprint: str

    def to_record(self) -> dict[str, str | None]:
        return {"id": self.id, "path": str(self.path), "revision": self.revision, "fingerprint": self.fingerprint}


def fingerprint(folder: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    for p in files:
        rel = p.relative_to(folder).as_posix()
        size = p.stat().st_size
        h.update(f"{rel}\x1f{size}\x1f".encode())
        with open(p, "rb") as fh:
            if size <= _FULL_HASH_LIMIT:
                h.update(hashlib.sha256(fh.read()).digest())
            else:
                head = fh.read(_EDGE)
                fh.seek(size - _EDGE)
                h.update(hashlib.sha256(head + fh.read(_EDGE)).digest())
    return h.hexdigest()


def resolve(name: str, revision: str | None = None) -> ModelRef:
    """A local folder, or a Hub model id downloaded (or found in the HF cache) at `revision`."""
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not a model folder (no config.json)")
        return ModelRef(name, path.resolve(), None, fingerprint(path))
    if "@" in name and revision is None:
        name, revision = name.split("@", 1)
    if name.count("/") != 1:
        raise ModelError(f"--model {name!r}: no such folder, and not a Hub id of the form org/name")
    try:
        from huggingface_hub import snapshot_download

        local = Path(snapshot_download(repo_id=name, revision=revision))
    except Exception as exc:  # offline, gated, missing
        raise ModelError(f"--model {name}: cannot get it from the Hub ({type(exc).__name__}: {exc})") from exc
    sha = local.name if len(local.name) == 40 else revision
    return ModelRef(name, local, sha, fingerprint(local))
