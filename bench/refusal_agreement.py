"""How well does the refusal detector agree with XSTest's human labels?

Reads the five labelled XSTest completion files (through RBKIT_SOURCES or the download cache,
hash-checked) and prints the detector's confusion matrix and accuracies: overall, per model,
and on the two halves of the prompts. The pattern rules were written while looking only at
the "dev" half (prompts whose sha256(id) is even); the "held-out" half shows how they carry
over to completions they were not tuned on.

    RBKIT_SOURCES=/work/shared/sources .venv/bin/python bench/refusal_agreement.py [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

from rbkit.curation.errors import RbkitError
from rbkit.curation.verify.refusal_agreement import agreement, format_agreement
from rbkit.subsets.xstest import Completion, labelled_completions


def is_dev(prompt_id: str) -> bool:
    """The half of the prompts the rules were developed on (fixed, by hash of the id)."""
    return int(hashlib.sha256(prompt_id.encode()).hexdigest(), 16) % 2 == 0


def groups(rows: list[Completion]) -> dict[str, list[Completion]]:
    out: dict[str, list[Completion]] = {"all": rows}
    out["dev half (rules written on it)"] = [c for c in rows if is_dev(c.prompt_id)]
    out["held-out half"] = [c for c in rows if not is_dev(c.prompt_id)]
    for model in sorted({c.model for c in rows}):
        out[f"model {model}"] = [c for c in rows if c.model == model]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args(argv)
    try:
        rows = labelled_completions()
    except RbkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = {name: agreement((c.label, c.text) for c in part) for name, part in groups(rows).items()}
    if args.json:
        print(json.dumps({name: r.to_record() for name, r in results.items()}, indent=2, sort_keys=True))
        return 0
    for name, result in results.items():
        print(format_agreement(result, title=f"[{name}] refusal detector vs XSTest human labels"))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
