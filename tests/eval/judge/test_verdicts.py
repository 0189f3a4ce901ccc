"""The strict verdict and rating parsers on messy judge outputs seen in practice."""

from __future__ import annotations

import pytest
from rbkit.eval.judge.verdicts import parse_rating, parse_verdict

ECHOED_THEN_DECIDED = (
    'I must output "[[A]]" if assistant A is better, "[[B]]" if assistant B is better.\n\n'
    "Assistant A answers the question directly, while B drifts off topic.\n\n"
    "Final verdict: [[A]]"
)


@pytest.mark.parametrize(
    ("text", "winner"),
    [
        ("Both are fine but A is more precise.\n\n[[A]]", "A"),
        ("**Final Verdict:** **[[B]]**", "B"),
        ("Verdict: [[ B ]].", "B"),
        ("[[a]]", "A"),
        (ECHOED_THEN_DECIDED, "A"),
        ("Assistant B is better: [[B]]\n\nTo restate, my verdict is [[B]]", "B"),
    ],
)
def test_verdict_read_from_messy_outputs(text: str, winner: str) -> None:
    assert parse_verdict(text).winner == winner


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Assistant A is better.", "no verdict"),
        ("My verdict: [A]", "no verdict"),  # single brackets are not the required format
        ("It is a tie: [[C]]", "not one of"),
        ("A wins [[A]], no wait, [[B]]", "conflicting"),
        ("", "no verdict"),
        ("[[A]] or [[B]]", "conflicting"),
    ],
)
def test_unparseable_verdicts_are_never_guessed(text: str, why: str) -> None:
    verdict = parse_verdict(text)
    assert verdict.winner is None and why in verdict.reason


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("The response is accurate and helpful. Rating: [[8]]", 8.0),
        ('Format: "Rating: [[5]]"\nThe answer misses the point.\nRating: [[3]]', 3.0),
        ("Rating: [[ 7.5 ]]", 7.5),
        ("[[10]]", 10.0),
    ],
)
def test_rating_read_from_messy_outputs(text: str, value: float) -> None:
    assert parse_rating(text).value == value


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Rating: 8/10", "no rating"),
        ("Rating: [[0]]", "outside"),
        ("Rating: [[11]]", "outside"),
        ("[[4]] or maybe [[6]]", "conflicting"),
        ("Rating: [[eight]]", "no rating"),
    ],
)
def test_unparseable_ratings(text: str, why: str) -> None:
    rating = parse_rating(text)
    assert rating.value is None and why in rating.reason
