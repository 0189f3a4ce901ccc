"""Label audit: pairs that most evaluated models get wrong go back to human review first.

When many different reward models prefer the "rejected" side, the label is the likelier
culprit. Each RESULTS folder is one evaluated model, as written by rbkit's evaluator, holding
`scores.parquet` with one row per pair: id, subset, score_chosen, score_rejected, correct.
`correct` is a boolean or a number in [0, 1] (generative judges score an unparseable verdict
0.5); a pair's wrong share is the mean of `1 - correct` over the models that scored it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow.parquet as pq
from rbkit.curation.review.connection import ReviewError
from rbkit.curation.review.dataset import AuditStat

SCORES_FILE = "scores.parquet"
REQUIRED_COLUMNS = ("id", "subset", "score_chosen", "score_rejected", "correct")


def read_scores(results_dir: Path) -> dict[int, float]:
    """Pair id -> how wrong one model was on it (0 right, 1 wrong, 0.5 a tie or no verdict)."""
    path = results_dir / SCORES_FILE if results_dir.is_dir() else results_dir
    if not path.is_file():
        raise ReviewError(f"{results_dir}: no {SCORES_FILE} (expected an evaluator results folder)")
    table = pq.read_table(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise ReviewError(f"{path}: missing column(s) {', '.join(missing)}; has {', '.join(table.column_names)}")
    wrong: dict[int, float] = {}
    ids = table.column("id").to_pylist()
    correct = table.column("correct").to_pylist()
    for row, (pair_id, value) in enumerate(zip(ids, correct, strict=True), start=1):
        try:
            pair_id = int(pair_id)  # rbkit's evaluator stores ids as strings
        except (TypeError, ValueError):
            raise ReviewError(f"{path}: row {row} id: {pair_id!r} is not an rbkit pair id") from None
        if value is None:
            continue  # not scored (e.g. skipped by a resumed run): no evidence either way
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ReviewError(f"{path}: row {row} correct: {value} is outside [0, 1]")
        wrong[pair_id] = 1.0 - value
    return wrong


def audit(results_dirs: Iterable[Path]) -> dict[int, AuditStat]:
    """Per pair: how many models scored it and how many (fractionally) got it wrong."""
    models: dict[int, int] = {}
    wrong: dict[int, float] = {}
    count = 0
    for results in results_dirs:
        count += 1
        for pair_id, w in read_scores(Path(results)).items():
            models[pair_id] = models.get(pair_id, 0) + 1
            wrong[pair_id] = wrong.get(pair_id, 0.0) + w
    if count == 0:
        raise ReviewError("--audit needs at least one evaluator results folder")
    return {pair_id: AuditStat(models[pair_id], wrong[pair_id]) for pair_id in models}


def suspicious(
    stats: Mapping[int, AuditStat], *, threshold: float = 0.5, min_models: int = 1
) -> dict[int, AuditStat]:
    """Pairs whose wrong share reaches `threshold` among at least `min_models` models."""
    if not 0.0 < threshold <= 1.0:
        raise ReviewError(f"--audit-threshold must be in (0, 1], got {threshold}")
    return {
        pair_id: stat
        for pair_id, stat in stats.items()
        if stat.models >= min_models and stat.wrong_share >= threshold
    }
