"""Prompt extraction for the Python code example: HumanEvalPack Python tasks with their tests.

Reads HumanEvalPack's `python/humanevalpack.jsonl` (the file rbkit's hep-python subset pins)
from the source mirror, hash-checked, and keeps the first LIMIT tasks in file order
(Python/0, Python/1, ...). Each prompt record carries what the spec and the sandbox need:

    prompt_id    the task id ("Python/0"), stable across rebuilds
    prompt       the natural-language `instruction` ("Write a Python function ...")
    reference    the canonical solution as a complete program in a ```python block, the way
                 a chat model answers (so chosen and rejected differ in correctness, not in
                 format); the sandbox runs it too, and a task whose reference fails is dropped
    tests        the upstream tests (they end by calling check(entry_point))
    code_prefix  the imports and helper functions above the task's function: prepended to a
                 generated program, which the instruction does not show them to
    language     "python"
    entry_point

    RBKIT_SOURCES=/path/to/sources python examples/code-python/prompts.py --limit 4 --out prompts.jsonl
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # examples/prompt_files.py

from prompt_files import main  # noqa: E402
from rbkit.core.errors import RbkitError  # noqa: E402
from rbkit.curation.errors import SourceRowError  # noqa: E402
from rbkit.curation.readers import jsonl_rows, text_field  # noqa: E402
from rbkit.curation.sources import resolve  # noqa: E402
from rbkit.subsets.humanevalpack import FILES, source_for  # noqa: E402

DEFAULT_LIMIT = 4
SOURCE = source_for("python", *FILES["python"])
FIELDS = ("task_id", "instruction", "prompt", "declaration", "canonical_solution", "test", "entry_point")


def code_prefix(declaration: str, entry_point: str) -> str:
    """What the declaration holds above `def entry_point(`: imports and helper functions."""
    at = declaration.find(f"def {entry_point}(")
    if at < 0:
        raise ValueError(f"declaration has no 'def {entry_point}('")
    return declaration[:at]


def record(fields: dict[str, str]) -> dict[str, Any]:
    program = fields["prompt"] + fields["canonical_solution"]
    return {
        "prompt_id": fields["task_id"],
        "prompt": fields["instruction"],
        "reference": f"```python\n{program.rstrip()}\n```",
        "tests": fields["test"],
        "code_prefix": code_prefix(fields["declaration"], fields["entry_point"]),
        "language": "python",
        "entry_point": fields["entry_point"],
    }


def select(limit: int) -> list[dict[str, Any]]:
    """The first `limit` tasks in file order; a malformed row stops with file:row field."""
    out: list[dict[str, Any]] = []
    for row, rec in jsonl_rows(resolve(SOURCE), SOURCE.mirror_path):
        if len(out) == limit:
            break
        if isinstance(rec, SourceRowError):
            raise rec
        fields = {f: text_field(rec, f, SOURCE.mirror_path, row) for f in FIELDS}
        try:
            out.append(record(fields))
        except ValueError as exc:
            raise SourceRowError(SOURCE.mirror_path, row, "declaration", str(exc)) from None
    if len(out) < limit:
        raise RbkitError(f"{SOURCE.mirror_path}: only {len(out)} tasks, {limit} asked")
    return out


if __name__ == "__main__":
    raise SystemExit(main("HumanEvalPack Python prompts for the code example.", select, DEFAULT_LIMIT))
