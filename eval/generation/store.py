"""The on-disk completion cache: one append-only JSONL file per model identity.

A completion is appended (one `write` of one line, under an exclusive `flock`, then `fsync`)
the moment it arrives, so a run killed at any point keeps every completion it had finished and
the rerun asks only for the rest. A line cut short by a kill (no trailing newline, or JSON that
does not parse) is skipped on reading, and the next append starts on a fresh line, so a torn
tail never poisons the lines after it.

The key is the sha256 of the canonical JSON of {backend identity, messages, sampling params}
(`request_key`); the request id is not part of it, so two requests that ask the same thing
(greedy samples of one prompt) share one completion. Error completions are never stored: a
rerun retries them. Files live under `cache_root()/generation/<identity digest>.jsonl`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rbkit.core.jsonio import canonical_json
from rbkit.core.paths import cache_root
from rbkit.eval.generation.types import Completion, GenerationRequest

STORED_FIELDS = ("text", "finish_reason", "prompt_tokens", "completion_tokens", "model", "revision")


def default_cache_dir() -> Path:
    return cache_root() / "generation"


def identity_digest(identity: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(identity)).encode("utf-8")).hexdigest()


def request_key(identity: Mapping[str, Any], request: GenerationRequest) -> str:
    """sha256 of canonical JSON of what decides the answer: model identity, messages, params."""
    payload = {
        "backend": dict(identity),
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "params": request.params.to_record(),
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


class CompletionStore:
    """The cached completions of one backend identity (read once, appended to as they arrive)."""

    def __init__(self, folder: Path, identity: Mapping[str, Any]) -> None:
        self.path = Path(folder) / f"{identity_digest(identity)[:32]}.jsonl"
        self.identity = dict(identity)
        self._entries: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.is_file():
            return
        with open(self.path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # a torn last line: the append that wrote it was killed
                try:
                    entry = json.loads(raw)
                    key, record = entry["key"], entry["completion"]
                except (ValueError, KeyError, TypeError):
                    continue  # not ours, or damaged: the request is simply asked again
                if isinstance(key, str) and isinstance(record, dict) and set(STORED_FIELDS) <= set(record):
                    self._entries[key] = record

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, request_id: str) -> Completion | None:
        record = self._entries.get(key)
        if record is None:
            return None
        return Completion(request_id=request_id, cached=True, **{f: record[f] for f in STORED_FIELDS})

    def put(self, key: str, completion: Completion) -> None:
        """Persist `completion` now (an error is not stored: a rerun asks again)."""
        if completion.finish_reason == "error":
            return
        record = {f: getattr(completion, f) for f in STORED_FIELDS}
        line = (canonical_json({"key": key, "completion": record}) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # another process appending to the same file waits
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # after a torn line: start a fresh one
            while line:
                line = line[os.write(fd, line):]
            os.fsync(fd)
        finally:
            os.close(fd)
        self._entries[key] = record
