"""One row of a report: a model's result, from an rbkit result folder or the published files.

Every source is brought into the shape of rbkit's results.json (`subsets`, `sections`,
`overall`, `comparability`) plus its per-pair rows when it has them, so the leaderboard,
the plots and the Markdown table treat a downloaded published result and a fresh rbkit run
alike. Where a source lacks something (published files have no truncation counts or token
lengths), the entry says so instead of inventing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rbkit.eval.errors import ResultsError

RBKIT = "rbkit"


@dataclass(frozen=True)
class PairRow:
    """What the report needs of one scored pair (chosen completions first in `scores`)."""

    subset: str
    id: str
    scores: tuple[float, ...]  # () when the source kept no scores (the original's custom classifiers)
    n_chosen: int
    correct: float
    tie: bool
    truncated: bool | None  # None: the source does not say
    lengths: tuple[int, ...] = ()  # tokens per completion; () = not measured

    @property
    def best_of_n(self) -> bool:
        return len(self.scores) - self.n_chosen > 1


@dataclass
class Entry:
    """A model's result as the report shows it."""

    name: str  # the model id
    origin: str  # "rbkit", "RewardBench results v1" or "RewardBench results v2"
    path: str
    benchmark: str  # "reward-bench" or "reward-bench-2"
    kind: str  # classifier, dpo, judge, or the original's model_type
    results: dict[str, Any]  # subsets, sections, overall, comparability (results.json shape)
    rows: list[PairRow] = field(default_factory=list)
    judge: dict[str, Any] | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The comparability label of the overall ("RewardBench overall" or "partial overall (...)")."""
        return str(self.results["comparability"]["label"])


def entry_from_folder(folder: Path) -> Entry:
    """An rbkit result folder (results.json and scores.parquet, validated)."""
    from rbkit.eval import results as results_io

    res, table = results_io.read(folder)
    d = table.to_pydict()
    lengths = d.get("lengths") or [None] * len(d["id"])
    rows = [
        PairRow(s, i, tuple(sc), int(nc), float(c), bool(t), bool(tr), tuple(ln or ()))
        for s, i, sc, nc, c, t, tr, ln in zip(d["subset"], d["id"], d["scores"], d["n_chosen"], d["correct"],
                                                d["tie"], d["truncated"], lengths, strict=True)
    ]
    return Entry(res["model"]["id"], RBKIT, str(folder), res["benchmark"], res["kind"], res, rows,
                 res.get("judge"), list(res.get("notices", [])))


def load_entries(paths: Sequence[Path]) -> list[Entry]:
    """Entries from each path: an rbkit result folder, a RewardBench results folder (with
    `eval-set/`), or one of its `eval-set/<org>/<model>.json` files."""
    from rbkit.eval.rewardbench_import import is_rewardbench_path, read_rewardbench

    out: list[Entry] = []
    for p in paths:
        if (p / "results.json").is_file():
            out.append(entry_from_folder(p))
        elif is_rewardbench_path(p):
            out.extend(read_rewardbench(p))
        elif not p.exists():
            raise ResultsError(f"{p}: no such file or folder")
        else:
            raise ResultsError(f"{p}: neither an rbkit result folder (results.json) nor a RewardBench results "
                               "folder (eval-set/<org>/<model>.json) or file")
    if not out:
        raise ResultsError("no results to report")
    return out
