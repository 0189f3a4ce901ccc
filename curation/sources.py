"""Upstream source files: where each lives, its pinned bytes, and how to get a verified local path.

Every builder declares its inputs as `SourceFile`s. Resolution order:
1. `RBKIT_SOURCES=DIR` (a mirror laid out like `../shared/sources`): read `DIR/<mirror_path>`.
2. The download cache (`RBKIT_CACHE`, default `~/.cache/rbkit/sources`), filled by `rbkit sources fetch`.
Either way the sha256 is checked before a single row is read.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rbkit.core.digest import sha256_file
from rbkit.core.files import atomic_write
from rbkit.core.paths import cache_root
from rbkit.curation.errors import SourceHashError, SourceMissingError

SourceKind = Literal["github", "github-lfs", "hub-dataset", "hub-space", "url", "local"]


@dataclass(frozen=True)
class SourceFile:
    """One pinned upstream file."""

    name: str  # short key, unique across rbkit, e.g. "llmbar/Natural"
    kind: SourceKind
    repo: str  # "owner/name" on GitHub or the Hub
    revision: str  # commit sha (GitHub, Hub)
    path: str  # path inside the upstream repo
    sha256: str
    license: str  # SPDX id or "unknown"
    citation: str  # BibTeX key of the upstream work (see CITATION.cff references)
    mirror_path: str  # path relative to a RBKIT_SOURCES mirror
    size: int | None = None
    # For files whose sha256 was never published: the git blob id (`git hash-object`) when one
    # is known, checked like sha256; else `pinned_by` says what the builder checks the bytes
    # against (e.g. texts quoted in another, hash-pinned file). sha256 is then "".
    git_sha1: str | None = None
    pinned_by: str | None = None
    # kind "local" (a subset spec's own file): `path` is relative to this folder, which is
    # where `resolve` reads it (never recorded, so builds stay byte-identical across checkouts).
    local_root: str | None = None

    def __post_init__(self) -> None:
        if not (self.sha256 or self.git_sha1 or self.pinned_by):
            raise ValueError(f"source {self.name!r}: give sha256, git_sha1 or pinned_by")

    @property
    def pin(self) -> str:
        """The content pin, for messages: the sha256, else the git blob id, else what checks it."""
        if self.sha256:
            return f"sha256 {self.sha256}"
        if self.git_sha1:
            return f"git blob {self.git_sha1}"
        return f"no hash; {self.pinned_by}"

    @property
    def url(self) -> str:
        if self.kind in ("url", "local"):  # "url": `path` is the whole URL
            return self.path
        if self.kind == "github":
            return f"https://raw.githubusercontent.com/{self.repo}/{self.revision}/{self.path}"
        if self.kind == "github-lfs":
            return f"https://media.githubusercontent.com/media/{self.repo}/{self.revision}/{self.path}"
        if self.kind == "hub-space":
            return f"https://huggingface.co/spaces/{self.repo}/resolve/{self.revision}/{self.path}"
        return f"https://huggingface.co/datasets/{self.repo}/resolve/{self.revision}/{self.path}"


def mirror_root() -> Path | None:
    value = os.environ.get("RBKIT_SOURCES")
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Where `rbkit sources fetch` keeps downloads: `sources/` under the rbkit cache root."""
    return cache_root() / "sources"


def cache_path(src: SourceFile) -> Path:
    key = src.sha256 or src.git_sha1 or hashlib.sha256(f"{src.repo}@{src.revision}:{src.path}".encode()).hexdigest()
    return cache_dir() / key[:2] / key / Path(src.path).name


def git_blob_sha1(path: Path) -> str:
    """The git blob id of a file's bytes (what `git hash-object` prints)."""
    h = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# Hashing a few MB per build is cheap, but builders resolve the same file many times.
_VERIFIED: dict[tuple[str, int, int], str] = {}


