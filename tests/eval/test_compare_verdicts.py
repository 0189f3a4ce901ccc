"""`rbkit compare A B [C ...]`: paired differences, exact McNemar, Holm across subsets, verdicts,
checked against numbers worked out by hand."""

from __future__ import annotations

import json

import pytest
from rbkit.eval.compare import BETTER, NO_DIFFERENCE, WORSE, compare, compare_many, verdict
from result_folders import pair, write_result
from typer.testing import CliRunner

from rbkit.cli import app


def _rows(pattern: dict[str, list[int]]):
    return [pair(subset, f"{i:02d}", 1.0 if ok else 0.0, 0.5) for subset, oks in pattern.items() for i, ok in enumerate(oks)]


@pytest.fixture(scope="module")
def abc(tmp_path_factory):
    base = tmp_path_factory.mktemp("cmp")
    # llmbar-natural: A right on all 20, B on the first 5 -> 15 pairs only A got right.
    # alpacaeval-easy: 10 pairs, A wrong on 0-1, B wrong on 2 -> A only 1, B only 2.
    a = write_result(base / "a", "model-a", _rows({"llmbar-natural": [1] * 20,
                                                   "alpacaeval-easy": [0, 0] + [1] * 8}), resamples=0)
    b = write_result(base / "b", "model-b", _rows({"llmbar-natural": [1] * 5 + [0] * 15,
                                                   "alpacaeval-easy": [1, 1, 0] + [1] * 7}), resamples=0)
    c = write_result(base / "c", "model-c", _rows({"llmbar-natural": [1] * 20,
                                                   "alpacaeval-easy": [0, 0] + [1] * 8}), resamples=0)
    return a, b, c


def test_differences_mcnemar_and_holm_match_the_hand_computation(abc):
    a, b, _ = abc
    cmp = compare(a, b, resamples=500)
    ll, al = cmp["subsets"]["llmbar-natural"], cmp["subsets"]["alpacaeval-easy"]
    assert (ll["a"], ll["b"], ll["delta"]) == (1.0, 0.25, 0.75)
    assert (ll["a_only"], ll["b_only"]) == (15, 0) and ll["p_mcnemar"] == pytest.approx(2 / 2**15)
    assert (al["a_only"], al["b_only"]) == (1, 2) and al["delta"] == pytest.approx(-0.1)
    assert al["p_mcnemar"] == 1.0  # 2 * P(X <= 1 | n=3) = 2 * 4/8, capped at 1
    # Holm over two subsets: the smaller p doubles, the larger stays 1
    assert ll["p_holm"] == pytest.approx(4 / 2**15) and al["p_holm"] == 1.0
    assert ll["verdict"] == BETTER and al["verdict"] == NO_DIFFERENCE
    # Chat Hard holds llmbar-natural only: the same difference; the CI excludes 0
    sec = cmp["sections"]["Chat Hard"]
    assert sec["delta"] == pytest.approx(0.75) and sec["ci95"][0] > 0 and sec["verdict"] == BETTER
    assert (sec["a_only"], sec["b_only"]) == (15, 0)
    ov = cmp["overall"]["mean_4_sections"]  # mean of Chat (-0.1) and Chat Hard (+0.75)
    assert ov["delta"] == pytest.approx((0.75 - 0.1) / 2) and (ov["a_only"], ov["b_only"]) == (16, 2)


def test_no_verdict_without_a_corrected_rejection():
    assert verdict(0.2, 0.049) == BETTER and verdict(-0.2, 0.001) == WORSE
    assert verdict(0.2, 0.05) == NO_DIFFERENCE and verdict(0.2, None) == NO_DIFFERENCE


def test_identical_models_show_no_difference(abc):
    a, _, c = abc
    cmp = compare(a, c, resamples=200)
    assert all(s["verdict"] == NO_DIFFERENCE and s["delta"] == 0 for s in cmp["subsets"].values())


def test_three_folders_give_every_pair_in_order(abc):
    cmps = compare_many(list(abc), resamples=100)
    assert [(x["a"]["model"], x["b"]["model"]) for x in cmps] == [("model-a", "model-b"), ("model-a", "model-c"),
                                                                 ("model-b", "model-c")]
    assert cmps[2]["subsets"]["llmbar-natural"]["verdict"] == WORSE


def test_cli_compares_three_and_writes_json_and_a_forest_plot(abc, tmp_path):
    out, page = tmp_path / "cmp.json", tmp_path / "cmp.html"
    result = CliRunner().invoke(app, ["compare", *map(str, abc), "--resamples", "200", "--json", str(out),
                                      "--html", str(page)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Holm" in result.output and "better" in result.output
    assert len(json.loads(out.read_text())) == 3
    html = page.read_text()
    assert html.count('class="comparison"') == 3 and 'data-verdict="better"' in html
