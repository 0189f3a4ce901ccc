"""Declared subsets build through the same pipeline as registered ones: rows, drops, card,
build.json with the spec, byte-identical rebuilds; bad steps, fields and hashes name the spec
line (tests/fixtures/specs)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rbkit.core.digest import sha256_file
from rbkit.curation.pipeline import BuildContext, BuildOptions
from rbkit.curation.spec_build import (
    MappedFieldError,
    SpecRows,
    declared_sources,
    prepare,
)
from rbkit.curation.spec_file import SpecError, load_spec
from rbkit.curation.trio_io import read_rows
from rbkit.curation.validate import validate_path

import rbkit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "specs"


def spec_copy(tmp_path: Path, name: str, old: str = "", new: str = "") -> Path:
    folder = tmp_path / "specs"
    folder.mkdir(exist_ok=True)
    for file in FIXTURES.glob("*.*"):
        shutil.copy(file, folder / file.name)
    path = folder / name
    if old:
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def build(paths: list[Path], out: Path):
    """What `rbkit build --spec PATH... --out OUT` runs (the Python API)."""
    return rbkit.build(out=out, specs=paths)


def test_toml_spec_builds_with_its_steps_selection_and_spec_record(tmp_path):
    out = tmp_path / "out"
    build([FIXTURES / "pairs.toml"], out)
    manifest = json.loads((out / "build.json").read_text())
    info = manifest["subsets"]["spec-pairs"]
    assert (info["section"], info["expected"], info["built"], info["verification"]) == ("Chat", 3, 3, "label")
    assert info["dropped_by_reason"] == {
        "select: not selected: 4 survivors, target size 3": 1,
        "verify:label: label label='unsure' not among ['sure']": 1,
    }
    spec_bytes = (FIXTURES / "pairs.toml").read_bytes()
    assert info["spec"]["content"].encode() == spec_bytes and info["spec"]["file"] == "pairs.toml"
    assert manifest["sources"]["spec-pairs/pairs"]["kind"] == "local"
    dropped = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    assert {d["step"] for d in dropped} == {"select", "verify:label"}
    card = (out / "README.md").read_text()
    assert "Spec pairs" in card and "the rejected one is wrong" in card  # citation and description


def test_yaml_spec_builds(tmp_path):
    out = tmp_path / "out"
    result = build([FIXTURES / "pairs.yaml"], out)
    (outcome,) = result.outcomes
    assert (outcome.subset, len(outcome.rows)) == ("spec-pairs-yaml", 4)
    assert outcome.rows[0].provenance.filters_passed == ("nonempty", "distinct", "dedup")
    assert outcome.rows[0].provenance.builder == "spec:pairs.yaml"


def test_folder_of_specs_builds_every_spec_and_passes_validate(tmp_path):
    out = tmp_path / "out"
    build([FIXTURES], out)
    assert sorted(json.loads((out / "build.json").read_text())["subsets"]) == ["spec-pairs", "spec-pairs-yaml"]
    report = validate_path(out)
    assert report.ok and report.rows == 14, report  # 3 + 4 rows, and `filtered` holds both


def test_rebuild_of_the_same_spec_and_sources_is_byte_identical(tmp_path):
    for out in ("a", "b"):
        build([FIXTURES / "pairs.toml"], tmp_path / out)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert Path("data/spec-pairs.parquet") in files
    for rel in files:
        if rel.name != "timings.json":
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_unknown_step_names_the_spec_line_and_the_known_steps(tmp_path):
    path = spec_copy(tmp_path, "pairs.toml", 'name = "length_window"', 'name = "lenght_window"')
    with pytest.raises(SpecError) as err:
        prepare([path])
    assert str(err.value).startswith(f"{path}:{line_of(path, 'lenght_window')} steps[2].name: unknown step 'lenght_window'")
    assert "length_window" in err.value.reason and "verify:math" in err.value.reason


def test_bad_step_parameter_names_the_params_line(tmp_path):
    path = spec_copy(tmp_path, "pairs.toml", "low = 0.5", "lo = 0.5")
    with pytest.raises(SpecError) as err:
        prepare([path])
    assert str(err.value).startswith(f"{path}:{line_of(path, 'lo = 0.5')} steps[2].params: step 'length_window'")
    assert "parameters: low, high" in err.value.reason


def test_mapped_field_missing_in_the_source_names_file_row_field_and_spec_line(tmp_path):
    path = spec_copy(tmp_path, "pairs.toml", 'rejected = "bad"', 'rejected = "worse"')
    with pytest.raises(MappedFieldError) as err:  # the field stops the build at its first row
        build([path], tmp_path / "out")
    message = str(err.value)
    assert message.startswith(f"{path.parent / 'pairs.jsonl'}:1 worse: missing field"), message
    assert f"{path}:{line_of(path, 'rejected = ')} mapping.rejected" in message
    assert not (tmp_path / "out").exists()


def test_wrong_sha256_names_the_spec_line_before_anything_is_written(tmp_path):
    path = spec_copy(tmp_path, "pairs.toml")
    data = path.parent / "pairs.jsonl"
    data.write_text(data.read_text().replace("Paris", "Marseille"))
    with pytest.raises(SpecError) as err:
        prepare([path])
    assert str(err.value).startswith(f"{path}:{line_of(path, 'sha256 =')} sources.pairs.sha256: the file's bytes are not the pinned ones")


def test_long_format_candidates_group_by_prompt_id_in_file_order():
    doc = load_spec(FIXTURES / "candidates" / "math.toml")
    rows = SpecRows(doc, declared_sources(doc), candidate_mode=True, candidate_steps=(), pair_step=None)
    groups = list(rows.groups(BuildContext("spec-math-bon", BuildOptions())))
    assert [g.key for g in groups] == ["generated:q1", "generated:q2"]
    assert [c.text[-10:] for c in groups[0].candidates] == ["\\boxed{4}.", "\\boxed{5}.", "\\boxed{3}."]
    assert [(c.index, c.model) for c in groups[1].candidates] == [(0, "smol"), (1, "smol"), (2, "smol")]
    assert groups[0].reference == "2 + 2 = \\boxed{4}"
    assert groups[1].meta["answer"] == "6" and groups[1].meta["extra"] == {"answer": "6"}
    assert groups[1].meta["provenance"]["row_key"] == "generated:q2"


def test_long_format_candidates_build_best_of_n_rows_with_the_reference_chosen(tmp_path):
    build([FIXTURES / "candidates" / "math.toml"], tmp_path / "out")
    rows = {r.provenance.row_key: r for r in read_rows(tmp_path / "out" / "data" / "spec-math-bon.parquet")}
    assert rows["generated:q2"].chosen == ("3 + 3 = \\boxed{6}",) and rows["generated:q2"].chosen_model == "reference"
    assert sorted(rows["generated:q2"].rejected) == ["3 + 3 = 7, so the answer is \\boxed{7}.", "The sum is \\boxed{9}."]
    dropped = [json.loads(line) for line in (tmp_path / "out" / "dropped.jsonl").read_text().splitlines()]
    assert [d["reason"] for d in dropped] == ["unused: extra correct candidate (the reference answer is chosen)"] * 2


def test_list_column_candidates_pair_by_verdict_and_rebuild_byte_identically(tmp_path):
    for out in ("a", "b"):
        build([FIXTURES / "candidates" / "refusals.yaml"], tmp_path / out)
    rows = read_rows(tmp_path / "a" / "data" / "spec-refusals.parquet")
    assert [r.chosen[:8] for r in rows] == ["I can't ", "I won't "]
    assert [r.rejected[:8] for r in rows] == ["Sure! In", "Here is "]
    assert [(r.chosen_model, r.rejected_model) for r in rows] == [("writer-a", "writer-b")] * 2  # a model list column
    info = json.loads((tmp_path / "a" / "build.json").read_text())["subsets"]["spec-refusals"]
    assert (info["verification"], info["section"]) == ("refusal", "Safety")
    for rel in ("data/spec-refusals.parquet", "dropped.jsonl", "build.json", "README.md"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_the_same_pairs_read_from_json_csv_and_parquet(tmp_path, fmt):
    records = [json.loads(line) for line in (FIXTURES / "pairs.jsonl").read_text().splitlines()]
    data = tmp_path / f"pairs.{fmt}"
    if fmt == "json":
        data.write_text(json.dumps(records))
    elif fmt == "csv":
        with open(data, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
    else:
        pq.write_table(pa.Table.from_pylist(records), data)
    spec = tmp_path / "pairs.toml"
    text = (FIXTURES / "pairs.toml").read_text().replace('path = "pairs.jsonl"', f'path = "pairs.{fmt}"')
    spec.write_text(text.replace("ac22b3210e9529687472d111b6c08a204879af089fbf2762dcdcfe6ef84aefd0", sha256_file(data)))
    (declared,) = prepare([spec])
    rows = list(declared.subset.build(BuildContext("spec-pairs", BuildOptions())))
    assert [r.prompt for r in rows] == [r["question"] for r in records]
    assert rows[2].provenance.row_key == "pairs:p3" and rows[2].provenance.extra_dict()["label"] == "unsure"


def test_a_repeated_id_names_both_rows_and_the_mapping_line(tmp_path):
    path = spec_copy(tmp_path, "pairs.toml")
    data = path.parent / "pairs.jsonl"
    data.write_text(data.read_text().replace('"id": "p4"', '"id": "p2"'))
    path.write_text(path.read_text().replace("ac22b3210e9529687472d111b6c08a204879af089fbf2762dcdcfe6ef84aefd0", sha256_file(data)))
    (declared,) = prepare([path])
    with pytest.raises(MappedFieldError) as err:
        list(declared.subset.build(BuildContext("spec-pairs", BuildOptions())))
    assert str(err.value).startswith(f"{data}:4 id: duplicate id (also at row 2; mapped by {path}:{line_of(path, 'id = ')} mapping.id)")


def test_pairing_from_a_pinned_scores_file_keeps_groups_above_the_margin(tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    for file in (FIXTURES / "candidates").glob("refusals.*"):
        shutil.copy(file, folder / file.name)
    scores = folder / "judge.jsonl"
    scores.write_text("".join(json.dumps({"key": f"answers:{k}", "index": i, "score": v}) + "\n"
                              for k, i, v in [("r1", 0, 3.0), ("r1", 1, 1.0), ("r2", 0, 1.0), ("r2", 1, 1.5)]))
    spec = folder / "refusals.yaml"
    text = spec.read_text().replace("pairing:\n  mode: pairwise\n  chosen_from: verified\n",
                                    "pairing:\n  mode: pairwise\n  chosen_from: scores\n  scores: judge\n  min_margin: 1.0\n")
    spec.write_text(text.replace("sources:\n", f"sources:\n  judge:\n    path: judge.jsonl\n    sha256: {sha256_file(scores)}\n", 1))
    result = build([spec], tmp_path / "out")
    (outcome,) = result.outcomes
    assert [(r.provenance.row_key, r.chosen[:8]) for r in outcome.rows] == [("answers:r1", "I can't ")]
    assert {(d.step, d.reason) for d in outcome.dropped} == {("pair:from_scores", "margin 0.5 below min_margin 1")}
    assert result.manifest["sources"]["spec-refusals/judge"]["path"] == "judge.jsonl"
