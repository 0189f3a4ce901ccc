import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest
from rbkit.curation.errors import SourceHashError, SourceMissingError, SourceRowError
from rbkit.curation.pipeline import BuildContext, BuildOptions, SubsetOutcome, run_steps
from rbkit.curation.registry import get
from rbkit.curation.rows import DroppedRow, TrioRow
from rbkit.curation.sources import git_blob_sha1, resolve, sha256_file
from rbkit.subsets import mtbench as mt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURE_MODELS = ("alpaca-13b", "gpt-4", "llama-13b", "vicuna-7b-v1.3", "Llama-2-7b-chat")
BAND = {b.subset: b for b in mt.BANDS}


def fixture_sources(root: Path = FIXTURES) -> mt.MTBenchSources:
    """The real SourceFiles re-pinned to the hand-written fixtures (same layout and pin kinds:
    sha256 for GitHub files, git blob id for the judgments, no hash for the space's Llama-2)."""
    answers = []
    for model in FIXTURE_MODELS:
        if model in mt.SPACE_ONLY_ANSWERS:
            answers.append((model, mt.space_answer(model)))
        else:
            src = mt.mirrored_answer(model)
            answers.append((model, replace(src, sha256=sha256_file(root / src.mirror_path), size=None)))
    return mt.MTBenchSources(
        questions=replace(mt.QUESTIONS, sha256=sha256_file(root / mt.QUESTIONS.mirror_path), size=None),
        judgments=replace(mt.JUDGMENTS, git_sha1=git_blob_sha1(root / mt.JUDGMENTS.mirror_path)),
        answers=tuple(sorted(answers)),
    )


@pytest.fixture
def fixture_mirror(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RBKIT_SOURCES", str(FIXTURES))
    return FIXTURES


def copy_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "mtbench", tmp_path / "mtbench")
    monkeypatch.setenv("RBKIT_SOURCES", str(tmp_path))
    return tmp_path


def build(subset: str, options: BuildOptions | None = None, sources: mt.MTBenchSources | None = None) -> SubsetOutcome:
    band = BAND[subset]
    ctx = BuildContext(subset, options or BuildOptions())
    produced = mt.build_band(band, sources or fixture_sources(), ctx)
    return run_steps(subset, produced, mt.steps_for(band), ctx, time.perf_counter)


def pairs(outcome: SubsetOutcome) -> list[tuple[int, str, str]]:
    return [(r.provenance.extra_dict()["question_id"], r.chosen_model, r.rejected_model) for r in outcome.rows]


def test_easy_pairs_grade_10_over_1_once_per_question(fixture_mirror):
    outcome = build("mt-bench-easy")
    got = pairs(outcome)
    assert [q for q, _, _ in got] == [81, 82]  # 84's only candidate is a refusal; 111 is graded by another judge
    assert got[0] == (81, "gpt-4", "alpaca-13b")
    assert got[1][:2] == (82, "gpt-4") and got[1][2] in ("alpaca-13b", "llama-13b")
    other = [d for d in outcome.dropped if d.step == "one_per_question"]
    assert len(other) == 1 and other[0].reason == "another pair for this question was kept"


def test_medium_and_hard_bands_use_inclusive_half_point_bounds(fixture_mirror):
    assert pairs(build("mt-bench-med")) == [(81, "Llama-2-7b-chat", "llama-13b"), (83, "gpt-4", "alpaca-13b")]
    hard = build("mt-bench-hard")
    assert [q for q, _, _ in pairs(hard)] == [83]
    assert pairs(hard)[0][1] == "vicuna-7b-v1.3" and pairs(hard)[0][2] in ("alpaca-13b", "Llama-2-7b-chat")


