"""The rbkit CLI with two tiny fixture subsets registered, for CLI tests that need no mirror.

    RBKIT_SOURCES=<fixture mirror> python tests/rbkit/fixture_cli.py build fixture --out out

`fixture-natural` and `fixture-other` (source family `fixture`) read the mirror files
`llmbar/FixtureNatural/dataset.json` and `llmbar/FixtureOther/dataset.json`: tests/fixtures/llmbar/dataset.json
in LLMBar's upstream format, pinned by its sha256. `make_mirror` lays such a mirror out.

RBKIT_TEST_PAUSE_AFTER_FIRST_PARQUET=<file>: once the write phase has written its first
parquet file, create <file> and sleep, so a test can SIGKILL the build in the middle of writing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rbkit.curation.pipeline import BuildContext
    from rbkit.curation.rows import DroppedRow, TrioRow
    from rbkit.curation.sources import SourceFile

DATASET = Path(__file__).resolve().parents[1] / "fixtures" / "llmbar" / "dataset.json"
FOLDERS = {"fixture-natural": "FixtureNatural", "fixture-other": "FixtureOther"}


def make_mirror(root: Path, *, without: tuple[str, ...] = ()) -> Path:
    """A mirror holding the fixture file for every folder in FOLDERS except `without`."""
    for folder in FOLDERS.values():
        if folder not in without:
            (root / "llmbar" / folder).mkdir(parents=True, exist_ok=True)
            shutil.copy(DATASET, root / "llmbar" / folder / "dataset.json")
    root.mkdir(parents=True, exist_ok=True)
    return root


def register() -> None:
    from rbkit.curation.registry import register_subset
    from rbkit.subsets.llmbar import rows_from, source_for

    data = DATASET.read_bytes()
    for name, folder in FOLDERS.items():
        src = source_for(folder, hashlib.sha256(data).hexdigest(), len(data))

        def build(ctx: BuildContext, name: str = name, src: SourceFile = src) -> Iterator[TrioRow | DroppedRow]:
            return rows_from(name, src, ctx)

        register_subset(name=name, section="Chat Hard", source="fixture", license="MIT", expected=None, sources=(src,))(build)


def pause_after_first_parquet(marker: Path) -> None:
    """Make the write phase stop (for a SIGKILL) after its first parquet file."""
    import pyarrow.parquet as pq

    real = pq.write_table

    def write_then_pause(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)
        marker.write_text(str(os.getpid()))
        time.sleep(600)

    pq.write_table = write_then_pause


if __name__ == "__main__":
    register()
    if os.environ.get("RBKIT_TEST_PAUSE_AFTER_FIRST_PARQUET"):
        pause_after_first_parquet(Path(os.environ["RBKIT_TEST_PAUSE_AFTER_FIRST_PARQUET"]))
    from rbkit.cli import main

    sys.argv[0] = "rbkit"
    main()
