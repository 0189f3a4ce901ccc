"""Result folders through the CLI: schema-valid results.json, scores.parquet, report, compare."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rbkit.curation.build import write_build
from rbkit.curation.rows import Provenance, TrioRow, stable_id
from rbkit.eval.errors import ResultsError
from rbkit.eval.results import validate
from typer.testing import CliRunner

from rbkit import schemas
from rbkit.cli import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=True)
    return result


@pytest.fixture(scope="module")
def two_results(tiny_rm, tiny_lm, rows_70, tmp_path_factory):
    base = tmp_path_factory.mktemp("results")
    a, b = base / "a", base / "b"
    with pytest.MonkeyPatch.context() as mp:  # module scope runs before the per-test cache isolation
        mp.setenv("RBKIT_CACHE", str(base / "cache"))
        return _run_two(tiny_rm, tiny_lm, rows_70, a, b)


def _run_two(tiny_rm, tiny_lm, rows_70, a, b):
    r1 = invoke("eval", "--model", str(tiny_rm), "--dataset", str(rows_70), "--out", str(a), "--bootstrap", "200", "--quiet")
    assert r1.exit_code == 0, r1.output + repr(r1.exception)
    r2 = invoke("eval", "--model", str(tiny_lm), "--kind", "dpo", "--dataset", str(rows_70), "--out", str(b),
                "--bootstrap", "200", "--quiet")
    assert r2.exit_code == 0, r2.output + repr(r2.exception)
    return a, b


def test_results_json_validates_and_says_what_was_run(two_results, tiny_rm):
    a, _ = two_results
    res = json.loads((a / "results.json").read_text())
    errors = list(schemas.validator("results").iter_errors(res))
    assert not errors, errors[:3]
    assert res["model"]["path"] == str(tiny_rm.resolve()) and len(res["model"]["fingerprint"]) == 64
    assert res["kind"] == "classifier" and res["config"]["head"] == "classifier"
    assert res["rendering"]["template"] == "tokenizer" and res["dtype"] == "float32"
    assert {"torch", "transformers", "tokenizers", "python"} <= set(res["software"])
    sub = res["subsets"]["llmbar-natural"]
    assert sub["n"] == 23 and sub["ties"] == 0 and sub["truncated"] == 0 and len(sub["ci95"]) == 2
    assert set(res["overall"]) == {"mean_4_sections", "paper_v1_5_sections", "leaderboard_2_2_2_2_1"}


def test_scores_parquet_has_one_row_per_pair(two_results):
    a, _ = two_results
    table = pq.read_table(a / "scores.parquet")
    assert table.column_names[:5] == ["id", "subset", "score_chosen", "score_rejected", "correct"]
    d = table.to_pydict()
    assert len(d["id"]) == 70
    assert all(c == float(x > y) for c, x, y in zip(d["correct"], d["score_chosen"], d["score_rejected"], strict=True))


def test_schema_rejects_an_incomplete_result(two_results):
    a, _ = two_results
    res = json.loads((a / "results.json").read_text())
    del res["subsets"]["llmbar-natural"]["ci95"]
    res["overall"].pop("paper_v1_5_sections")
    with pytest.raises(ResultsError, match="ci95"):
        validate(res)


def test_report_prints_subsets_sections_and_overall(two_results):
    a, _ = two_results
    result = invoke("report", str(a))
    assert result.exit_code == 0, result.output
    for text in ("llmbar-natural", "Chat Hard", "mean_4_sections", "paper_v1_5_sections", "leaderboard_2_2_2_2_1"):
        assert text in result.output


def test_compare_pairs_the_same_ids(two_results, tmp_path):
    a, b = two_results
    out = tmp_path / "cmp.json"
    result = invoke("compare", str(a), str(b), "--json", str(out), "--resamples", "300")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "McNemar" in result.output
    cmp = json.loads(out.read_text())
    assert cmp["pairs"] == 70 and cmp["only_in_a"] == 0
    for s in cmp["subsets"].values():
        assert 0.0 <= s["p_mcnemar"] <= 1.0 and s["delta"] == pytest.approx(s["a"] - s["b"])
    same = invoke("compare", str(a), str(a), "--resamples", "100")
    assert same.exit_code == 0 and "+0.0" in same.output


def test_bad_input_prints_one_clear_line(tmp_path, tiny_rm):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "p", "chosen": "a", "subset": "s"}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "rbkit", "eval", "--model", str(tiny_rm), "--dataset", str(bad),
                           "--quiet"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "error:" in proc.stderr and "missing column(s) rejected" in proc.stderr and "Traceback" not in proc.stderr


def _row(subset: str, i: int) -> TrioRow:
    prov = Provenance("src", "f.json", "a" * 40, "0" * 64, f"f#{i}", "tests", "1")
    return TrioRow(f"What is {i} + {i}?", f"It is {2 * i}.", "m", f"blue {i}", "m", subset, stable_id(subset, str(i)), prov)


def test_build_folder_with_an_empty_subset_scores_the_rest(tmp_path, tiny_rm):
    out = tmp_path / "build"
    manifest = {"format": 1, "rbkit_version": "0", "subsets": {
        "llmbar-natural": {"section": "Chat Hard", "weight": None}, "donotanswer": {"section": "Safety", "weight": None}}}
    write_build(out, {"llmbar-natural": [_row("llmbar-natural", i) for i in range(8)], "donotanswer": []}, [], manifest,
                None, {"llmbar-natural": "Chat Hard", "donotanswer": "Safety"})
    result = invoke("eval", "--model", str(tiny_rm), "--dataset", str(out), "--out", str(tmp_path / "res"), "--bootstrap", "50")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "donotanswer has no rows" in result.output
    res = json.loads((tmp_path / "res" / "results.json").read_text())
    assert res["subsets"]["donotanswer"]["n"] == 0 and res["subsets"]["donotanswer"]["accuracy"] is None
    assert "Safety" not in res["sections"] and res["dataset"]["empty_subsets"] == ["donotanswer"]
    assert res["subsets"]["llmbar-natural"]["section_origin"] == "build.json"


def test_reward_bench_2_rows_score_best_of_n_and_ties(tmp_path, tiny_rm):
    rows = [
        {"id": "0", "prompt": "What is 2 + 2?", "chosen": ["4"], "rejected": ["5", "blue", "22"], "subset": "Math"},
        {"id": "1", "prompt": "Say hello", "chosen": ["hello"], "rejected": ["bye", "no", "yes"], "subset": "Focus"},
        {"id": "ref:0", "prompt": "Name a colour", "chosen": ["blue"], "rejected": ["4", "dog"], "subset": "Ties"},
        {"id": "tied:0", "prompt": "Name a colour", "chosen": ["blue", "red", "green"], "rejected": ["4", "dog"],
         "subset": "Ties"},
    ]
    path = tmp_path / "rb2.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = invoke("eval", "--model", str(tiny_rm), "--dataset", str(path), "--out", str(tmp_path / "r"),
                    "--bootstrap", "20", "--quiet")
    assert result.exit_code == 0, result.output + repr(result.exception)
    res = json.loads((tmp_path / "r" / "results.json").read_text())
    assert res["benchmark"] == "reward-bench-2" and set(res["overall"]) == {"rb2_mean_6_subsets"}
    assert res["subsets"]["Ties"]["metric"] == "ties-formula" and res["subsets"]["Ties"]["components"]["prompts"] == 1
    assert res["subsets"]["Math"]["metric"] == "best-of-n"
    d = pq.read_table(tmp_path / "r" / "scores.parquet").to_pydict()
    assert sorted(len(s) for s in d["scores"]) == [3, 4, 4, 5]


def test_scores_parquet_records_the_tokens_of_every_completion_as_scored(two_results):
    """The report's length-bias view needs per-completion token counts from real runs."""
    for folder in two_results:
        table = pq.read_table(folder / "scores.parquet").to_pylist()
        assert table and all(r["lengths"] is not None and len(r["lengths"]) == len(r["scores"]) for r in table)
        assert all(n > 0 for r in table for n in r["lengths"])
        assert len({tuple(r["lengths"]) for r in table}) > 1  # measured per pair, not a constant
