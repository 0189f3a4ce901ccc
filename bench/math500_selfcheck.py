"""Print the math verifier's self-check figures on PRM800K's 500 MATH test problems.

    RBKIT_SOURCES=../shared/sources .venv/bin/python bench/math500_selfcheck.py [--json]

Reads `prm800k/math_splits/test.jsonl` through `curation.sources.resolve` (hash-checked),
extracts each reference solution's final answer, compares it with the `answer` field, and
lists every miss; then runs the negative control (answers of neighbouring problems must
compare unequal). Exits 1 when fewer than --min-rate of the answers match.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from rbkit.curation.errors import RbkitError
from rbkit.curation.sources import resolve
from rbkit.curation.verify.math_selfcheck import run_selfcheck
from rbkit.subsets.prm_math import MATH_TEST


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-rate", type=float, default=0.99, help="fail below this match rate")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per comparison")
    parser.add_argument("--no-control", action="store_true", help="skip the negative control")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    try:
        path = resolve(MATH_TEST)
    except RbkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = run_selfcheck(path, timeout_s=args.timeout, control=not args.no_control)
    seconds = time.perf_counter() - started
    summary = {"file": str(path), "seconds": round(seconds, 1), **result.summary()}
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(f"MATH500 self-check ({path}, {seconds:.1f} s)")
        print(f"  answers extracted:   {result.extracted}/{result.total}")
        print(
            f"  equivalent to field: {result.equivalent}/{result.total} ({100 * result.rate:.1f}%)"
        )
        print(f"  comparison methods:  {dict(sorted(result.methods.items()))}")
        print(f"  misses ({len(result.misses)}):")
        for miss in result.misses:
            print(f"    {miss.line()}")
        if result.control_pairs:
            print(
                f"  negative control: {result.control_unequal}/{result.control_pairs} neighbouring answers unequal;"
                f" {len(result.control_equal)} equal, {len(result.control_failed)} timeouts/errors"
            )
            for a, x, b, y in result.control_equal:
                print(f"    equal: {a} {x!r} == {b} {y!r}")
            for miss in result.control_failed:
                print(f"    failed: {miss.line()}")
    return 0 if result.rate >= args.min_rate else 1


if __name__ == "__main__":
    sys.exit(main())
