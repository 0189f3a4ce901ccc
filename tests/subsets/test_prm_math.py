import dataclasses
import http.server
import json
import shutil
import threading
import time
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from rbkit.curation.build import run_build
from rbkit.curation.errors import SourceHashError, SourceMissingError, SourceRowError
from rbkit.curation.pipeline import BuildContext, BuildOptions, run_steps
from rbkit.curation.registry import get
from rbkit.curation.sources import SourceFile, fetch, resolve, sha256_file
from rbkit.subsets import prm_math

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prm800k"
PHASE2_FIXTURE = FIXTURES / "prm800k" / "data" / "phase2_test.jsonl"
MATH_FIXTURE = FIXTURES / "prm800k" / "math_splits" / "test.jsonl"
MALFORMED = FIXTURES / "malformed"

# Keys of one phase-2 line as documented in openai/prm800k's README.
TOP_KEYS = {
    "labeler",
    "timestamp",
    "generation",
    "is_quality_control_question",
    "is_initial_screening_question",
    "question",
    "label",
}
QUESTION_KEYS = {
    "problem",
    "ground_truth_solution",
    "ground_truth_answer",
    "pre_generated_steps",
    "pre_generated_answer",
    "pre_generated_verifier_score",
}
LABEL_KEYS = {"steps", "total_time", "finish_reason"}
STEP_KEYS = {"completions", "human_completion", "chosen_completion"}
COMPLETION_KEYS = {"text", "rating", "flagged"}


def fixture_sources(root: Path = FIXTURES):
    """The real SourceFiles, re-pinned to the fixture bytes (so resolve still checks hashes)."""
    phase2 = root / prm_math.PHASE2_TEST.mirror_path
    math = FIXTURES / prm_math.MATH_TEST.mirror_path
    return (
        dataclasses.replace(
            prm_math.PHASE2_TEST, sha256=sha256_file(phase2), size=phase2.stat().st_size
        ),
        dataclasses.replace(prm_math.MATH_TEST, sha256=sha256_file(math), size=math.stat().st_size),
    )


@pytest.fixture
def fixture_mirror(monkeypatch):
    monkeypatch.setenv("RBKIT_SOURCES", str(FIXTURES))
    return FIXTURES


def build(options: BuildOptions | None = None):
    phase2, math = fixture_sources()
    ctx = BuildContext(subset=prm_math.SUBSET, options=options or BuildOptions())
    return run_steps(
        prm_math.SUBSET,
        prm_math.candidates(phase2, math, ctx),
        prm_math.STEPS,
        ctx,
        time.perf_counter,
    )


@pytest.fixture(scope="module")
def outcome():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RBKIT_SOURCES", str(FIXTURES))
        return build()


def test_fixture_lines_have_the_upstream_keys():
    for line in PHASE2_FIXTURE.read_text().splitlines():
        rec = json.loads(line)
        assert set(rec) == TOP_KEYS
        assert set(rec["question"]) == QUESTION_KEYS
        assert set(rec["label"]) == LABEL_KEYS
        for step in rec["label"]["steps"]:
            assert set(step) == STEP_KEYS
            assert all(set(c) == COMPLETION_KEYS for c in step["completions"])
    for line in MATH_FIXTURE.read_text().splitlines():
        assert set(json.loads(line)) == {
            "problem",
            "solution",
            "answer",
            "subject",
            "level",
            "unique_id",
        }


def test_registration_matches_the_published_subset():
    spec = get("math-prm")
    assert (
        spec.section,
        spec.source,
        spec.license,
        spec.expected,
        spec.weight,
        spec.verification,
    ) == (
        "Reasoning",
        "prm800k",
        "MIT",
        447,
        984,
        "math",
    )
    assert [s.kind for s in spec.sources] == ["github-lfs", "github-lfs"]
    assert prm_math.PHASE2_TEST.url == (
        "https://media.githubusercontent.com/media/openai/prm800k/"
        "00811d6de065642a6967b9017d4cee59550c0ef4/prm800k/data/phase2_test.jsonl"
    )
    assert [s.name for s in spec.steps] == [
        "found-error",
        "verify:math",
        "one-per-problem",
        "select",
    ]


