"""Build speed: a full `rbkit build` from the mirror, cold then warm verification cache.

Target (issue 10): the warm build finishes in under 30 s on 2 cores. Prints per-subset and
per-stage seconds. The verification cache defaults to ~/.cache/rbkit/verify, so a second run
of this script is warm from the start; pass --cold to force a cold first build in a fresh cache.

    RBKIT_SOURCES=../shared/sources .venv/bin/python bench/build_speed.py [--cold]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rbkit.curation.build import run_build
from rbkit.curation.pipeline import BuildOptions
from rbkit.curation.registry import select
from rbkit.curation.verify.verdict_cache import default_cache_dir
from rich.console import Console
from rich.table import Table

TARGET_WARM_SECONDS = 30.0


def one_build(out: Path, cache: Path) -> tuple[float, dict]:
    t = time.perf_counter()
    result = run_build(select(["all"]), out, BuildOptions(cache_dir=cache), allow_missing=True)
    return time.perf_counter() - t, result.timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", action="store_true", help="start from an empty verification cache")
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    if not os.environ.get("RBKIT_SOURCES"):
        os.environ["RBKIT_SOURCES"] = str(Path(__file__).resolve().parents[2] / "shared" / "sources")
    console = Console()
    with tempfile.TemporaryDirectory(prefix="rbkit-bench-build-") as tmp:
        cache = args.cache_dir or (Path(tmp) / "verify" if args.cold else default_cache_dir())
        first_s, _ = one_build(Path(tmp) / "out1", cache)
        warm_s, timings = one_build(Path(tmp) / "out2", cache)
    stages: dict[str, float] = defaultdict(float)
    table = Table(title="rbkit build, warm verification cache (seconds)")
    table.add_column("subset")
    table.add_column("total", justify="right")
    table.add_column("stages")
    for subset, secs in timings["subsets"].items():
        for stage, s in secs.items():
            stages[stage] += s
        slow = ", ".join(f"{k} {v:.2f}" for k, v in sorted(secs.items(), key=lambda kv: -kv[1])[:3])
        table.add_row(subset, f"{sum(secs.values()):.2f}", slow)
    console.print(table)
    console.print("per stage, all subsets: " + ", ".join(f"{k} {v:.2f}s" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])))
    console.print(f"first build ({'cold' if args.cold else 'cache as found'}): {first_s:.1f}s")
    ok = warm_s < TARGET_WARM_SECONDS
    console.print(f"warm build: {warm_s:.1f}s (target < {TARGET_WARM_SECONDS:.0f}s) {'[green]OK[/]' if ok else '[red]MISSED[/]'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
