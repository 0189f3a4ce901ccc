"""Execution verification of all six hep-* subsets: cold cache, then warm.

Runs every HumanEvalPack pair of the mirror (6 x 164 pairs, 1,968 programs) through the code
verifier exactly as `rbkit build` does, first with an empty cache (toolchain artifacts
included: Go's build cache, Rust's crates), then again with the cache it just filled.
Prints per-language seconds, programs run and cache hits, how many pairs verified, and every
pair that did not verify with both verdicts.

Target: cold within 15 minutes on 2 cores; warm in seconds.

    RBKIT_SOURCES=../shared/sources .venv/bin/python bench/verify_code.py [--jobs N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rbkit.curation.pipeline import BuildContext, BuildOptions
from rbkit.curation.registry import get
from rbkit.curation.rows import TrioRow
from rbkit.curation.verify.code import CodeVerifier, Verdict, pair_reason
from rbkit.subsets.humanevalpack import FILES, HepMaterial
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

COLD_TARGET_S = 15 * 60
WARM_TARGET_S = 30


def load_pairs(language: str) -> tuple[list[TrioRow], HepMaterial]:
    spec = get(f"hep-{language}")
    ctx = BuildContext(subset=spec.name, options=BuildOptions())
    rows = [r for r in spec.build(ctx) if isinstance(r, TrioRow)]
    return rows, HepMaterial(language, spec.sources[0])


def one_pass(languages: list[str], cache: Path, jobs: int, console: Console) -> dict[str, Any]:
    verifier = CodeVerifier(cache, jobs=jobs)
    out: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        for language in languages:
            rows, material = load_pairs(language)
            candidates = [c for row in rows for c in material(row)]
            task = progress.add_task(f"hep-{language}", total=len(candidates))
            verdicts, stats = verifier.verify(
                candidates, lambda done, total, t=task, n=len(candidates): progress.update(t, completed=n - total + done)
            )
            progress.update(task, completed=len(candidates))
            out[language] = summarize(rows, verdicts) | {"stats": stats.to_record()}
    return out


def summarize(rows: list[TrioRow], verdicts: list[Verdict]) -> dict[str, Any]:
    exceptions = []
    for i, row in enumerate(rows):
        chosen, rejected = verdicts[2 * i], verdicts[2 * i + 1]
        reason = pair_reason(chosen, rejected)
        if reason:
            exceptions.append(
                {
                    "task_id": row.provenance.row_key,
                    "reason": reason,
                    "chosen": chosen.verdict,
                    "rejected": rejected.verdict,
                    "chosen_output": (chosen.stderr_tail or chosen.stdout_tail)[-300:],
                }
            )
    return {"pairs": len(rows), "verified": len(rows) - len(exceptions), "exceptions": exceptions}


def table(title: str, result: dict[str, Any]) -> Table:
    t = Table(title=title)
    for col in ("subset", "pairs", "verified", "programs run", "cache hits", "seconds"):
        t.add_column(col, justify="left" if col == "subset" else "right")
    for language, r in result.items():
        s = r["stats"]
        t.add_row(f"hep-{language}", str(r["pairs"]), str(r["verified"]), str(s["executed"]), str(s["cache_hits"]), f"{s['seconds']:.1f}")
    total = sum(r["stats"]["seconds"] for r in result.values())
    t.add_row("total", str(sum(r["pairs"] for r in result.values())), str(sum(r["verified"] for r in result.values())),
              str(sum(r["stats"]["executed"] for r in result.values())), str(sum(r["stats"]["cache_hits"] for r in result.values())), f"{total:.1f}")
    return t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=0, help="parallel workers (0 = all cores)")
    parser.add_argument("--languages", default=",".join(FILES), help="comma-separated subset of " + ",".join(FILES))
    parser.add_argument("--cache-dir", type=Path, default=None, help="start from this cache (default: a fresh one)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    console = Console(stderr=True)
    languages = [x for x in args.languages.split(",") if x]
    with tempfile.TemporaryDirectory(prefix="rbkit-bench-verify-") as tmp:
        cache = args.cache_dir or Path(tmp) / "cache"
        started = time.perf_counter()
        cold = one_pass(languages, cache, args.jobs, console)
        cold_s = time.perf_counter() - started
        started = time.perf_counter()
        warm = one_pass(languages, cache, args.jobs, console)
        warm_s = time.perf_counter() - started
    console.print(table(f"cold cache: {cold_s:.1f} s (target {COLD_TARGET_S} s)", cold))
    console.print(table(f"warm cache: {warm_s:.1f} s (target {WARM_TARGET_S} s)", warm))
    for language, r in cold.items():
        for e in r["exceptions"]:
            console.print(f"[yellow]hep-{language} {e['task_id']}[/]: {e['reason']} (chosen {e['chosen']}, rejected {e['rejected']})")
            console.print(f"    {e['chosen_output'].strip().splitlines()[-1] if e['chosen_output'].strip() else ''}", highlight=False, markup=False)
    figures = {"cold_seconds": round(cold_s, 1), "warm_seconds": round(warm_s, 1), "cold": cold, "warm": warm}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    agree = all(cold[x]["verified"] == warm[x]["verified"] for x in cold)
    ok = cold_s <= COLD_TARGET_S and warm_s <= WARM_TARGET_S and agree
    print(f"cold {cold_s:.1f} s, warm {warm_s:.1f} s, verified {sum(r['verified'] for r in cold.values())}/"
          f"{sum(r['pairs'] for r in cold.values())} pairs{'' if agree else ', WARM DIFFERS FROM COLD'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