def test_one_verified_pair_per_problem(outcome):
    kept = outcome.rows
    assert sorted(json.loads(r.provenance.extra)["unique_id"] for r in kept) == [
        "test/algebra/9003.json",
        "test/number_theory/9002.json",
        "test/number_theory/9004.json",
        "test/prealgebra/9001.json",
    ]
    by_problem = {json.loads(r.provenance.extra)["unique_id"]: r for r in kept}
    assert by_problem["test/number_theory/9002.json"].rejected.endswith("# Answer\n\n21")
    assert by_problem["test/algebra/9003.json"].rejected.endswith("# Answer\n\n-2, 3")
    assert by_problem["test/number_theory/9004.json"].rejected.endswith("# Answer\n\n1770_8")


def test_pair_fields_and_provenance(outcome):
    row = next(r for r in outcome.rows if "9002" in r.provenance.extra)
    assert row.prompt == "What is the greatest common divisor of $84$ and $126$?"
    assert row.chosen.endswith("\\boxed{42}$.")
    assert (row.chosen_model, row.rejected_model, row.subset) == ("human", "GPT-4", "math-prm")
    assert row.rejected.startswith("I use the Euclidean algorithm.\n$126 = 84")
    prov = row.provenance
    assert prov.row_key == "prm800k/data/phase2_test.jsonl#5"
    assert prov.upstream_file == "prm800k/data/phase2_test.jsonl"
    assert prov.revision == prm_math.REVISION
    extra = json.loads(prov.extra)
    assert (
        extra["reference_answer"] == "42"
        and extra["math_row_key"] == "prm800k/math_splits/test.jsonl#1"
    )
    assert extra["finish_reason"] == "found_error" and extra["first_error_step"] == 1
    assert prov.filters_passed == ("found-error",)
    assert [(v.side, v.verdict) for v in prov.verification] == [
        ("chosen", "equal"),
        ("rejected", "unequal"),
    ]


def test_every_other_candidate_is_dropped_with_a_reason(outcome):
    reasons = Counter((d.step, d.reason) for d in outcome.dropped)
    assert reasons == Counter(
        {
            (
                "join",
                "problem is not one of the MATH test problems in prm800k/math_splits/test.jsonl",
            ): 1,
            ("filter:found-error", "labeler finish_reason is 'solution', not 'found_error'"): 1,
            ("filter:found-error", "labeler finish_reason is 'give_up', not 'found_error'"): 1,
            ("verify:math", "rejected answer equals the reference"): 2,
            ("verify:math", "rejected: no final answer found"): 1,
            ("one-per-problem", "same generation as another row"): 1,
            ("one-per-problem", "another generation was picked for this problem"): 1,
        }
    )
    equal = [
        json.loads(d.evidence)
        for d in outcome.dropped
        if d.reason == "rejected answer equals the reference"
    ]
    assert sorted(e["rejected"]["extracted"] for e in equal) == ["1750", "42"]
    assert outcome.report["candidates"] == 12 - 1  # the join drop is not a pair candidate


def test_the_seed_picks_the_generation_and_rebuilds_are_identical(fixture_mirror, outcome):
    def pick(rows) -> str:
        return next(r.provenance.row_key for r in rows if "9001" in r.provenance.extra)

    picks = {pick(build(BuildOptions(seed=seed)).rows) for seed in range(1, 7)}
    assert picks == {"prm800k/data/phase2_test.jsonl#0", "prm800k/data/phase2_test.jsonl#1"}
    again = build()
    assert [r.to_record() for r in again.rows] == [r.to_record() for r in outcome.rows]
    assert [d.to_record() for d in again.dropped] == [d.to_record() for d in outcome.dropped]


def test_select_caps_the_published_size(fixture_mirror):
    assert len(build(BuildOptions(target_size=2)).rows) == 2


def test_malformed_line_names_file_row_and_field(monkeypatch):
    monkeypatch.setenv("RBKIT_SOURCES", str(MALFORMED))
    phase2, math = fixture_sources(MALFORMED)
    math = dataclasses.replace(math, mirror_path="../" + math.mirror_path)  # the good MATH fixture
    strict = BuildContext(subset="math-prm", options=BuildOptions())
    with pytest.raises(SourceRowError, match=r"phase2_test.jsonl:2 question.pre_generated_steps"):
        list(prm_math.candidates(phase2, math, strict))
    lenient = BuildContext(subset="math-prm", options=BuildOptions(keep_going=True))
    items = list(prm_math.candidates(phase2, math, lenient))
    assert [getattr(i, "location", None) for i in items[1:]] == [
        "prm800k/data/phase2_test.jsonl:2 question.pre_generated_steps",
        "prm800k/data/phase2_test.jsonl:3 <json>",
    ]
    assert items[0].provenance.row_key == "prm800k/data/phase2_test.jsonl#0"


