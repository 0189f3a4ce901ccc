"""Reading upstream rows with errors that name file, row and field.

Builders call these instead of `json.load` so that a malformed upstream row becomes a
`SourceRowError` (which `BuildContext.bad_row` either raises or turns into a dropped row).
Row numbers are 1-based: the element index in a JSON array, the line in JSONL/CSV, the row in
parquet.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rbkit.curation.errors import SourceRowError

Row = tuple[int, dict[str, Any] | SourceRowError]


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def json_array_rows(path: Path, label: str) -> Iterator[Row]:
    """Elements of a JSON array file; an unparseable file is one error at the failing line."""
    try:
        with _open_text(path) as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise SourceRowError(label, exc.lineno, "<json>", f"invalid JSON: {exc.msg} (column {exc.colno})") from exc
    except UnicodeDecodeError as exc:
        raise SourceRowError(label, 0, "<file>", f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
    if not isinstance(data, list):
        raise SourceRowError(label, 0, "<file>", f"expected a JSON array of rows, got {type(data).__name__}")
    for i, item in enumerate(data, start=1):
        if isinstance(item, dict):
            yield i, item
        else:
            yield i, SourceRowError(label, i, "<row>", f"expected an object, got {type(item).__name__}")


def jsonl_rows(path: Path, label: str) -> Iterator[Row]:
    """Lines of a JSONL file (optionally gzipped); a bad line is an error for that line only."""
    with _open_text(path) as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield i, SourceRowError(label, i, "<json>", f"invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            if isinstance(item, dict):
                yield i, item
            else:
                yield i, SourceRowError(label, i, "<row>", f"expected an object, got {type(item).__name__}")


def csv_rows(path: Path, label: str, required: tuple[str, ...] = ()) -> Iterator[Row]:
    """Rows of a CSV file with a header; row numbers count the header as line 1."""
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or ())]
        if missing:
            raise SourceRowError(label, 1, missing[0], f"column missing from header {reader.fieldnames}")
        for i, item in enumerate(reader, start=2):
            yield i, dict(item)


def parquet_rows(path: Path, label: str) -> Iterator[Row]:
    """Rows of a parquet file as dicts (list columns as lists); row numbers are 1-based."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for a file that is not parquet
        raise SourceRowError(label, 0, "<file>", f"not a readable parquet file: {exc}") from exc
    row = 0
    for batch in table.to_batches(max_chunksize=4096):
        for item in batch.to_pylist():
            row += 1
            yield row, item


def text_field(rec: Mapping[str, Any], field: str, label: str, row: int, *, allow_empty: bool = False) -> str:
    if field not in rec:
        raise SourceRowError(label, row, field, "missing field")
    value = rec[field]
    if not isinstance(value, str):
        raise SourceRowError(label, row, field, f"expected a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise SourceRowError(label, row, field, "empty text")
    return value


def choice_field(rec: Mapping[str, Any], field: str, allowed: tuple[Any, ...], label: str, row: int) -> Any:
    if field not in rec:
        raise SourceRowError(label, row, field, "missing field")
    value = rec[field]
    if isinstance(value, bool) or value not in allowed:
        raise SourceRowError(label, row, field, f"expected one of {list(allowed)}, got {value!r}")
    return value
