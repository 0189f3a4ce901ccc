"""Writing the prompts file that `rbkit generate --prompts FILE` reads, for the worked examples.

Each example folder (`examples/math-best-of-4`, `examples/code-python`,
`examples/refusals-regenerated`) has a `prompts.py` that reads its pinned upstream file from
the source mirror (`RBKIT_SOURCES`, hash-checked by `rbkit.curation.sources.resolve`), picks
prompts by a fixed, documented rule, and writes one JSON object a line through this module:
`prompt_id` (a stable upstream id) and `prompt`, plus the fields the spec copies into each row
(reference answer, tests, subcategory). Same mirror and options, same bytes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rbkit.core.errors import RbkitError
from rbkit.core.files import atomic_write
from rbkit.core.jsonio import canonical_json


def prompts_text(records: Sequence[dict[str, Any]]) -> str:
    """The JSONL text: canonical JSON (sorted keys), one record a line, in the order given."""
    ids = [r["prompt_id"] for r in records]
    dup = next((i for i in ids if ids.count(i) > 1), None)
    if dup is not None:
        raise RbkitError(f"prompt_id {dup!r} appears twice; the candidates file groups by it")
    return "".join(canonical_json(r) + "\n" for r in records)


def write_prompts(path: Path, records: Sequence[dict[str, Any]]) -> None:
    atomic_write(path, prompts_text(records))


def main(
    description: str,
    select: Callable[..., list[dict[str, Any]]],
    default_limit: int,
    argv: Sequence[str] | None = None,
    subsets: Sequence[str] = (),
) -> int:
    """The command line every example's prompts.py shares: --limit N --out FILE, and
    --subset NAME where one source feeds several subsets (`select(limit, subset)`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--limit", type=int, default=default_limit, help=f"how many prompts (default {default_limit})")
    parser.add_argument("--out", type=Path, required=True, help="the prompts file to write (JSONL)")
    if subsets:
        parser.add_argument("--subset", required=True, choices=list(subsets), help="the subset to write prompts for")
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.error("--limit must be at least 1")
    try:
        records = select(args.limit, args.subset) if subsets else select(args.limit)
        write_prompts(args.out, records)
    except (RbkitError, OSError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print(f"wrote {len(records)} prompts to {args.out}")
    return 0
