"""hep-* subsets: pairs from HumanEvalPack rows, kept only when execution verifies them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from rbkit.curation.build import run_build
from rbkit.curation.errors import ToolchainMissingError
from rbkit.curation.pipeline import BuildContext, BuildOptions, SelectStep
from rbkit.curation.rows import TrioRow
from rbkit.curation.validate import validate_path
from rbkit.subsets.humanevalpack import FILES, HepMaterial, rows_from, source_for
from rbkit.subsets.registry import SubsetSpec, select

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "humanevalpack"
LANGUAGES = ("python", "js", "java", "cpp", "go", "rust")


def fixture_spec(language: str, steps: tuple = ()) -> SubsetSpec:
    """A hep subset over the hand-written fixture file (its own hash) instead of the upstream one."""
    data = (FIXTURES / language / "humanevalpack.jsonl").read_bytes()
    src = source_for(language, hashlib.sha256(data).hexdigest(), len(data))
    src = dataclasses.replace(src, name=f"demo/{language}", mirror_path=f"humanevalpack/{language}/humanevalpack.jsonl")
    name = f"demo-hep-{language}"
    from rbkit.curation.verify.code import CodeVerifyStep

    return SubsetSpec(
        name=name,
        section="Reasoning",
        source="humanevalpack",
        license="MIT",
        expected=None,
        sources=(src,),
        build=lambda ctx: rows_from(name, language, src, ctx),
        steps=steps or (CodeVerifyStep(language, HepMaterial(language, src)), SelectStep(164)),
        verification="code",
    )


@pytest.fixture
def demo_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "mirror"
    shutil.copytree(FIXTURES, root / "humanevalpack")
    monkeypatch.setenv("RBKIT_SOURCES", str(root))
    return root


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verify-cache")


def test_six_subsets_are_registered_as_reasoning_code():
    specs = {s.name: s for s in select(["humanevalpack"])}
    assert sorted(specs) == sorted(f"hep-{lang}" for lang in FILES)
    for spec in specs.values():
        assert (spec.section, spec.license, spec.expected, spec.verification) == ("Reasoning", "MIT", 164, "code")
        [src] = spec.sources
        assert src.repo == "bigcode-project/octopack" and src.revision.startswith("e885822b")
        assert [step.name for step in spec.steps] == ["verify:code", "select"]


def test_rows_follow_the_upstream_fields(demo_mirror: Path, tmp_path: Path):
    result = run_build([fixture_spec("python")], tmp_path / "out", BuildOptions(skip_verify=True))
    up = [json.loads(line) for line in (FIXTURES / "python" / "humanevalpack.jsonl").read_text().splitlines()]
    rows = result.outcomes[0].rows
    assert [r.provenance.row_key for r in rows] == ["Python/0", "Python/1"]
    for row, rec in zip(rows, up, strict=True):
        assert row.prompt == rec["instruction"]
        assert row.chosen == rec["prompt"] + rec["canonical_solution"]
        assert row.rejected == rec["prompt"] + rec["buggy_solution"]
        assert (row.chosen_model, row.rejected_model) == ("human", "human (buggy)")
        assert json.loads(row.provenance.extra) == {
            "task_id": rec["task_id"],
            "bug_type": rec["bug_type"],
            "failure_symptoms": rec["failure_symptoms"],
        }
    assert result.manifest["subsets"]["demo-hep-python"]["report"]["steps"]["verify:code"]["skipped"] == "--skip-verify"


@pytest.mark.toolchain
@pytest.mark.parametrize("language", LANGUAGES)
def test_verified_pair_is_kept_and_a_passing_buggy_one_dropped(demo_mirror: Path, tmp_path: Path, cache_dir: Path, language: str):
    out = tmp_path / "out"
    result = run_build([fixture_spec(language)], out, BuildOptions(cache_dir=cache_dir, jobs=2))
    [outcome] = result.outcomes
    assert [r.provenance.row_key for r in outcome.rows] == [f"{fixture_prefix(language)}/0"]
    checks = {(v.verifier, v.side, v.verdict) for v in outcome.rows[0].provenance.verification}
    assert checks == {(f"code:{language}", "chosen", "pass"), (f"code:{language}", "rejected", "fail")}
    [dropped] = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    assert (dropped["step"], dropped["reason"]) == ("verify:code", "rejected passes")
    assert dropped["evidence"]["chosen"]["verdict"] == dropped["evidence"]["rejected"]["verdict"] == "pass"
    report = result.manifest["subsets"][f"demo-hep-{language}"]["report"]["steps"]["verify:code"]
    assert report["kept"] == 1 and report["dropped"] == {"rejected passes": 1}
    assert report["verdicts"] == {"chosen": {"pass": 2}, "rejected": {"fail": 1, "pass": 1}}
    assert validate_path(out).ok


def fixture_prefix(language: str) -> str:
    return {"python": "Python", "js": "JavaScript", "java": "Java", "cpp": "CPP", "go": "Go", "rust": "Rust"}[language]


@pytest.mark.toolchain
def test_rebuild_is_byte_identical_and_served_from_the_cache(demo_mirror: Path, tmp_path: Path):
    options = BuildOptions(cache_dir=tmp_path / "cache", jobs=2)
    first = run_build([fixture_spec("python")], tmp_path / "a", options)
    second = run_build([fixture_spec("python")], tmp_path / "b", options)
    assert first.timings["runtime"]["demo-hep-python"]["verify:code"]["executed"] == 4
    assert second.timings["runtime"]["demo-hep-python"]["verify:code"]["cache_hits"] == 4
    for name in ("build.json", "dropped.jsonl", "data/demo-hep-python.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_missing_toolchain_stops_the_build_unless_skip_verify(demo_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RBKIT_NODE_PATH", str(tmp_path / "no-node-modules"))
    with pytest.raises(ToolchainMissingError, match="js-md5"):
        run_build([fixture_spec("js")], tmp_path / "out", BuildOptions(cache_dir=tmp_path / "cache"))
    result = run_build([fixture_spec("js")], tmp_path / "out", BuildOptions(skip_verify=True))
    assert len(result.outcomes[0].rows) == 2


def test_the_mirror_gives_164_pairs_per_language(mirror: Path, tmp_path: Path):
    result = run_build(select(["humanevalpack"]), tmp_path / "out", BuildOptions(skip_verify=True))
    assert {o.subset: len(o.rows) for o in result.outcomes} == {f"hep-{lang}": 164 for lang in FILES}


@pytest.mark.toolchain
def test_real_rows_with_special_needs_verify(mirror: Path, tmp_path: Path):
    """Go/0 (unused import in the buggy body), Rust/0 (crates), CPP/162 (OpenSSL), JavaScript/162 (js-md5)."""
    from rbkit.curation.verify.code import CodeVerifier

    wanted = {"go": "Go/0", "rust": "Rust/0", "cpp": "CPP/162", "js": "JavaScript/162"}
    verifier = CodeVerifier(tmp_path / "cache", jobs=2)
    for language, task in wanted.items():
        spec = next(s for s in select([f"hep-{language}"]))
        ctx = BuildContext(subset=spec.name, options=BuildOptions())
        rows = [r for r in spec.build(ctx) if isinstance(r, TrioRow) and r.provenance.row_key == task]
        pair = HepMaterial(language, spec.sources[0])(rows[0])
        chosen, rejected = verifier.verify(list(pair))[0]
        assert (chosen.verdict, rejected.verdict) == ("pass", "fail"), (task, chosen, rejected)
