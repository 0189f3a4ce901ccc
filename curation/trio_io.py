"""Reading and writing trio rows as parquet and JSONL, with a fixed, explicit arrow schema.

An explicit schema (rather than inference) keeps files byte-identical across builds and keeps
empty subsets and all-null columns typed the same way as full ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from rbkit.core.files import DIR_MODE as DIR_MODE  # the build folder's mode (curation.build)
from rbkit.core.files import atomic_write
from rbkit.curation.rows import TrioRow

VERIFICATION_TYPE = pa.struct(
    [("verifier", pa.string()), ("side", pa.string()), ("verdict", pa.string()), ("detail", pa.string())]
)
REVIEW_TYPE = pa.struct(
    [("status", pa.string()), ("reviewer", pa.string()), ("time", pa.string()), ("comment", pa.string())]
)
PROVENANCE_TYPE = pa.struct(
    [
        ("source", pa.string()),
        ("upstream_file", pa.string()),
        ("revision", pa.string()),
        ("sha256", pa.string()),
        ("row_key", pa.string()),
        ("builder", pa.string()),
        ("builder_version", pa.string()),
        ("filters_passed", pa.list_(pa.string())),
        ("verification", pa.list_(VERIFICATION_TYPE)),
        ("review", REVIEW_TYPE),
        ("extra", pa.string()),
    ]
)
MESSAGE_TYPE = pa.struct([("role", pa.string()), ("content", pa.string())])


def arrow_schema(*, messages: bool = False, best_of_n: bool = False, provenance: bool = True) -> pa.Schema:
    """The arrow schema of a trio table; published columns first, in RewardBench order."""
    text = pa.list_(pa.string()) if best_of_n else pa.string()
    fields = [
        ("prompt", pa.list_(MESSAGE_TYPE) if messages else pa.string()),
        ("chosen", text),
        ("chosen_model", pa.string()),
        ("rejected", text),
        ("rejected_model", pa.string()),
        ("subset", pa.string()),
        ("id", pa.int64()),
    ]
    if best_of_n:
        fields += [("num_correct", pa.int64()), ("total_completions", pa.int64())]
    if provenance:
        fields.append(("provenance", PROVENANCE_TYPE))
    return pa.schema(fields)


def schema_for(rows: list[TrioRow]) -> pa.Schema:
    first = rows[0] if rows else None
    messages = first is not None and not isinstance(first.prompt, str)
    best_of_n = first is not None and not isinstance(first.chosen, str)
    return arrow_schema(messages=messages, best_of_n=best_of_n)


def to_table(rows: list[TrioRow], schema: pa.Schema | None = None) -> pa.Table:
    schema = schema or schema_for(rows)
    records = []
    for row in rows:
        rec = row.to_record()
        if "num_correct" in schema.names:
            rec["num_correct"] = len(rec["chosen"])
            rec["total_completions"] = len(rec["chosen"]) + len(rec["rejected"])
        records.append({name: rec.get(name) for name in schema.names})
    return pa.Table.from_pylist(records, schema=schema)


def write_parquet(table: pa.Table, path: Path) -> None:
    atomic_write(
        path,
        lambda tmp: pq.write_table(
            table, tmp, compression="zstd", use_dictionary=False, write_statistics=False
        ),
    )


def write_text(path: Path, text: str) -> None:
    atomic_write(path, text)


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    lines = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in records)
    write_text(path, lines)


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | Exception]]:
    """(1-based row number, record or the parse error) from a parquet or JSONL file."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        for i, rec in enumerate(table.to_pylist(), start=1):
            yield i, rec
        return
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                yield i, exc
                continue
            yield i, rec


def read_rows(path: Path) -> list[TrioRow]:
    rows = []
    for i, rec in read_records(path):
        if isinstance(rec, Exception):
            raise ValueError(f"{path}:{i}: invalid JSON: {rec}")
        rows.append(TrioRow.from_record(_without_derived(rec)))
    return rows


def _without_derived(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if k not in ("num_correct", "total_completions")}
