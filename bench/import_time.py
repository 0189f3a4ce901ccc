"""How long the front door takes to open: import time of `rbkit --help` and `rbkit ls`.

Runs each command in a fresh interpreter under `python -X importtime` (the CLI entry, exactly
what the `rbkit` script runs) and prints, side by side, the total import time and the packages
that cost the most (self time summed per top-level package), plus the command's wall time.
Target (issue 14): under 0.5 s of import time for both.

    .venv/bin/python bench/import_time.py [--top 12] [--repeat 3] [--json out.json]

Import time is the best of `--repeat` runs (the least disturbed by other load on the machine),
after one warm-up run that writes the bytecode caches, as an installed package has them.
On a loaded machine `-X importtime` (wall clock) counts time spent waiting for a CPU: the CPU
seconds of the whole process, also printed, are the figure that load does not inflate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS: dict[str, list[str]] = {"rbkit --help": ["--help"], "rbkit ls": ["ls"]}
TARGET_S = 0.5
ENTRY = "import sys; from rbkit.cli import main; sys.argv = ['rbkit', *sys.argv[1:]]; main()"


def measure(args: list[str]) -> dict:
    """One run: total import seconds, per-package self seconds, wall seconds, modules loaded."""
    # As installed: bytecode cached (pip compiles at install; PYTHONDONTWRITEBYTECODE would
    # make every run recompile every module and measure the compiler instead).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"COLUMNS": "100"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", ENTRY, *args],
        capture_output=True, text=True, env=env, cwd=REPO,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"rbkit {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    per_package: dict[str, int] = defaultdict(int)
    total_us = 0
    modules = 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        top = name.strip().split(".")[0]
        per_package[top] += int(self_us)
        total_us += int(self_us)
        modules += 1
    return {"import_s": total_us / 1e6, "wall_s": wall, "cpu_s": cpu, "modules": modules,
            "packages": {k: v / 1e6 for k, v in sorted(per_package.items(), key=lambda kv: -kv[1])}}


def best_of(args: list[str], repeat: int) -> dict:
    measure(args)  # warm-up: writes the bytecode caches
    runs = [measure(args) for _ in range(repeat)]
    return min(runs, key=lambda r: r["import_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=12, help="how many packages to list")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; the best counts")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    results = {label: best_of(argv, args.repeat) for label, argv in COMMANDS.items()}
    labels = list(results)
    width = 34
    print("".join(f"{label:<{width}}" for label in labels))
    print("".join(f"{'import ' + format(r['import_s'], '.3f') + ' s':<{width}}" for r in results.values()))
    print("".join(f"{'wall   ' + format(r['wall_s'], '.3f') + ' s':<{width}}" for r in results.values()))
    print("".join(f"{'cpu    ' + format(r['cpu_s'], '.3f') + ' s (whole process)':<{width}}" for r in results.values()))
    print("".join(f"{'modules ' + str(r['modules']):<{width}}" for r in results.values()))
    print("".join(f"{'-' * (width - 2):<{width}}" for _ in labels))
    tops = [list(r["packages"].items())[: args.top] for r in results.values()]
    for i in range(args.top):
        cells = []
        for top in tops:
            cells.append(f"{top[i][0]:<22}{top[i][1] * 1000:7.1f} ms  " if i < len(top) else " " * width)
        print("".join(f"{c:<{width}}" for c in cells).rstrip())
    verdict = all(r["import_s"] < TARGET_S for r in results.values())
    print(f"\ntarget: under {TARGET_S} s of import time for each: {'met' if verdict else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
