"""Result folders as report entries: per-pair token lengths kept, older files without them read."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from rbkit.eval.errors import ResultsError
from rbkit.eval.html_report import length_section
from rbkit.eval.report_entry import load_entries
from result_folders import pair, write_result


def test_token_lengths_go_through_scores_parquet(tmp_path):
    folder = write_result(tmp_path / "r", "m", [pair("llmbar-natural", "0", 1.0, 0.0, (12, 30)),
                                                pair("llmbar-natural", "1", 0.0, 1.0)], resamples=0)
    (entry,) = load_entries([folder])
    assert [r.lengths for r in entry.rows] == [(12, 30), ()]
    assert pq.read_table(folder / "scores.parquet").column("lengths").to_pylist() == [[12, 30], None]


def test_a_scores_file_from_before_token_lengths_still_reads(tmp_path):
    folder = write_result(tmp_path / "r", "m", [pair("llmbar-natural", str(i), 1.0, 0.0, (5, 9)) for i in range(3)],
                          resamples=0)
    table = pq.read_table(folder / "scores.parquet")
    pq.write_table(table.drop(["lengths"]), folder / "scores.parquet")
    entries = load_entries([folder])
    assert all(r.lengths == () for r in entries[0].rows)
    assert "no result holds token lengths" in length_section(entries).lower()


def test_a_path_that_is_no_result_is_named(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(ResultsError, match=r"x: neither an rbkit result folder"):
        load_entries([tmp_path / "x"])
