"""Review layouts: blind order, fields and questions, and answers mapped back to the row."""

from __future__ import annotations

import re

import pytest
from rbkit.curation.review.connection import ReviewError
from rbkit.curation.review.layout import Layout, Verdict, blind_order, slots, verdict

from tests.curation.review.conftest import best_of_n_rows, fixture_rows
from tests.factories import make_row

SIDE_WORDS = re.compile(r"chosen|rejected|label", re.IGNORECASE)


def test_blind_order_is_a_permutation_fixed_by_seed_and_id():
    row = best_of_n_rows()[0]
    order = blind_order(row, seed=0)
    assert sorted(order) == sorted(slots(row))
    assert blind_order(row, seed=0) == order
    assert any(blind_order(row, seed=s) != order for s in range(1, 5))


def test_blind_order_puts_the_chosen_answer_first_about_half_the_time():
    rows = [make_row(f"k{i}") for i in range(400)]
    first = sum(blind_order(r, seed=0)[0] == ("chosen", 0) for r in rows)
    assert 160 <= first <= 240  # 200 expected; +-4 standard deviations


@pytest.mark.parametrize("best_of_n", [False, True])
def test_a_blind_layout_names_no_side(best_of_n):
    rows = best_of_n_rows() if best_of_n else fixture_rows()[:2]
    layout = Layout.for_rows(rows, blind=True)
    texts = [f"{name} {title}" for name, title, _ in layout.fields()]
    texts += [f"{k} {v}" for k, v in layout.labels().items()]
    texts += [f"{k} {v}" for k, v in (layout.correct_labels() or {}).items()]
    texts += [layout.label_title(), layout.correct_title()]
    assert not [t for t in texts if SIDE_WORDS.search(t)]
    assert [n for n, _, _ in layout.fields()] == ["prompt", "answer_a", "answer_b", *(["answer_c", "answer_d"] if best_of_n else [])]


def test_blind_values_follow_the_order():
    row = best_of_n_rows()[1]
    layout = Layout.for_rows([row], blind=True)
    order = blind_order(row, seed=3)
    values = layout.values(row, order)
    position = order.index(("rejected", 2))
    assert values[f"answer_{'abcd'[position]}"] == "0.15 x 80 = 12, so the answer is 12."


def test_labelled_best_of_n_gives_every_answer_its_field():
    row = best_of_n_rows()[0]
    layout = Layout.for_rows([row], blind=False)
    assert [n for n, _, _ in layout.fields()] == ["prompt", "chosen", "rejected_1", "rejected_2", "rejected_3"]
    assert layout.values(row, None) == {"chosen": "7 * 8 = 56.", "rejected_1": "7 * 8 = 54.", "rejected_2": "7 * 8 = 48.", "rejected_3": "7 * 8 = 63."}
    assert list(layout.correct_labels()) == ["rejected_1", "rejected_2", "rejected_3"]


def test_a_subset_mixing_pairs_and_best_of_n_is_refused():
    with pytest.raises(ReviewError, match="mixes pairs and best-of-N rows"):
        Layout.for_rows([fixture_rows()[0], best_of_n_rows()[0]], blind=False)


@pytest.mark.parametrize(
    "layout", [Layout(False, False), Layout(True, False), Layout(False, True, 1, 3), Layout(True, True, 1, 3), Layout(False, True, 2, 2)]
)
def test_settings_name_their_layout(layout):
    questions = ["label", "comment"] + (["correct"] if layout.best_of_n else [])
    assert Layout.from_settings([n for n, _, _ in layout.fields()], questions) == layout


def test_foreign_fields_are_no_layout():
    assert Layout.from_settings(["text", "answer"], ["label"]) is None
    assert Layout.from_settings(["prompt", "chosen", "rejected", "notes"], ["label"]) is None


def test_blind_letters_map_back_to_sides():
    order = [("rejected", 0), ("chosen", 0)]
    assert verdict("a", [], order) == Verdict("rejected")
    assert verdict("b", [], order) == Verdict("chosen")
    assert verdict("tie", [], order) == Verdict("tie")
    assert verdict("c", [], order) is None  # no third answer


def test_ticked_answers_become_rejected_indexes():
    order = [("rejected", 1), ("chosen", 0), ("rejected", 2), ("rejected", 0)]
    assert verdict("b", ["c", "b", "a"], order) == Verdict("chosen", (1, 2))  # the chosen tick says nothing
    assert verdict("chosen", ["rejected_3"], None) == Verdict("chosen", (2,))
    assert verdict("maybe", [], None) is None
