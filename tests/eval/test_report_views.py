"""The report's derived views as pure functions: length bias and best-of-N by rejected count."""

from __future__ import annotations

import pytest
from rbkit.eval.best_of_n_curve import accuracy_by_rejected
from rbkit.eval.length_bias import (
    LONGER,
    SAME,
    SHORTER,
    binned_margins,
    length_correlation,
    margin_points,
    split_by_length,
)
from rbkit.eval.report_entry import PairRow
from rbkit.eval.stats import wilson_interval
from rbkit.eval.svg_plots import Bar, bar_chart


def row(i: int, chosen: float, rejected: float, lengths: tuple[int, ...]) -> PairRow:
    return PairRow("s", str(i), (chosen, rejected), 1, float(chosen > rejected), chosen == rejected, False, lengths)


def test_accuracy_splits_by_which_answer_is_longer():
    rows = [row(0, 2, 1, (30, 10)), row(1, 2, 1, (40, 10)), row(2, 0, 1, (50, 10)),  # longer: 2/3
            row(3, 0, 1, (5, 10)), row(4, 2, 1, (5, 9)),  # shorter: 1/2
            row(5, 1, 1, (7, 7)),  # same length, a tie
            row(6, 2, 1, ())]  # no lengths: left out
    groups = {g.name: g for g in split_by_length(rows)}
    assert (groups[LONGER].n, groups[LONGER].accuracy) == (3, pytest.approx(2 / 3))
    assert groups[LONGER].ci95 == wilson_interval(2, 3)
    assert (groups[SHORTER].n, groups[SHORTER].accuracy) == (2, 0.5) and groups[SAME].accuracy == 0.0


def test_margin_against_length_difference():
    rows = [row(i, 0.1 * i, 0.0, (10 + i, 10)) for i in range(30)]  # margin grows with the length difference
    assert length_correlation(rows) == pytest.approx(1.0)
    bins = binned_margins(rows, bins=3)
    assert [b[0] for b in bins] == [5.0, 15.0, 25.0] and bins[0][1] == pytest.approx(0.45)
    assert bins[0][2] < bins[0][1] < bins[0][3]
    pts = margin_points(rows, limit=7)
    assert len(pts) == 7 and pts == margin_points(list(reversed(rows)), limit=7)  # the same pairs, any order


def test_best_of_n_accuracy_by_number_of_rejected_answers():
    rows = [PairRow("Math", "0", (3.0, 1.0, 4.0, 0.0), 1, 0.0, False, False),  # beats 1, loses at 2 and 3
            PairRow("Math", "1", (2.0, 2.0, 1.0), 1, 0.5, True, False),  # 2-way tie at the top: 1/2 at k=1, 2
            PairRow("Ties", "ref:0", (1.0, 0.0, 0.0), 1, 1.0, False, False)]  # Ties left out
    pts = accuracy_by_rejected(rows)
    assert [(p.rejected, p.n) for p in pts] == [(1, 2), (2, 2), (3, 1)]
    assert [p.accuracy for p in pts] == [pytest.approx(0.75), pytest.approx(0.25), 0.0]
    assert [p.chance for p in pts] == [0.5, pytest.approx(1 / 3), 0.25]


def test_a_missing_bar_is_marked_never_drawn_as_zero():
    svg = bar_chart("s", [Bar("a", 0.5, 0.4, 0.6), Bar("b", None)])
    assert svg.count("<rect") == 1 and '<g class="missing"><title>b: not scored</title>' in svg
    assert "<title>a: 50.0 [40.0, 60.0]</title>" in svg
