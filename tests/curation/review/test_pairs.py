from __future__ import annotations

import dataclasses

from rbkit.curation.review.pairs import (
    content_sha256,
    flagged,
    longer_side,
    original,
    suggest,
    swapped,
)
from rbkit.curation.rows import Review, Verification

from tests.curation.review.conftest import by_text, fixture_rows
from tests.factories import make_row


def test_swap_flips_sides_models_and_verification_and_is_an_involution():
    row = by_text(fixture_rows(), "has_close_elements")
    flipped = swapped(row)
    assert (flipped.chosen, flipped.rejected) == (row.rejected, row.chosen)
    assert (flipped.chosen_model, flipped.rejected_model) == (row.rejected_model, row.chosen_model)
    sides = {(v.side, v.verdict) for v in flipped.provenance.verification}
    assert sides == {("rejected", "pass"), ("chosen", "fail")}
    assert swapped(flipped) == row


def test_original_undoes_a_reviewers_swap_only():
    row = make_row()
    edited = swapped(row).with_review(Review(status="edited", reviewer="a", time="t"))
    assert original(edited).chosen == row.chosen
    accepted = row.with_review(Review(status="accepted"))
    assert original(accepted) is accepted


def test_content_hash_depends_on_text_and_orientation_not_on_provenance():
    row = make_row()
    assert content_sha256(row) == content_sha256(row.with_review(Review(status="accepted")))
    assert content_sha256(row) != content_sha256(swapped(row))
    assert content_sha256(row) != content_sha256(dataclasses.replace(row, chosen="Hi there!"))


def test_code_execution_suggests_chosen_when_only_chosen_passes():
    suggestion = suggest(by_text(fixture_rows(), "has_close_elements"))
    assert suggestion is not None
    assert (suggestion.label, suggestion.score, suggestion.agent) == ("chosen", 1.0, "code:python")


def test_both_sides_passing_suggests_tie_and_flags_the_pair():
    row = by_text(fixture_rows(), "Add two numbers")
    assert suggest(row).label == "tie"
    assert flagged(row)


def test_refusal_detail_ok_reads_as_role_fit_on_both_sides():
    rows = fixture_rows()
    right = by_text(rows, "kill a person")
    backwards = by_text(rows, "neighbour")
    assert suggest(right).label == "chosen" and suggest(right).score == 0.7
    assert suggest(backwards).label == "rejected"
    assert not flagged(right) and flagged(backwards)


def test_conflicting_verifiers_give_no_suggestion_but_flag():
    row = make_row().with_verification(
        Verification("code:python", "chosen", "pass"),
        Verification("code:python", "rejected", "fail"),
        Verification("math:answer", "chosen", "unequal"),
        Verification("math:answer", "rejected", "equal"),
    )
    assert suggest(row) is None
    assert flagged(row)


def test_unverified_pairs_have_no_suggestion_and_are_not_flagged():
    row = make_row()
    assert suggest(row) is None and not flagged(row)


def test_longer_side():
    assert longer_side(make_row(chosen="long answer", rejected="no")) == "chosen"
    assert longer_side(make_row(chosen="a", rejected="bb")) == "rejected"
    assert longer_side(make_row(chosen="ab", rejected="cd")) == "equal"
