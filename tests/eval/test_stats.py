"""Bootstrap CIs are seeded and sane; paired tests give the textbook numbers."""

from __future__ import annotations

import numpy as np
import pytest
from rbkit.eval.aggregate import RowScore, aggregate
from rbkit.eval.sections import SubsetInfo
from rbkit.eval.stats import (
    bootstrap_means,
    holm,
    mcnemar_exact,
    paired_bootstrap_p,
    percentile_ci,
    seeded_rng,
    wilson_interval,
)


def test_bootstrap_is_reproducible_from_seed_and_name():
    values = np.array([1.0] * 30 + [0.0] * 10)
    a = bootstrap_means(values, 500, seeded_rng(0, "llmbar-natural"))
    b = bootstrap_means(values, 500, seeded_rng(0, "llmbar-natural"))
    c = bootstrap_means(values, 500, seeded_rng(1, "llmbar-natural"))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_ci_brackets_the_mean_and_shrinks_with_n():
    small = np.array([1.0, 0.0] * 20)
    large = np.array([1.0, 0.0] * 2000)
    lo_s, hi_s = percentile_ci(bootstrap_means(small, 2000, seeded_rng(0, "s")))
    lo_l, hi_l = percentile_ci(bootstrap_means(large, 2000, seeded_rng(0, "l")))
    assert lo_s < 0.5 < hi_s and lo_l < 0.5 < hi_l
    assert (hi_l - lo_l) < (hi_s - lo_s) / 5
    # binomial standard error for n=40 is 0.079: a 95% interval spans about 0.31
    assert hi_s - lo_s == pytest.approx(0.31, abs=0.06)


def test_mcnemar_exact_values():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(1, 9) == pytest.approx(2 * 11 / 1024)


def test_paired_bootstrap_p_detects_a_consistent_difference():
    assert paired_bootstrap_p(np.full(100, 0.1)) == 0.0
    assert paired_bootstrap_p(np.array([-1.0, 1.0] * 50)) == 1.0


def test_aggregate_gives_subset_section_and_overall_cis_that_contain_the_estimate():
    rows = [RowScore(str(i), s, (1.0, 0.0) if i % 3 else (0.0, 1.0), 1, float(i % 3 != 0), False, False)
            for s in ("llmbar-natural", "alpacaeval-easy") for i in range(60)]
    infos = {"llmbar-natural": SubsetInfo("Chat Hard", None, "t"), "alpacaeval-easy": SubsetInfo("Chat", None, "t")}
    blocks = aggregate(rows, infos, best_of_n=False, resamples=300, seed=0)
    sub = blocks["subsets"]["llmbar-natural"]
    assert sub["accuracy"] == pytest.approx(40 / 60) and sub["n"] == 60
    assert sub["ci95"][0] < sub["accuracy"] < sub["ci95"][1]
    ov = blocks["overall"]["mean_4_sections"]
    assert ov["ci95"][0] < ov["value"] < ov["ci95"][1]
    assert not ov["complete"] and ov["missing"] == ["Safety", "Reasoning"]


def test_sampled_runs_weigh_sections_by_full_subset_sizes():
    rows = [RowScore(str(i), s, (1.0, 0.0), 1, acc, False, False)
            for s, acc in (("llmbar-natural", 1.0), ("mt-bench-hard", 0.0)) for i in range(5)]
    infos = {"llmbar-natural": SubsetInfo("Chat Hard", None, "t"), "mt-bench-hard": SubsetInfo("Chat Hard", None, "t")}
    plain = aggregate(rows, infos, best_of_n=False, resamples=0, seed=0)
    weighted = aggregate(rows, infos, best_of_n=False, resamples=0, seed=0,
                         weight_counts={"llmbar-natural": 100, "mt-bench-hard": 37})
    assert plain["sections"]["Chat Hard"]["score"] == pytest.approx(0.5)
    assert weighted["sections"]["Chat Hard"]["score"] == pytest.approx(100 / 137)


@pytest.mark.parametrize(("a_only", "b_only"), [(0, 1), (3, 11), (12, 12), (40, 17), (0, 60), (250, 301)])
def test_mcnemar_exact_matches_scipy_binomtest(a_only, b_only):
    from scipy.stats import binomtest

    expected = binomtest(a_only, a_only + b_only, 0.5).pvalue
    assert mcnemar_exact(a_only, b_only) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (7, 10), (1, 28), (230, 464), (5, 6)])
def test_wilson_interval_matches_scipy(k, n):
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(ci.low, abs=1e-9) and hi == pytest.approx(ci.high, abs=1e-9)


def test_wilson_interval_of_nothing_is_none():
    assert wilson_interval(0, 0) is None


def test_holm_adjusts_step_down_and_keeps_order_and_gaps():
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1 -> max(0.06, 0.04)=0.06
    assert holm([0.01, 0.04, 0.03, None, 0.005]) == pytest.approx([0.03, 0.06, 0.06, None, 0.02])
    assert holm([0.5, 0.9]) == [1.0, 1.0] and holm([]) == []


def test_bootstrap_ci_agrees_with_scipy_percentile_bootstrap():
    from scipy.stats import bootstrap

    values = np.array([1.0] * 130 + [0.0] * 70)
    ours = percentile_ci(bootstrap_means(values, 4000, seeded_rng(0, "x")))
    theirs = bootstrap((values,), np.mean, n_resamples=4000, method="percentile",
                       random_state=np.random.default_rng(1)).confidence_interval
    assert ours[0] == pytest.approx(theirs.low, abs=0.012) and ours[1] == pytest.approx(theirs.high, abs=0.012)
