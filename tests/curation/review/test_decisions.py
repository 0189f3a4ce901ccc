from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from rbkit.curation.pipeline import BuildContext, BuildOptions, SelectStep, run_steps
from rbkit.curation.review.connection import ReviewError
from rbkit.curation.review.decisions import (
    Decision,
    ReviewDecisionsStep,
    apply_decisions,
    read_decisions,
    write_decisions,
)
from rbkit.curation.review.pairs import content_sha256
from rbkit.curation.rows import DroppedRow

from tests.curation.review.conftest import best_of_n_rows, by_text, fixture_rows


def decision(row, label: str, comment: str | None = None, reviewer: str = "alice") -> Decision:
    return Decision(row.id, row.subset, content_sha256(row), label, reviewer, "2026-01-02T03:04:05Z", comment, {reviewer: label})


def llmbar():
    return [r for r in fixture_rows() if r.subset == "llmbar-natural"]


def test_accept_records_provenance_and_keeps_text():
    rows = llmbar()
    out = apply_decisions(rows, {rows[0].id: decision(rows[0], "chosen")})
    kept = out.kept[0]
    assert (kept.chosen, kept.rejected) == (rows[0].chosen, rows[0].rejected)
    review = kept.provenance.review
    assert (review.status, review.reviewer, review.time) == ("accepted", "alice", "2026-01-02T03:04:05Z")
    assert out.counts == {"chosen": 1} and not out.dropped


def test_rejected_better_swaps_and_is_recorded_as_edited():
    rows = llmbar()
    wrong = by_text(rows, "Australia")
    out = apply_decisions(rows, {wrong.id: decision(wrong, "rejected", "Canberra is the capital")})
    (edited,) = [r for r in out.kept if r.id == wrong.id]
    assert edited.chosen == "The capital of Australia is Canberra."
    assert edited.provenance.review.status == "edited"
    assert edited.provenance.review.comment == "Canberra is the capital"
    assert [r.id for r in out.kept] == [r.id for r in rows]  # order kept


@pytest.mark.parametrize("label", ["tie", "invalid"])
def test_tie_and_invalid_leave_the_subset_with_the_reviewers_reason(label):
    rows = llmbar()
    colour = by_text(rows, "primary colour")
    out = apply_decisions(rows, {colour.id: decision(colour, label, "both are primary colours")})
    assert colour.id not in {r.id for r in out.kept}
    (dropped,) = out.dropped
    assert isinstance(dropped, DroppedRow) and dropped.step == "review"
    assert dropped.reason == f"review: {label} by alice: both are primary colours"
    assert dropped.row["provenance"]["review"]["status"] == "rejected"
    assert json.loads(dropped.evidence)["position"] == rows.index(colour)


def test_applying_twice_changes_nothing():
    rows = llmbar()
    decisions = {r.id: decision(r, label) for r, label in zip(rows, ["chosen", "invalid", "rejected", "tie"], strict=True)}
    once = apply_decisions(rows, decisions)
    twice = apply_decisions(once.kept, decisions)
    assert twice.kept == once.kept and not twice.dropped and not twice.stale


def test_a_decision_for_changed_text_is_stale_and_not_applied():
    rows = llmbar()
    old = decision(rows[0], "invalid")
    changed = [dataclasses.replace(rows[0], chosen="A different answer."), *rows[1:]]
    out = apply_decisions(changed, {rows[0].id: old})
    assert out.stale == [rows[0].id] and not out.dropped
    assert out.kept[0].provenance.review.status == "unreviewed"


def test_decisions_file_round_trips_sorted_and_rejects_duplicates(tmp_path: Path):
    rows = fixture_rows()
    decisions = [decision(rows[3], "tie"), decision(rows[0], "chosen")]
    path = tmp_path / "review" / "decisions.jsonl"
    write_decisions(path, decisions)
    again = read_decisions(tmp_path / "review")  # a folder works too
    assert again == {d.id: d for d in decisions}
    first = path.read_bytes()
    write_decisions(path, reversed(decisions))
    assert path.read_bytes() == first
    line = path.read_text().splitlines()[0]
    path.write_text(line + "\n" + line + "\n")
    with pytest.raises(ReviewError, match=r"decisions.jsonl:2 id: pair .* has two decisions"):
        read_decisions(path)


def test_unknown_label_is_refused():
    row = fixture_rows()[0]
    with pytest.raises(ValueError, match="unknown review label 'maybe'"):
        decision(row, "maybe")


def test_the_build_step_after_selection_gives_what_apply_gives():
    rows = llmbar()
    decisions = {r.id: decision(r, label) for r, label in zip(rows, ["chosen", "invalid", "rejected", "tie"], strict=True)}
    ctx = BuildContext("llmbar-natural", BuildOptions(keep_all=True))
    outcome = run_steps("llmbar-natural", rows, [SelectStep(None), ReviewDecisionsStep(decisions)], ctx, lambda: 0.0)
    direct = apply_decisions(rows, decisions)
    assert outcome.rows == direct.kept
    assert [d.to_record() for d in outcome.dropped] == [d.to_record() for d in direct.dropped]
    assert outcome.report["steps"]["review"] == {"decided": 4, "by_label": {"chosen": 1, "invalid": 1, "rejected": 1, "tie": 1}}


def test_a_rejected_answer_marked_correct_drops_a_best_of_n_row_with_its_reason():
    rows = best_of_n_rows()
    percent = rows[1]
    marked = dataclasses.replace(decision(percent, "chosen", "0.15 x 80 = 12 is right"), rejected_correct=(2,))
    out = apply_decisions(rows, {percent.id: marked})
    assert [r.id for r in out.kept] == [rows[0].id, rows[2].id]
    (dropped,) = out.dropped
    assert dropped.reason == "review: rejected answer 3 actually correct, by alice: 0.15 x 80 = 12 is right"
    assert json.loads(dropped.evidence)["rejected_correct"] == [2]
    assert out.counts == {"rejected_correct": 1}


def test_a_rejected_answer_judged_best_drops_a_best_of_n_row():
    row = best_of_n_rows()[2]
    out = apply_decisions([row], {row.id: decision(row, "rejected")})
    (dropped,) = out.dropped
    assert dropped.reason.endswith("(best-of-N rows cannot be swapped)")


def test_best_of_n_and_blind_facts_round_trip_and_pair_records_keep_their_keys(tmp_path: Path):
    rows = fixture_rows()
    plain = decision(rows[0], "chosen")
    blind = dataclasses.replace(decision(rows[1], "tie"), rejected_correct=(0, 2), blind=True)
    assert set(plain.to_record()) == {"id", "subset", "content_sha256", "label", "status", "reviewer", "time", "comment", "votes"}
    write_decisions(tmp_path / "decisions.jsonl", [plain, blind])
    assert read_decisions(tmp_path) == {plain.id: plain, blind.id: blind}
