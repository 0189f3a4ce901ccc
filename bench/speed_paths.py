"""Where the eval-speed bench keeps what it builds once and reuses (venv, models, sample, runs).

Everything lives under one cache folder so a second `make bench` only re-times: the original
evaluator's venv, the converted SmolLM2 folders, the build and the fixed sample. Override with
RBKIT_BENCH_CACHE; the default `.cache/bench` in the repository is git-ignored.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cache_root() -> Path:
    """The bench cache folder (created on first use)."""
    root = Path(os.environ.get("RBKIT_BENCH_CACHE") or REPO / ".cache" / "bench")
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()