def test_missing_phase2_file_fails_clearly_and_builds_nothing(mirror, tmp_path):
    assert not (mirror / prm_math.PHASE2_TEST.mirror_path).exists()
    ctx = BuildContext(subset="math-prm", options=BuildOptions())
    with pytest.raises(SourceMissingError) as err:
        list(get("math-prm").build(ctx))
    message = str(err.value)
    assert "prm800k/data/phase2_test.jsonl" in message
    assert prm_math.PHASE2_TEST.sha256 in message
    assert "media.githubusercontent.com" in message
    out = tmp_path / "out"
    with pytest.raises(SourceMissingError, match="math-prm"):
        run_build([get("math-prm")], out, BuildOptions())
    assert not out.exists()


def test_math_reference_file_in_the_mirror_is_the_pinned_one(mirror):
    path = prm_math.resolve(prm_math.MATH_TEST)
    problems = prm_math.read_math_problems(path, prm_math.MATH_TEST.mirror_path)
    assert len(problems) == 500


def test_build_folder_from_fixtures_passes_the_schema(fixture_mirror, tmp_path):
    phase2, math = fixture_sources()
    spec = dataclasses.replace(
        get("math-prm"),
        sources=(phase2, math),
        build=lambda ctx: prm_math.candidates(phase2, math, ctx),
    )
    result = run_build([spec], tmp_path / "out", BuildOptions())
    summary = result.manifest["subsets"]["math-prm"]
    assert (summary["built"], summary["expected"], summary["weight"]) == (4, 447, 984)
    assert summary["dropped_by_step"]["verify:math"] == 3
    assert (tmp_path / "out" / "data" / "math-prm.parquet").is_file()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def lfs_host(tmp_path, monkeypatch):
    """A local stand-in for media.githubusercontent.com with GitHub's LFS media path layout."""
    revision_dir = tmp_path / "www" / "media" / prm_math.REPO / prm_math.REVISION
    for src, fixture in (
        (prm_math.PHASE2_TEST, PHASE2_FIXTURE),
        (prm_math.MATH_TEST, MATH_FIXTURE),
    ):
        (revision_dir / src.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(fixture, revision_dir / src.path)
    handler = partial(_Quiet, directory=str(tmp_path / "www"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    real_url = SourceFile.url.fget
    host = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(
        SourceFile,
        "url",
        property(lambda s: real_url(s).replace("https://media.githubusercontent.com", host)),
    )
    monkeypatch.delenv("RBKIT_SOURCES", raising=False)
    yield revision_dir
    server.shutdown()


def test_fetch_downloads_the_lfs_objects_into_the_cache_and_the_builder_reads_them(lfs_host):
    phase2, math = fixture_sources()
    path = fetch(phase2)
    assert path.read_bytes() == PHASE2_FIXTURE.read_bytes()
    assert resolve(phase2) == path  # no mirror set: the verified cache copy is used
    fetch(math)
    ctx = BuildContext(subset=prm_math.SUBSET, options=BuildOptions())
    items = list(prm_math.candidates(phase2, math, ctx))
    assert sum(1 for r in items if not hasattr(r, "location")) == 11


def test_fetch_refuses_an_lfs_pointer_served_instead_of_the_object(lfs_host):
    pointer = (
        "version https://git-lfs.github.com/spec/v1\n"
        f"oid sha256:{prm_math.PHASE2_TEST.sha256}\nsize {prm_math.PHASE2_TEST.size}\n"
    )
    (lfs_host / prm_math.PHASE2_TEST.path).write_text(pointer)
    with pytest.raises(SourceHashError, match=prm_math.PHASE2_TEST.sha256):
        fetch(prm_math.PHASE2_TEST)
    with pytest.raises(SourceMissingError):
        resolve(prm_math.PHASE2_TEST)  # nothing was cached