def test_rows_carry_the_turn1_texts_and_the_grades(fixture_mirror):
    row = build("mt-bench-easy").rows[0]
    question = json.loads((FIXTURES / "mtbench/question.jsonl").read_text().splitlines()[0])
    answers = {
        m: json.loads((FIXTURES / f"mtbench/model_answer/{m}.jsonl").read_text().splitlines()[0]) for m in ("gpt-4", "alpaca-13b")
    }
    assert row.prompt == question["turns"][0]
    assert row.chosen == answers["gpt-4"]["choices"][0]["turns"][0]
    assert row.rejected == answers["alpaca-13b"]["choices"][0]["turns"][0]
    extra = row.provenance.extra_dict()
    assert (extra["chosen_score"], extra["rejected_score"], extra["judge"]) == (10.0, 1.0, ["gpt-4", "single-v1"])
    assert row.provenance.sha256 == sha256_file(FIXTURES / mt.JUDGMENTS.mirror_path)
    assert row.provenance.row_key == "mt_bench#q81:gpt-4>alpaca-13b"


def test_judgment_bookkeeping_is_reported(fixture_mirror):
    report = build("mt-bench-easy").report["mtbench"]
    assert report["judgments"] == {"rows": 25, "other_judge_or_turn": 3, "ungraded": 1}
    assert report["conflicting_grades"] == 1  # vicuna on question 82 graded 6 and 2
    assert report["graded_turn1"] == 18
    assert report["judged_models_without_answers"] == []


def test_the_chosen_refusal_is_dropped_not_paired(fixture_mirror):
    dropped = [d for d in build("mt-bench-easy").dropped if d.step.startswith("filter:no_refusal")]
    assert [d.row["provenance"]["row_key"] for d in dropped] == ["mt_bench#q84:gpt-4>alpaca-13b"]


def test_the_seed_picks_among_a_questions_candidates(fixture_mirror):
    seen = {pairs(build("mt-bench-easy", BuildOptions(seed=s)))[1][2] for s in range(12)}
    assert seen == {"alpaca-13b", "llama-13b"}


def test_published_size_selection_and_override(fixture_mirror):
    assert len(build("mt-bench-easy", BuildOptions(target_size=1)).rows) == 1
    assert len(build("mt-bench-easy").rows) == 2  # fewer survivors than 28: all kept


def test_an_answer_that_is_not_the_graded_one_is_a_source_error(tmp_path, monkeypatch):
    root = copy_mirror(tmp_path, monkeypatch)
    path = root / "mtbench/model_answer/Llama-2-7b-chat.jsonl"
    lines = path.read_text().splitlines()
    rec = json.loads(lines[0])
    rec["choices"][0]["turns"][0] = rec["choices"][0]["turns"][0].replace("Welcome aboard", "Hello there")
    lines[0] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceRowError, match=r"Llama-2-7b-chat.jsonl:1 choices\[0\].turns\[0\]: is not the answer GPT-4 graded"):
        build("mt-bench-med", sources=fixture_sources(root))
    outcome = build("mt-bench-med", BuildOptions(keep_going=True), fixture_sources(root))
    assert pairs(outcome) == [(83, "gpt-4", "alpaca-13b")]
    assert [d.location for d in outcome.dropped if d.step == "source"] == [
        "mtbench/model_answer/Llama-2-7b-chat.jsonl:1 choices[0].turns[0]"
    ]


def test_a_changed_judgment_file_fails_its_git_blob_pin(tmp_path, monkeypatch):
    sources = fixture_sources()
    root = copy_mirror(tmp_path, monkeypatch)
    path = root / mt.JUDGMENTS.mirror_path
    path.write_text(path.read_text().replace('"score": 9,', '"score": 10,', 1))
    with pytest.raises(SourceHashError, match="git blob sha1 mismatch"):
        resolve(sources.judgments)


def test_malformed_judgment_rows_name_file_row_and_field(tmp_path, monkeypatch):
    root = copy_mirror(tmp_path, monkeypatch)
    path = root / mt.JUDGMENTS.mirror_path
    lines = path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["score"] = "ten"
    lines[1] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceRowError, match=r"mtbench/model_judgment/gpt-4_single.jsonl:2 score: expected a number"):
        build("mt-bench-easy", sources=fixture_sources(root))


