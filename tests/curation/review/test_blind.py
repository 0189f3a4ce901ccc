"""The blind-order file kept in the build folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from rbkit.curation.review.blind import BlindEntry, blind_path, read_blind, record_blind
from rbkit.curation.review.connection import ReviewError


def entry(subset: str, row_id: int, order=(("rejected", 0), ("chosen", 0))) -> BlindEntry:
    return BlindEntry(subset, row_id, "c" * 64, 0, tuple(order))


def test_entries_merge_sorted_and_round_trip(tmp_path: Path):
    record_blind(tmp_path, [entry("b", 2), entry("a", 9)])
    record_blind(tmp_path, [entry("a", 1), entry("b", 2, (("chosen", 0), ("rejected", 0)))])
    found = read_blind(tmp_path)
    assert sorted(found) == [("a", 1), ("a", 9), ("b", 2)]
    assert found[("b", 2)].order == (("chosen", 0), ("rejected", 0))  # replaced, not duplicated
    first = blind_path(tmp_path).read_bytes()
    record_blind(tmp_path, [entry("a", 1)])
    assert blind_path(tmp_path).read_bytes() == first


def test_a_bad_line_names_file_and_line(tmp_path: Path):
    record_blind(tmp_path, [entry("a", 1)])
    path = blind_path(tmp_path)
    path.write_text(path.read_text() + '{"subset": "a", "id": 2, "content_sha256": "x", "seed": 0, "order": ["left:0"]}\n')
    with pytest.raises(ReviewError, match=r"blind.jsonl:2: not a blind-order entry: not an answer slot: 'left:0'"):
        read_blind(tmp_path)


def test_no_file_means_no_blind_push(tmp_path: Path):
    assert read_blind(tmp_path) == {}
