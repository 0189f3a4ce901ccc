from __future__ import annotations

import pytest
from rbkit.curation.gates import wilson
from rbkit.curation.review.agreement import agreement, cohen_kappa, label_agreement


def test_kappa_matches_a_hand_computed_value():
    # 10 items, 7 agreements; rater a says x 5 times, rater b 6 times:
    # p_o = 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.4
    a = list("xxxxxyyyyy")
    b = list("xxxxyxxyyy")
    assert sum(p == q for p, q in zip(a, b, strict=True)) == 7
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_is_one_for_perfect_and_undefined_for_one_label():
    assert cohen_kappa(["x", "y"], ["x", "y"]) == pytest.approx(1.0)
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None


def test_summary_over_several_reviewers():
    votes = {
        1: {"alice": "chosen", "bob": "chosen", "carol": "tie"},
        2: {"alice": "invalid", "bob": "chosen"},
        3: {"alice": "chosen"},  # one answer: no comparison
    }
    summary = agreement(votes)
    assert summary["items_with_several_answers"] == 2
    assert summary["reviewers"] == ["alice", "bob", "carol"]
    pairs = {tuple(p["reviewers"]): p for p in summary["pairs"]}
    assert pairs[("alice", "bob")]["items"] == 2 and pairs[("alice", "bob")]["percent_agreement"] == 50.0
    assert pairs[("alice", "carol")]["percent_agreement"] == 0.0
    # 1 agreement in 4 comparisons
    assert summary["percent_agreement"] == 25.0


def test_no_overlap_gives_no_numbers():
    summary = agreement({1: {"alice": "chosen"}, 2: {"bob": "tie"}})
    assert summary["percent_agreement"] is None and summary["cohen_kappa"] is None


def test_blind_agreement_with_the_label_counts_picks_with_a_wilson_interval():
    outcomes = [("a", "chosen"), ("a", "chosen"), ("a", "rejected"), ("a", "tie"), ("b", "chosen"), ("b", "invalid")]
    summary = label_agreement(outcomes)
    assert (summary["decisions"], summary["picked"], summary["agree"], summary["no_pick"]) == (6, 4, 3, 2)
    assert summary["rate"] == 0.75
    assert summary["ci95"] == [round(x, 4) for x in wilson(3, 4)]
    assert summary["by_subset"]["b"] == {"decisions": 2, "picked": 1, "agree": 1, "rate": 1.0, "ci95": [round(x, 4) for x in wilson(1, 1)], "no_pick": 1}


def test_blind_agreement_without_picks_has_no_rate():
    summary = label_agreement([("a", "tie")])
    assert (summary["rate"], summary["ci95"], summary["no_pick"]) == (None, None, 1)