def _checked_sha(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _VERIFIED:
        _VERIFIED[key] = sha256_file(path)
    return _VERIFIED[key]


def hash_mismatch(src: SourceFile, path: Path) -> tuple[str, str, str] | None:
    """(algorithm, expected, actual) when `path` is not the pinned bytes of `src`, else None."""
    if src.sha256:
        actual = _checked_sha(path)
        if actual != src.sha256:
            return ("sha256", src.sha256, actual)
    if src.git_sha1:
        actual = git_blob_sha1(path)
        if actual != src.git_sha1:
            return ("git blob sha1", src.git_sha1, actual)
    return None


def verify(src: SourceFile, path: Path) -> None:
    bad = hash_mismatch(src, path)
    if bad is not None:
        algo, expected, actual = bad
        raise SourceHashError(
            f"{path}: {algo} mismatch for source '{src.name}' ({src.repo}@{src.revision[:12]} {src.path})\n"
            f"  expected {expected}\n  actual   {actual}\n"
            "  The file was altered or is a different version. Restore it from the upstream "
            f"revision ({src.url}), or delete it and run `rbkit sources fetch {src.name}`."
        )


def resolve(src: SourceFile) -> Path:
    """A local, hash-verified path for `src`, or a clear error saying how to get it."""
    if src.kind == "local":
        local = Path(src.local_root or ".") / src.path
        if not local.is_file():
            raise SourceMissingError(f"source '{src.name}' is missing: no file {local} ({src.pin})")
        verify(src, local)
        return local
    root = mirror_root()
    tried: list[str] = []
    if root is not None:
        candidate = root / src.mirror_path
        tried.append(str(candidate))
        if candidate.is_file():
            verify(src, candidate)
            return candidate
    cached = cache_path(src)
    tried.append(str(cached))
    if cached.is_file():
        verify(src, cached)
        return cached
    raise SourceMissingError(
        f"source '{src.name}' is missing: {src.repo}@{src.revision[:12]} {src.path} "
        f"({src.pin}{f', {src.size} bytes' if src.size else ''}).\n"
        f"  looked in: {', '.join(tried)}\n"
        f"  fix: run `rbkit sources fetch {src.name}` (downloads {src.url}), "
        "or place the file at the mirror path and set RBKIT_SOURCES."
    )


def is_available(src: SourceFile) -> bool:
    try:
        resolve(src)
    except SourceMissingError:
        return False
    return True


# --- fetching -------------------------------------------------------------------------------


def fetch(src: SourceFile, *, force: bool = False, timeout: float = 60.0) -> Path:
    """Download `src` into the cache with the real client for its host, verifying sha256.

    The download is written atomically: a wrong hash or a network error leaves the cache as it was.
    """
    dest = cache_path(src)
    if dest.is_file() and not force:
        verify(src, dest)
        return dest
    try:
        atomic_write(dest, lambda tmp: _download(src, tmp, timeout))
        return dest
    except SourceHashError:
        raise
    except Exception as exc:  # network errors from httpx / huggingface_hub
        raise SourceMissingError(f"could not download source '{src.name}' from {src.url}: {exc}") from exc


def _download(src: SourceFile, tmp: Path, timeout: float) -> None:
    """Fetch `src` into `tmp` and check its pin (raises SourceHashError when the bytes differ)."""
    if src.kind in ("hub-dataset", "hub-space"):
        from huggingface_hub import hf_hub_download

        got = hf_hub_download(
            repo_id=src.repo,
            filename=src.path,
            revision=src.revision,
            repo_type="dataset" if src.kind == "hub-dataset" else "space",
        )
        shutil.copyfile(got, tmp)
    else:
        import httpx

        with httpx.stream("GET", src.url, follow_redirects=True, timeout=timeout) as resp:
            resp.raise_for_status()
            with open(tmp, "wb") as fh:
                for chunk in resp.iter_bytes():
                    fh.write(chunk)
    bad = hash_mismatch(src, tmp)
    if bad is not None:
        algo, expected, actual = bad
        raise SourceHashError(
            f"downloaded {src.url} for source '{src.name}' but its {algo} is wrong\n"
            f"  expected {expected}\n  actual   {actual}\n"
            "  The upstream file changed or the download was corrupted; nothing was cached."
        )


# --- local mirror manifests -------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestEntry:
    relpath: str
    sha256: str
    size: int


def read_manifest(mirror: Path) -> list[ManifestEntry]:
    """Entries of `MANIFEST.tsv` (columns relpath, ..., bytes, sha256, ...)."""
    path = mirror / "MANIFEST.tsv"
    if not path.is_file():
        raise SourceMissingError(f"{path}: no MANIFEST.tsv in mirror {mirror}")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        needed = {"relpath", "sha256", "bytes"}
        if not needed <= set(reader.fieldnames or ()):
            raise SourceMissingError(f"{path}: header must contain {sorted(needed)}, got {reader.fieldnames}")
        return [
            ManifestEntry(r["relpath"], r["sha256"], int(r["bytes"]))
            for r in reader
            if r.get("relpath")
        ]


@dataclass(frozen=True)
class CheckResult:
    relpath: str
    status: Literal["ok", "missing", "altered", "absent"]  # absent: registered, not in this mirror
    expected: str
    actual: str | None


def check_mirror(mirror: Path, registered: Iterable[SourceFile] = ()) -> list[CheckResult]:
    """Verify every file the mirror's manifest lists plus every registered source it should hold."""
    expected: dict[str, str] = {e.relpath: e.sha256 for e in read_manifest(mirror)}
    listed = set(expected)
    unhashed: list[SourceFile] = []  # pinned by git blob id or checked by their builder
    for src in registered:
        if not src.sha256:
            if src.mirror_path not in listed:
                unhashed.append(src)
            continue
        if src.mirror_path in expected and expected[src.mirror_path] != src.sha256:
            raise SourceHashError(
                f"{mirror / 'MANIFEST.tsv'}: {src.mirror_path} is pinned by rbkit source "
                f"'{src.name}' at sha256 {src.sha256} but the manifest says {expected[src.mirror_path]}"
            )
        expected.setdefault(src.mirror_path, src.sha256)
    results = []
    for rel, sha in sorted(expected.items()):
        p = mirror / rel
        if not p.is_file():
            results.append(CheckResult(rel, "missing" if rel in listed else "absent", sha, None))
            continue
        actual = _checked_sha(p)
        results.append(CheckResult(rel, "ok" if actual == sha else "altered", sha, actual))
    for src in unhashed:
        p = mirror / src.mirror_path
        if not p.is_file():
            results.append(CheckResult(src.mirror_path, "absent", src.pin, None))
        else:
            bad = hash_mismatch(src, p)
            results.append(CheckResult(src.mirror_path, "altered" if bad else "ok", src.pin, bad[2] if bad else None))
    return sorted(results, key=lambda r: r.relpath)
