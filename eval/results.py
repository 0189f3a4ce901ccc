"""Result folders: `results.json` (validated by schemas/results.schema.json) and `scores.parquet`.

Both files are written to a temporary name in the destination folder and renamed into place,
so a reader never sees half a result. Nothing is uploaded anywhere.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from rbkit.core.files import atomic_write
from rbkit.eval.aggregate import RowScore
from rbkit.eval.errors import ResultsError

from rbkit import schemas

RESULTS = "results.json"
SCORES = "scores.parquet"
FORMAT = 1

SCORES_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("subset", pa.string()),
        ("score_chosen", pa.float64()),
        ("score_rejected", pa.float64()),
        ("correct", pa.float64()),
        ("tie", pa.bool_()),
        ("truncated", pa.bool_()),
        ("n_chosen", pa.int32()),
        ("scores", pa.list_(pa.float64())),
        ("row_sha256", pa.string()),
        # tokens of each completion as the model read it (same order as scores), for the report's
        # length-bias view; null when the writer did not measure them. Older files lack the column.
        ("lengths", pa.list_(pa.int32())),
    ]
)


def software_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("rbkit", "torch", "transformers", "tokenizers", "datasets", "numpy", "pyarrow", "huggingface_hub"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def validate(results: dict[str, Any], where: str = RESULTS) -> None:
    errors = sorted(schemas.validator("results").iter_errors(results), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors[:10]]
        raise ResultsError(f"{where} does not match schemas/results.schema.json:\n" + "\n".join(lines))


def scores_table(rows: Sequence[RowScore]) -> pa.Table:
    ordered = sorted(rows, key=lambda r: (r.subset, r.id))
    return pa.Table.from_pydict(
        {
            "id": [r.id for r in ordered],
            "subset": [r.subset for r in ordered],
            "score_chosen": [r.score_chosen for r in ordered],
            "score_rejected": [r.score_rejected for r in ordered],
            "correct": [r.credit for r in ordered],
            "tie": [r.tie for r in ordered],
            "truncated": [r.truncated for r in ordered],
            "n_chosen": [r.n_chosen for r in ordered],
            "scores": [list(r.scores) for r in ordered],
            "row_sha256": [r.row_sha256 for r in ordered],
            "lengths": [list(r.lengths) if r.lengths else None for r in ordered],
        },
        schema=SCORES_SCHEMA,
    )


def prepare(out: Path) -> None:
    """Create the result folder up front, so an unwritable --out stops the run before any scoring."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"--out {out}: cannot create the folder ({exc.strerror or exc})") from exc


def write(out: Path, results: dict[str, Any], rows: Sequence[RowScore]) -> None:
    validate(results)
    prepare(out)
    table = scores_table(rows)
    text = json.dumps(results, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    for name, content in ((SCORES, lambda p: pq.write_table(table, p, compression="zstd")), (RESULTS, text)):
        try:
            atomic_write(out / name, content)
        except OSError as exc:  # disk full, permissions: the old file stays, the message names the new one
            raise ResultsError(f"{out / name}: cannot write it ({exc.strerror or exc})") from exc


def read(folder: Path) -> tuple[dict[str, Any], pa.Table]:
    res, sc = folder / RESULTS, folder / SCORES
    if not res.is_file():
        raise ResultsError(f"{folder}: no {RESULTS}; run `rbkit eval --out {folder}` first")
    try:
        results = json.loads(res.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{res}: invalid JSON ({exc})") from exc
    validate(results, str(res))
    if not sc.is_file():
        raise ResultsError(f"{folder}: no {SCORES} next to {RESULTS}")
    return results, pq.read_table(sc)
