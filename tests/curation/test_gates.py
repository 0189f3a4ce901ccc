from pathlib import Path
from types import SimpleNamespace

import pytest
from rbkit.curation.gates import (
    GateConfig,
    GateFailedError,
    apply_gate,
    credit,
    gate_hook,
    raise_on_failures,
    render_summary,
    rulers,
    wilson,
)
from rbkit.curation.pipeline import BuildOptions
from rbkit.curation.rows import Provenance, TrioRow, stable_id


def row(chosen, rejected, prompt="Tell me about apples.", i=0) -> TrioRow:
    key = f"r{i}"
    return TrioRow(
        prompt=prompt,
        chosen=chosen,
        chosen_model="a",
        rejected=rejected,
        rejected_model="b",
        subset="toy",
        id=stable_id("toy", key),
        provenance=Provenance("toy", "f", "rev", "0" * 64, key, "tests", "1"),
    )


def test_wilson_matches_published_values():
    lo, hi = wilson(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    lo, hi = wilson(0, 10)
    assert (lo, round(hi, 4)) == (0.0, 0.2775)
    assert wilson(0, 0) == (0.0, 1.0)


def test_wilson_interval_stays_inside_0_1_and_narrows_with_n():
    small, large = wilson(9, 10), wilson(900, 1000)
    assert 0 <= small[0] < 0.9 < small[1] <= 1
    assert large[1] - large[0] < small[1] - small[0]


def test_credit_is_one_zero_or_half_for_a_tie():
    assert credit(row("a long answer", "short"), "longer") == 1.0
    assert credit(row("a long answer", "short"), "shorter") == 0.0
    assert credit(row("same", "size"), "longer") == 0.5


def test_credit_for_best_of_n_shares_a_top_tie():
    bon = row(("xxxx",), ("yyyy", "zzzz", "w"))
    assert credit(bon, "longer") == pytest.approx(1 / 3)
    assert credit(bon, "shorter") == 0.0


def test_bag_of_words_ruler_prefers_the_on_topic_answer_whatever_its_length():
    on_topic = "Apples are fruit. Apples grow on apple trees."
    padded_off_topic = "The weather report says rain will fall across the northern hills tonight and tomorrow. " * 3
    assert credit(row(on_topic, padded_off_topic), "bow") == 1.0
    assert credit(row(on_topic, padded_off_topic), "longer") == 0.0


def test_rulers_table_counts_accuracy_ties_and_interval():
    rows = [row("longer answer", "short", i=i) for i in range(8)] + [row("s", "longer answer", i=8), row("ab", "cd", i=9)]
    table = rulers(rows)
    assert table["n"] == 10
    assert table["longer"]["correct"] == 8 and table["longer"]["ties"] == 1
    assert table["longer"]["accuracy"] == 0.85
    lo, hi = wilson(8.5, 10)
    assert table["longer"]["ci95"] == [round(lo, 4), round(hi, 4)]
    assert table["shorter"]["accuracy"] == 0.15
    assert set(table) == {"n", "longer", "shorter", "bow"}


def test_rulers_of_an_empty_subset():
    table = rulers([])
    assert table["n"] == 0 and table["longer"]["accuracy"] is None and table["longer"]["ci95"] == [0.0, 1.0]


def table_with(longer: float, n: int = 100) -> dict:
    lo, hi = wilson(longer * n, n)
    entry = lambda acc: {"accuracy": acc, "ci95": [lo, hi], "correct": 0, "ties": 0}  # noqa: E731
    return {"n": n, "longer": entry(longer), "shorter": entry(round(1 - longer, 4)), "bow": entry(0.5)}


def test_gate_warns_when_a_ruler_solves_an_unbiased_subset():
    result = apply_gate("toy", "none", table_with(0.95))
    assert result.status == "warn" and len(result.violations) == 1
    assert "'pick the longer' is right on 95.0% of 100 pairs" in result.violations[0]


def test_gate_exempts_the_declared_bias_only():
    assert apply_gate("toy", "longer", table_with(0.95)).status == "ok"
    assert apply_gate("toy", "longer", table_with(0.95)).exempt == ("longer",)
    flipped = apply_gate("toy", "longer", table_with(0.04))  # shorter at 96% is not exempt
    assert flipped.status == "warn" and "pick the shorter" in flipped.violations[0]


def test_gate_modes_and_statistic():
    assert apply_gate("toy", "none", table_with(0.95), GateConfig(mode="fail")).status == "fail"
    assert apply_gate("toy", "none", table_with(0.95), GateConfig(mode="off")).status == "off"
    assert apply_gate("toy", "none", table_with(0.89)).status == "ok"
    # 93% of 30 pairs: point estimate above 90%, but the lower bound is not
    assert apply_gate("toy", "none", table_with(0.93, n=30), GateConfig(statistic="lower")).status == "ok"
    assert apply_gate("toy", "none", table_with(0.93, n=30), GateConfig(statistic="point")).status == "warn"


def test_gate_config_and_bias_are_validated():
    with pytest.raises(ValueError, match="threshold"):
        GateConfig(threshold=1.5)
    with pytest.raises(ValueError, match="unknown rulers"):
        GateConfig(rulers=("first",))
    with pytest.raises(ValueError, match="unknown length_bias"):
        apply_gate("toy", "long", table_with(0.5))


def test_raise_on_failures_lists_every_violation():
    results = [apply_gate(n, "none", table_with(0.97), GateConfig(mode="fail")) for n in ("a", "b")]
    with pytest.raises(GateFailedError) as err:
        raise_on_failures(results)
    assert "a: 'pick the longer'" in str(err.value) and "b: 'pick the longer'" in str(err.value)
    raise_on_failures([apply_gate("c", "none", table_with(0.97))])  # warn mode does not raise


def fake_result(rows, length_bias="none"):
    outcome = SimpleNamespace(subset="toy", rows=rows)
    return SimpleNamespace(outcomes=[outcome], manifest={"subsets": {"toy": {"length_bias": length_bias}}})


def test_gate_hook_writes_rulers_and_verdict_into_the_manifest():
    result = fake_result([row("longer answer", "short", i=i) for i in range(5)])
    gate_hook(GateConfig())(result)
    info = result.manifest["subsets"]["toy"]
    assert info["rulers"]["longer"]["accuracy"] == 1.0
    assert info["gate"]["status"] == "warn"
    assert result.manifest["gate"] == {"threshold": 0.9, "mode": "warn", "statistic": "point", "rulers": ["longer", "shorter", "bow"]}
    lines = render_summary(result.manifest)
    assert len(lines) == 2 and "gate warning" in lines[1]


def test_the_recorded_gate_reads_back_as_the_same_config():
    config = GateConfig(threshold=0.8, mode="fail", statistic="lower", rulers=("longer", "bow"))
    assert GateConfig.from_record(config.to_record()) == config
    assert GateConfig.from_record(None) == GateConfig()


def test_gate_hook_raises_in_fail_mode():
    with pytest.raises(GateFailedError):
        gate_hook(GateConfig(mode="fail"))(fake_result([row("longer answer", "short", i=i) for i in range(5)]))
    gate_hook(GateConfig(mode="fail"))(fake_result([row("longer answer", "short", i=i) for i in range(5)], "longer"))


def test_a_failing_gate_stops_run_build_before_anything_is_written(tmp_path: Path):
    from rbkit.curation.build import run_build
    from rbkit.curation.registry import SubsetSpec

    rows = [row("a much longer answer", "short", i=i) for i in range(4)]
    spec = SubsetSpec(
        name="toy", section="Chat", source="toy", license="MIT", expected=None, sources=(), build=lambda ctx: iter(rows)
    )
    with pytest.raises(GateFailedError):
        run_build([spec], tmp_path / "out", BuildOptions(), gate=GateConfig(mode="fail"))
    assert not (tmp_path / "out").exists()
    result = run_build([spec], tmp_path / "out", BuildOptions())
    assert result.manifest["subsets"]["toy"]["gate"]["status"] == "warn"
    assert (tmp_path / "out" / "build.json").is_file()
