"""Only a complete, published-size, original-source, unsampled result is called "RewardBench overall"."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rbkit.eval.comparability import assess
from rbkit.eval.results import validate
from rbkit.eval.sections import PUBLISHED_COUNTS, resolve
from typer.testing import CliRunner

from rbkit.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "400"}  # rich wraps at 80 columns otherwise
SUBSTITUTE = "CoCoNot (allenai/coconot) contrast prompts, not the original refusals data"


def write_build(folder: Path, counts: dict[str, int], substitutes: dict[str, str] | None = None) -> Path:
    """A build folder as `rbkit build` lays it out: build.json plus one parquet file per subset."""
    (folder / "data").mkdir(parents=True)
    info = resolve(counts)
    listed = {}
    for name, n in counts.items():
        rows = [{"prompt": f"Question {i} of {name}?", "chosen": f"Answer {i}.", "chosen_model": "a",
                 "rejected": f"No {i % 7}", "rejected_model": "b", "subset": name, "id": i} for i in range(n)]
        pq.write_table(pa.Table.from_pylist(rows), folder / "data" / f"{name}.parquet")
        listed[name] = {"section": info[name].section, "weight": info[name].weight, "expected": PUBLISHED_COUNTS[name],
                        "built": n, "substitute": (substitutes or {}).get(name)}
    (folder / "build.json").write_text(json.dumps({"format": 1, "rbkit_version": "0", "subsets": listed}))
    return folder


def evaluate(model: Path, dataset: Path, out: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["eval", "--model", str(model), "--dataset", str(dataset), "--out", str(out),
                                 "--bootstrap", "0", "--quiet", *extra])
    assert result.exit_code == 0, result.output + repr(result.exception)
    res = json.loads((out / "results.json").read_text())
    validate(res)  # the schema's own if/then ties `comparable` to its label
    return res


def raw(*args: str) -> str:
    result = runner.invoke(app, list(args), env=WIDE)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def text(*args: str) -> str:
    return " ".join(raw(*args).split())


@pytest.fixture(scope="module")
def full(tmp_path_factory, tiny_rm):
    """Every core subset at its published size (2,985 rows), scored once; variants reuse the cache."""
    base = tmp_path_factory.mktemp("comparable")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RBKIT_CACHE", str(base / "cache"))
        build = write_build(base / "build", dict(PUBLISHED_COUNTS))
        res = evaluate(tiny_rm, build, base / "res")
    return base, res


def test_full_published_build_is_rewardbench_overall(full):
    base, res = full
    comp = res["comparability"]
    assert comp["comparable"] and comp["label"] == "RewardBench overall"
    assert comp["subsets_present"] == comp["subsets_total"] == 23 and comp["provenance"] == "build.json"
    assert res["overall"]["mean_4_sections"]["label"] == "RewardBench overall"
    # The 5-section conventions need Prior Sets, which this build lacks.
    assert res["overall"]["paper_v1_5_sections"]["label"] == "partial overall (23/23 subsets, no Prior Sets)"
    report = text("report", str(base / "res"))
    assert "overall: RewardBench overall" in report and "comparable to allenai/reward-bench" in report
    rows = {line.split()[1]: line for line in raw("report", str(base / "res")).splitlines()
            if line.startswith("│ ") and "_" in line.split()[1]}
    assert "RewardBench overall" in rows["mean_4_sections"] and "partial" not in rows["mean_4_sections"]
    assert "partial overall" in rows["paper_v1_5_sections"]  # its own label is spelled out below
    assert "(partial overall (23/23 subsets, no Prior Sets))" in report
    compared = text("compare", str(base / "res"), str(base / "res"), "--resamples", "50")
    assert "overall: RewardBench overall" in compared


def test_substitutes_missing_short_and_sampled_are_partial(full, tiny_rm, tmp_path, monkeypatch):
    base, _ = full
    monkeypatch.setenv("RBKIT_CACHE", str(base / "cache"))
    subs = {"refusals-dangerous": SUBSTITUTE, "refusals-offensive": SUBSTITUTE}
    sub_build = write_build(tmp_path / "sub", dict(PUBLISHED_COUNTS), subs)
    res = evaluate(tiny_rm, sub_build, tmp_path / "r-sub")
    assert res["run"]["rows_scored"] == 0, "same rows, same model: every score comes from the resume cache"
    label = "partial overall (23/23 subsets, substitutes: refusals-dangerous, refusals-offensive)"
    assert res["comparability"]["label"] == label and res["overall"]["mean_4_sections"]["label"] == label
    assert res["comparability"]["substitutes"] == subs
    report = text("report", str(tmp_path / "r-sub"))
    assert f"overall: {label}" in report and "NOT comparable" in report and "CoCoNot" in report
    assert "RewardBench overall" not in report
    compared = text("compare", str(base / "res"), str(tmp_path / "r-sub"), "--resamples", "50")
    assert f"overall: {label}" in compared and "RewardBench overall" not in compared

    names = [n for n in PUBLISHED_COUNTS if n != "hep-rust"]
    picks = [arg for n in names for arg in ("--subset", n)]
    res = evaluate(tiny_rm, base / "build", tmp_path / "r-22", *picks)
    assert res["comparability"]["label"] == "partial overall (22/23 subsets)"
    assert res["comparability"]["missing"] == ["hep-rust"]

    short = write_build(tmp_path / "short", {**PUBLISHED_COUNTS, "mt-bench-easy": 20})
    res = evaluate(tiny_rm, short, tmp_path / "r-short")
    assert res["comparability"]["label"] == "partial overall (23/23 subsets, short: mt-bench-easy 20/28)"
    assert res["comparability"]["short"] == {"mt-bench-easy": {"rows": 20, "published": 28}}

    res = evaluate(tiny_rm, base / "build", tmp_path / "r-sample", "--sample", "5")
    assert res["comparability"]["label"] == "partial overall (23/23 subsets, sampled: 5 rows per subset)"
    assert "--sample 5" in text("report", str(tmp_path / "r-sample"))


def test_a_file_without_build_json_has_unknown_sources():
    comp = assess("reward-bench", PUBLISHED_COUNTS, None, provenance="build.json")
    assert not comp["comparable"] and comp["provenance"] == "unknown"
    assert comp["label"] == "partial overall (23/23 subsets, sources unknown: no build.json)"


def test_the_published_split_itself_is_comparable_and_the_raw_split_is_not():
    assert assess("reward-bench", PUBLISHED_COUNTS, {}, provenance="published split")["label"] == "RewardBench overall"
    raw = {**PUBLISHED_COUNTS, "donotanswer": 939}
    assert assess("reward-bench", raw, {}, provenance="published split")["label"] == (
        "partial overall (23/23 subsets, over size: donotanswer 939/136)")
    rb2 = {"Factuality": 475, "Precise IF": 160, "Math": 183, "Safety": 450, "Focus": 495, "Ties": 102}
    assert assess("reward-bench-2", rb2, {}, provenance="published split")["label"] == "RewardBench 2 overall"
    assert assess("reward-bench-2", {**rb2, "Ties": 0}, {}, provenance="published split")["label"] == (
        "partial overall (5/6 subsets)")