def test_a_graded_model_without_answers_is_reported_and_skipped(fixture_mirror):
    full = fixture_sources()
    without_llama2 = replace(full, answers=tuple(a for a in full.answers if a[0] != "Llama-2-7b-chat"))
    ctx = BuildContext("mt-bench-med", BuildOptions())
    items = list(mt.build_band(BAND["mt-bench-med"], without_llama2, ctx))
    assert [(r.chosen_model, r.rejected_model) for r in items if isinstance(r, TrioRow)] == [("gpt-4", "alpaca-13b")]
    joins = [d for d in items if isinstance(d, DroppedRow) and d.step == "join"]
    assert len(joins) == 1 and "Llama-2-7b-chat" in joins[0].evidence
    assert ctx.report["mtbench"]["judged_models_without_answers"] == ["Llama-2-7b-chat"]


def test_builds_are_identical_across_runs(fixture_mirror):
    a, b = build("mt-bench-hard"), build("mt-bench-hard")
    assert [r.to_record() for r in a.rows] == [r.to_record() for r in b.rows]
    assert [d.to_record() for d in a.dropped] == [d.to_record() for d in b.dropped]


def test_registered_subsets_pin_every_upstream_file():
    specs = {b.subset: get(b.subset) for b in mt.BANDS}
    assert {k: (s.expected, s.section) for k, s in specs.items()} == {
        "mt-bench-easy": (28, "Chat"),
        "mt-bench-med": (40, "Chat"),
        "mt-bench-hard": (37, "Chat Hard"),
    }
    sources = specs["mt-bench-easy"].sources
    assert len(sources) == 2 + 31 + 3
    judgments = next(s for s in sources if s.name == "mtbench/gpt-4_single")
    assert judgments.kind == "hub-space" and judgments.git_sha1 == "27e87565ea0206b6fbe7987d9c2220257b90b1f2"
    llama = [s for s in sources if "Llama-2" in s.name]
    assert len(llama) == 3 and all(s.kind == "hub-space" and s.pinned_by and not s.sha256 for s in llama)


def test_the_mirror_says_exactly_which_files_are_missing(mirror):
    with pytest.raises(SourceMissingError) as err:
        list(get("mt-bench-easy").build(BuildContext("mt-bench-easy", BuildOptions())))
    message = str(err.value)
    assert message.startswith("MT-Bench needs 4 file(s) that are not available; nothing was built.")
    for name in ("mtbench/gpt-4_single", "mtbench/answer/Llama-2-7b-chat", "mtbench/answer/Llama-2-13b-chat", "mtbench/answer/Llama-2-70b-chat"):
        assert f"source '{name}' is missing" in message
    assert message.count("is missing") == 4  # the 32 mirrored files resolve and verify
    assert "git blob 27e87565ea0206b6fbe7987d9c2220257b90b1f2" in message


def test_the_build_runner_skips_mtbench_and_records_why(mirror, tmp_path):
    from rbkit.curation.build import run_build
    from rbkit.curation.registry import select

    result = run_build(select(["mt-bench-hard"]), tmp_path / "out", BuildOptions(), allow_missing=True)
    assert result.outcomes == [] and [m.subset for m in result.missing] == ["mt-bench-hard"]
    assert "mtbench/gpt-4_single" in result.manifest["missing"]["mt-bench-hard"]
    with pytest.raises(SourceMissingError, match="cannot build mt-bench-hard"):
        run_build(select(["mt-bench-hard"]), tmp_path / "out2", BuildOptions())


def test_git_blob_pin_is_what_git_computes():
    import subprocess

    path = FIXTURES / mt.JUDGMENTS.mirror_path
    expected = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True, check=True).stdout.strip()
    assert git_blob_sha1(path) == expected


def test_a_source_needs_some_pin():
    with pytest.raises(ValueError, match="give sha256, git_sha1 or pinned_by"):
        replace(mt.JUDGMENTS, git_sha1=None)


def test_mirror_check_lists_the_unhashed_files_as_absent(mirror):
    from rbkit.curation.sources import check_mirror

    results = {r.relpath: r for r in check_mirror(mirror, get("mt-bench-easy").sources)}
    judged = results["mtbench/model_judgment/gpt-4_single.jsonl"]
    assert (judged.status, judged.expected) == ("absent", "git blob 27e87565ea0206b6fbe7987d9c2220257b90b1f2")
    assert results["mtbench/model_answer/Llama-2-7b-chat.jsonl"].status == "absent"
    assert results["mtbench/model_answer/gpt-4.jsonl"].status == "ok"
