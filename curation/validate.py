"""Check trio files against `schemas/trio.schema.json` and report every violation by location.

Beyond the schema: JSON-in-string fields must parse as objects, review times must be ISO 8601,
and ids must be unique within a subset (the evaluator's resume cache and the review tool key on
them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from rbkit.curation.trio_io import read_records

from rbkit import schemas


@dataclass(frozen=True)
class Violation:
    file: str
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row} {self.field}: {self.reason}"


@dataclass(frozen=True)
class ValidationReport:
    files: int
    rows: int
    violations: list[Violation]

    @property
    def ok(self) -> bool:
        return not self.violations


def _field(err: ValidationError) -> str:
    path = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else ""
        return f"{path}.{missing}".strip(".") or "<row>"
    if err.validator == "additionalProperties":
        return path or "<row>"
    return path or "<row>"


def _reason(err: ValidationError) -> str:
    if err.context:
        deepest = best_match(err.context)
        return deepest.message if deepest is not None else err.message
    return err.message


def _extra_checks(rec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    prov = rec.get("provenance")
    if not isinstance(prov, dict):
        return
    extra = prov.get("extra")
    if isinstance(extra, str):
        try:
            if not isinstance(json.loads(extra), dict):
                yield "provenance.extra", "must encode a JSON object"
        except json.JSONDecodeError as exc:
            yield "provenance.extra", f"invalid JSON: {exc.msg}"
    for i, check in enumerate(prov.get("verification") or []):
        detail = check.get("detail") if isinstance(check, dict) else None
        if isinstance(detail, str):
            try:
                json.loads(detail)
            except json.JSONDecodeError as exc:
                yield f"provenance.verification.{i}.detail", f"invalid JSON: {exc.msg}"
    review = prov.get("review")
    if isinstance(review, dict) and isinstance(review.get("time"), str):
        try:
            datetime.fromisoformat(review["time"].replace("Z", "+00:00"))
        except ValueError:
            yield "provenance.review.time", f"not an ISO 8601 time: {review['time']!r}"


def validate_records(file: str, records: Iterator[tuple[int, dict[str, Any] | Exception]]) -> tuple[int, list[Violation]]:
    validator = schemas.validator("trio")
    violations: list[Violation] = []
    seen: dict[tuple[str, int], int] = {}
    n = 0
    for row, rec in records:
        n += 1
        if isinstance(rec, Exception):
            violations.append(Violation(file, row, "<row>", f"invalid JSON: {rec}"))
            continue
        if not isinstance(rec, dict):
            violations.append(Violation(file, row, "<row>", "not a JSON object"))
            continue
        for err in sorted(validator.iter_errors(rec), key=lambda e: list(map(str, e.absolute_path))):
            violations.append(Violation(file, row, _field(err), _reason(err)))
        for field, reason in _extra_checks(rec):
            violations.append(Violation(file, row, field, reason))
        key = (str(rec.get("subset")), rec.get("id"))
        if isinstance(key[1], int):
            if key in seen:
                violations.append(Violation(file, row, "id", f"duplicate id {key[1]} in subset {key[0]} (first at row {seen[key]})"))
            else:
                seen[key] = row
    return n, violations


def trio_files(path: Path) -> list[Path]:
    """The trio files of a path: itself, or the parquet/JSONL data files of a dataset folder."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    root = path / "data" if (path / "data").is_dir() else path
    files = sorted(p for p in root.rglob("*") if p.suffix in (".parquet", ".jsonl") and p.name != "dropped.jsonl")
    if not files:
        raise FileNotFoundError(f"{path}: no .parquet or .jsonl trio files found")
    return files


def validate_path(path: Path) -> ValidationReport:
    files = trio_files(path)
    total = 0
    violations: list[Violation] = []
    for file in files:
        try:
            n, found = validate_records(str(file), read_records(file))
        except Exception as exc:  # unreadable parquet, undecodable text
            violations.append(Violation(str(file), 0, "<file>", f"unreadable: {exc}"))
            continue
        total += n
        violations.extend(found)
    return ValidationReport(len(files), total, violations)
