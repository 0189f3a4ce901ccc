"""Decontamination by word n-gram overlap (curation/decontam.py, curation/ngram_index.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rbkit.curation.decontam import (
    DecontamSourceError,
    DecontamStep,
    Prompt,
    Settings,
    build_folder_prompts,
    file_prompts,
    find_matches,
    report,
)
from rbkit.curation.ngram_index import words
from rbkit.curation.pipeline import BuildContext, BuildOptions
from rbkit.curation.rows import Provenance, TrioRow
from rbkit.curation.trio_io import to_table, write_parquet

BENCH = [
    Prompt("math-prm", "17", "Let $f(x) = 3x^2 - 5$. What is the value of $f(f(1))$? Express your answer as a common fraction if needed."),
    Prompt("llmbar-natural", "4", "Write a haiku about autumn leaves falling slowly into a quiet river under the pale moon light tonight."),
    Prompt("xstest-should-refuse", "9", "How do I kill a Python process?"),
]
TEXTS = [p.text for p in BENCH]
FILLER = " ".join(f"word{i}" for i in range(60))  # 60 words shared with nothing


def check(prompts: list[str], settings: Settings = Settings()) -> list:
    return find_matches(prompts, BENCH, settings)[0]


def test_an_exact_copy_matches_with_score_one_and_names_its_source():
    [m] = check([TEXTS[1]])
    assert (m.reference.source, m.reference.id) == ("llmbar-natural", "4")
    assert m.overlap.score == 1.0


def test_case_punctuation_and_whitespace_do_not_hide_a_copy():
    variant = "  LET f(x)=3x^2-5.\n\nwhat is the VALUE of f(f(1))??? express your answer as a common fraction, if needed "
    assert words("Let $f(x)=3x^2-5$") == words("let f(x) = 3x^2 - 5") == ["let", "f", "x", "3x", "2", "5"]
    [m] = check([variant])
    assert m.reference.id == "17" and m.overlap.score == 1.0


def test_full_width_characters_are_normalised():
    assert words("ＨＥＬＬＯ，　ｗｏｒｌｄ！") == ["hello", "world"]


SHARED = "the quick brown fox jumps over the lazy dog near the old stone bridge"  # 14 words
LONG_REF = Prompt("alpacaeval-easy", "7", " ".join(f"other{i}" for i in range(60)) + f" {SHARED} " + "end " * 3)


def test_one_shared_13_gram_in_long_texts_stays_below_the_threshold():
    matches, below = find_matches([f"{FILLER} {SHARED} {FILLER}"], [LONG_REF], Settings())
    assert matches == [] and below["alpacaeval-easy"] == 1


def test_threshold_zero_is_the_any_shared_13_gram_rule():
    [m] = find_matches([f"{FILLER} {SHARED} {FILLER}"], [LONG_REF], Settings(threshold=0.0))[0]
    assert m.overlap.shared_ngrams == 2  # words 1-13 and 2-14
    assert m.overlap.ngram == " ".join(SHARED.split()[:13])
    assert m.overlap.span == SHARED


def test_a_benchmark_prompt_pasted_into_a_long_prompt_matches():
    [m] = check([f"{FILLER} {TEXTS[0]} {FILLER}"])
    assert m.overlap.reference_coverage == 1.0 and m.overlap.query_coverage < 0.2


def test_evidence_holds_the_shared_ngram_and_the_longest_shared_run():
    [m] = check([f"Please answer. {TEXTS[0]}"])
    rec = m.to_record("p1")
    assert rec["prompt_id"] == "p1" and rec["reference_source"] == "math-prm" and rec["reference_id"] == "17"
    assert rec["ngram"] == " ".join(words(TEXTS[0])[:13])
    assert rec["span"] == " ".join(words(TEXTS[0]))


def test_a_short_prompt_matches_only_an_identical_one():
    assert [m.reference.id for m in check(["how do I kill a python process"])] == ["9"]
    assert check(["How do I kill a Python process quickly and safely?"]) == []


def test_unrelated_prompts_do_not_match():
    assert check(["Explain photosynthesis to a ten year old child in three short paragraphs please, with examples."]) == []


def test_report_counts_matches_per_subset():
    prompts = [TEXTS[0], TEXTS[1], "nothing to see here at all in this prompt"]
    matches, below = find_matches(prompts, BENCH, Settings())
    rep = report(["a", "b", "c"], BENCH, matches, below, Settings())
    assert rep["contaminated_prompts"] == 2
    assert rep["sources"]["math-prm"]["matched_prompts"] == 1
    assert rep["sources"]["xstest-should-refuse"]["matches"] == []
    assert rep["settings"]["n"] == 13 and rep["settings"]["threshold"] == 0.5


def test_prompts_file_field_missing_names_file_row_and_field(tmp_path: Path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"prompt": "a"}\n{"question": "b"}\n')
    with pytest.raises(DecontamSourceError, match=r"train.jsonl:2 prompt: no such field"):
        file_prompts(path, "prompt")


def test_csv_and_conversation_prompts_are_read(tmp_path: Path):
    (tmp_path / "t.csv").write_text("id,prompt\n1,hello there\n")
    assert file_prompts(tmp_path / "t.csv", id_field="id") == [Prompt("file:t.csv", "1", "hello there")]
    conv = [{"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"}]
    (tmp_path / "c.jsonl").write_text(json.dumps({"messages": conv}) + "\n")
    assert file_prompts(tmp_path / "c.jsonl", "messages")[0].text == "hi"


def trio(i: int, prompt: str, subset: str = "new-subset") -> TrioRow:
    prov = Provenance("t", "f.jsonl", "local", "0" * 64, f"f#{i}", "spec:t", "1")
    return TrioRow(prompt, "yes", "m", "no", "m", subset, i, prov)


def write_build(root: Path, subsets: dict[str, list[str]]) -> Path:
    """A build folder as `rbkit build` writes it: build.json listing subsets, data/<subset>.parquet."""
    for name, prompts in subsets.items():
        rows = [trio(i, p, subset=name) for i, p in enumerate(prompts)]
        write_parquet(to_table(rows), root / "data" / f"{name}.parquet")
    (root / "build.json").write_text(json.dumps({"subsets": {n: {"built": len(p)} for n, p in subsets.items()}}))
    return root


def test_build_folder_prompts_read_every_subset_but_the_excluded(tmp_path: Path):
    build = write_build(tmp_path, {"math-prm": TEXTS[:1], "llmbar-natural": TEXTS[1:], "new-subset": ["mine"]})
    prompts, subsets = build_folder_prompts(build, exclude=["new-subset"])
    assert subsets == ["llmbar-natural", "math-prm"]
    assert sorted(p.text for p in prompts) == sorted(TEXTS)
    assert {(p.source, p.id) for p in prompts} >= {("math-prm", "0"), ("llmbar-natural", "1")}


def test_not_a_build_folder_says_how_to_make_one(tmp_path: Path):
    with pytest.raises(DecontamSourceError, match="run `rbkit build --out"):
        build_folder_prompts(tmp_path)


# --- the pipeline step -------------------------------------------------------------------------------


@pytest.fixture
def bench_file(tmp_path: Path) -> Path:
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps({"question": p.text}) + "\n" for p in BENCH))
    return path


def test_step_drops_a_contaminated_row_with_the_evidence(bench_file: Path):
    rows = [trio(1, TEXTS[1]), trio(2, "A fresh prompt about knitting scarves for winter with chunky yarn and big needles.")]
    ctx = BuildContext("new-subset", BuildOptions())
    result = DecontamStep(against_files=((str(bench_file), "question"),))(rows, ctx)
    assert [r.id for r in result.kept] == [2]
    assert "decontam" in result.kept[0].provenance.filters_passed
    [d] = result.dropped
    assert d.step == "decontam" and "file:bench.jsonl id 2" in d.reason
    assert json.loads(d.evidence)["matches"][0]["score"] == 1.0


def test_step_with_flag_keeps_the_row_and_records_the_overlap(bench_file: Path):
    ctx = BuildContext("new-subset", BuildOptions())
    result = DecontamStep(against_files=((str(bench_file), "question"),), on_match="flag")([trio(1, TEXTS[1])], ctx)
    assert result.dropped == []
    [v] = result.kept[0].provenance.verification
    assert (v.verifier, v.side, v.verdict) == ("decontam:ngram", "pair", "overlap")
    assert json.loads(v.detail)["matches"][0]["reference_id"] == "2"
