"""The fixed, stratified pair sample both evaluators score.

Drawn from a core build (`rbkit build core --allow-missing`; Prior Sets are left out because
the original evaluates them in a separate `--pref_sets` mode with multi-turn prompts that
cannot share a column with the core set's strings). Every built subset gets a share
proportional to its size (largest remainder) but at least MIN_PER_SUBSET rows, so the small
and the long-text subsets are all present. Within a subset, rows are ranked by
sha256(seed, id), so the draw depends only on the seed and the stable ids. Rows keep the
build's order (subset by subset), which is "dataset order" for the original's padding.

The sample is saved once as parquet with the seven RewardBench columns (what
`load_dataset("allenai/reward-bench", split="filtered")` returns), plus a manifest; it is
only redrawn on request, so repeated bench runs time the very same pairs.

`ensure_subset_rows` takes whole subsets instead (`bench/run.py --llmbar`: every LLMBar
pair, 419), saved the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from rbkit.core.files import atomic_write
from speed_paths import REPO

SAMPLE_SEED = 10
MIN_PER_SUBSET = 8
COLUMNS = ("prompt", "chosen", "chosen_model", "rejected", "rejected_model", "subset", "id")


def _rank(seed: int, row_id: int) -> str:
    return hashlib.sha256(f"{seed}:{row_id}".encode()).hexdigest()


def allocate(sizes: dict[str, int], total: int, minimum: int) -> dict[str, int]:
    """Rows per subset: proportional to size, at least `minimum` (or all of a smaller subset)."""
    if total > sum(sizes.values()):
        raise ValueError(f"bench: asked for {total} pairs but the build has {sum(sizes.values())}")
    floor = {s: min(n, minimum) for s, n in sizes.items()}
    left = total - sum(floor.values())
    if left < 0:
        raise ValueError(f"bench: {total} pairs cannot give {minimum} to each of {len(sizes)} subsets")
    room = {s: sizes[s] - floor[s] for s in sizes}
    weight = sum(room.values())
    exact = {s: left * room[s] / weight for s in sizes} if weight else dict.fromkeys(sizes, 0.0)
    share = {s: int(exact[s]) for s in sizes}
    by_remainder = sorted(sizes, key=lambda s: (-(exact[s] - share[s]), s))
    for s in by_remainder[: left - sum(share.values())]:
        share[s] += 1
    return {s: floor[s] + share[s] for s in sizes}


def build_core(out: Path) -> None:
    """Build the core subsets the mirror allows into `out` (rbkit's own CLI)."""
    env = dict(os.environ)
    env.setdefault("RBKIT_SOURCES", str((REPO.parent / "shared" / "sources").resolve()))
    rbkit = Path(sys.executable).with_name("rbkit")
    cmd = [str(rbkit), "build", "core", "--allow-missing", "--out", str(out)]
    print(f"bench: {' '.join(cmd)}", flush=True)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench: the core build failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")


def ensure_subset_rows(cache: Path, prefix: str, redraw: bool = False) -> Path:
    """Every row of the built subsets whose names start with `prefix` (e.g. all 419 LLMBar
    pairs), in build order; saved like the sample, with its manifest."""
    path = cache / f"subsets-{prefix}.parquet"
    if path.is_file() and not redraw:
        return path
    build = cache / "bench-build"
    if redraw or not (build / "data" / "filtered.parquet").is_file():
        build_core(build)
    table = pq.read_table(build / "data" / "filtered.parquet", columns=list(COLUMNS))
    picked = [r for r in table.to_pylist() if r["subset"].startswith(prefix)]
    if not picked:
        raise ValueError(f"bench: no built subset starts with {prefix!r}")
    atomic_write(path, lambda tmp: pq.write_table(pa.Table.from_pylist(picked, schema=table.schema), tmp))
    counts: dict[str, int] = {}
    for r in picked:
        counts[r["subset"]] = counts.get(r["subset"], 0) + 1
    manifest = {"pairs": len(picked), "seed": None, "per_subset": dict(sorted(counts.items())),
                "built_rows": dict(sorted(counts.items())), "build": str(build)}
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=2))
    return path


def ensure_sample(cache: Path, pairs: int, seed: int = SAMPLE_SEED, redraw: bool = False) -> Path:
    """Return the sample parquet, building and drawing it first when missing or asked to."""
    path = cache / f"sample-{pairs}-seed{seed}.parquet"
    if path.is_file() and not redraw:
        return path
    build = cache / "bench-build"
    if redraw or not (build / "data" / "filtered.parquet").is_file():
        build_core(build)
    table = pq.read_table(build / "data" / "filtered.parquet", columns=list(COLUMNS))
    rows = table.to_pylist()
    by_subset: dict[str, list[dict]] = {}
    for row in rows:
        by_subset.setdefault(row["subset"], []).append(row)
    minimum = min(MIN_PER_SUBSET, pairs // len(by_subset))  # small validation samples too
    quota = allocate({s: len(r) for s, r in by_subset.items()}, pairs, minimum)
    keep: set[int] = set()
    for subset, members in by_subset.items():
        ranked = sorted(members, key=lambda r: _rank(seed, r["id"]))
        keep.update(r["id"] for r in ranked[: quota[subset]])
    picked = [r for r in rows if r["id"] in keep]  # build order = the original's dataset order
    out = pa.Table.from_pylist(picked, schema=table.schema)
    atomic_write(path, lambda tmp: pq.write_table(out, tmp))
    manifest = {
        "pairs": len(picked),
        "seed": seed,
        "per_subset": {s: quota[s] for s in sorted(quota)},
        "built_rows": {s: len(by_subset[s]) for s in sorted(by_subset)},
        "build": str(build),
    }
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=2))
    return path
