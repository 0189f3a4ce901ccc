from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rbkit.curation.review.audit import audit, suspicious
from rbkit.curation.review.connection import ReviewError
from rbkit.curation.review.push import select_rows

from tests.curation.review.conftest import fixture_rows


def write_scores(folder: Path, correct: dict[int, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "id": pa.array([str(i) for i in correct], pa.string()),  # as eval/results.py writes it
            "subset": ["llmbar-natural"] * len(correct),
            "score_chosen": [1.0] * len(correct),
            "score_rejected": [0.0] * len(correct),
            "correct": list(correct.values()),
        }
    )
    pq.write_table(table, folder / "scores.parquet")
    return folder


def test_wrong_share_counts_ties_as_half(tmp_path: Path):
    a = write_scores(tmp_path / "a", {1: 1.0, 2: 0.0, 3: 0.5})
    b = write_scores(tmp_path / "b", {1: 0.0, 2: 0.0})
    stats = audit([a, b])
    assert stats[1].wrong_share == 0.5 and stats[2].wrong_share == 1.0
    assert stats[3].models == 1 and stats[3].wrong_share == 0.5
    assert set(suspicious(stats, threshold=0.75)) == {2}
    assert set(suspicious(stats, threshold=0.5, min_models=2)) == {1, 2}


def test_missing_columns_and_folders_are_named(tmp_path: Path):
    with pytest.raises(ReviewError, match="no scores.parquet"):
        audit([tmp_path / "nowhere"])
    (tmp_path / "bad").mkdir()
    pq.write_table(pa.table({"id": [1]}), tmp_path / "bad" / "scores.parquet")
    with pytest.raises(ReviewError, match=r"missing column\(s\) subset, score_chosen, score_rejected, correct"):
        audit([tmp_path / "bad"])
    with pytest.raises(ReviewError, match="threshold"):
        suspicious({}, threshold=0)


def test_audit_selection_sends_worst_pairs_first_whatever_their_review_status(tmp_path: Path):
    rows = [r for r in fixture_rows() if r.subset == "llmbar-natural"]
    scores = write_scores(tmp_path / "m1", {rows[0].id: 0.0, rows[1].id: 1.0, rows[2].id: 0.0, rows[3].id: 0.5})
    scores2 = write_scores(tmp_path / "m2", {rows[0].id: 1.0, rows[1].id: 0.0, rows[2].id: 0.0, rows[3].id: 0.0})
    # wrong shares: rows[0] 0.5, rows[1] 0.5, rows[2] 1.0, rows[3] 0.75
    stats = audit([scores, scores2])
    assert [r.id for r in select_rows(rows, "all", suspicious(stats, threshold=0.5))] == [
        rows[2].id, rows[3].id, rows[0].id, rows[1].id
    ]
    assert [r.id for r in select_rows(rows, "all", suspicious(stats, threshold=0.6))] == [rows[2].id, rows[3].id]


def test_boolean_correct_column_is_read(tmp_path: Path):
    stats = audit([write_scores(tmp_path / "a", {1: True, 2: False})])
    assert (stats[1].wrong_share, stats[2].wrong_share) == (0.0, 1.0)


def test_a_non_numeric_id_is_named(tmp_path: Path):
    folder = tmp_path / "odd"
    folder.mkdir()
    pq.write_table(
        pa.table({"id": ["x7"], "subset": ["s"], "score_chosen": [1.0], "score_rejected": [0.0], "correct": [1.0]}),
        folder / "scores.parquet",
    )
    with pytest.raises(ReviewError, match=r"scores.parquet: row 1 id: 'x7' is not an rbkit pair id"):
        audit([folder])
