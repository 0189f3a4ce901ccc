"""The blind orders a push showed, kept in the build folder where annotators never look.

`rbkit review push --blind` records, for every row it sends, which side each letter stands for
in `BUILD_DIR/review/blind.jsonl` (one JSON object a line, sorted by subset and id), before the
records reach Argilla. Argilla shows every metadata value to the dataset's owner, who is often
the curator, so the mapping is not stored there. `rbkit review pull` reads it back; a blind
answer to a row without an entry, or whose text changed since, decides nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rbkit.core.files import atomic_write
from rbkit.curation.errors import OutputBusyError
from rbkit.curation.folder_swap import output_lock, writing
from rbkit.curation.review.buildio import REVIEW_DIR
from rbkit.curation.review.connection import ReviewError
from rbkit.curation.review.layout import Slot, parse_slot, slot_name

BLIND_FILE = "blind.jsonl"
LOCK_WAIT = 30.0  # seconds to wait while another rbkit process writes the build folder


@dataclass(frozen=True)
class BlindEntry:
    """How one row was shown: `order[i]` is the slot behind letter i (A, B, ...)."""

    subset: str
    id: int
    content_sha256: str
    seed: int
    order: tuple[Slot, ...]

    @property
    def key(self) -> tuple[str, int]:
        return (self.subset, self.id)

    def to_record(self) -> dict[str, object]:
        return {
            "subset": self.subset,
            "id": self.id,
            "content_sha256": self.content_sha256,
            "seed": self.seed,
            "order": [slot_name(s) for s in self.order],
        }


def blind_path(build_dir: Path) -> Path:
    return Path(build_dir) / REVIEW_DIR / BLIND_FILE


def read_blind(build_dir: Path) -> dict[tuple[str, int], BlindEntry]:
    """Every recorded blind order, by (subset, id); none when no blind push was made."""
    path = blind_path(build_dir)
    if not path.is_file():
        return {}
    entries: dict[tuple[str, int], BlindEntry] = {}
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                entry = BlindEntry(
                    str(rec["subset"]), int(rec["id"]), str(rec["content_sha256"]), int(rec["seed"]),
                    tuple(parse_slot(s) for s in rec["order"]),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ReviewError(f"{path}:{number}: not a blind-order entry: {exc}") from exc
            entries[entry.key] = entry
    return entries


def record_blind(
    build_dir: Path, entries: Iterable[BlindEntry], *, wait: float = LOCK_WAIT, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Merge `entries` into the file (a row's entry is replaced), atomically and sorted.

    Held under the build folder's lock, so a pull swapping the folder in, or another push
    merging its own entries, never loses this write; a busy lock is waited for, boundedly.
    """
    build_dir = Path(build_dir)
    path = blind_path(build_dir)
    deadline = time.monotonic() + wait
    while True:
        try:
            with output_lock(build_dir):
                merged = read_blind(build_dir)
                merged.update({e.key: e for e in entries})
                text = "".join(
                    json.dumps(merged[key].to_record(), sort_keys=True) + "\n" for key in sorted(merged)
                )
                with writing(path):
                    atomic_write(path, text)
            return
        except OutputBusyError:
            if time.monotonic() >= deadline:
                raise
            sleep(0.25)
