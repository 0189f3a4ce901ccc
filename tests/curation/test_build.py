import hashlib
import json
import shutil
from pathlib import Path

import pytest
from rbkit.curation.build import read_build, run_build
from rbkit.curation.errors import SourceMissingError, SourceRowError
from rbkit.curation.pipeline import BuildOptions, SelectStep
from rbkit.curation.registry import SubsetSpec
from rbkit.subsets.llmbar import rows_from, source_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "llmbar"


def fixture_spec(file: str, name: str = "demo-llmbar", steps=()) -> SubsetSpec:
    data = (FIXTURES / file).read_bytes()
    src = source_for("Demo", hashlib.sha256(data).hexdigest(), len(data))
    src = src.__class__(**{**src.__dict__, "mirror_path": f"llmbar/Demo/{file}"})
    return SubsetSpec(
        name=name,
        section="Chat Hard",
        source="llmbar",
        license="MIT",
        expected=None,
        sources=(src,),
        build=lambda ctx: rows_from(name, src, ctx),
        steps=tuple(steps),
    )


@pytest.fixture
def demo_mirror(tmp_path, monkeypatch):
    root = tmp_path / "mirror"
    (root / "llmbar" / "Demo").mkdir(parents=True)
    for f in FIXTURES.iterdir():
        shutil.copy(f, root / "llmbar" / "Demo" / f.name)
    monkeypatch.setenv("RBKIT_SOURCES", str(root))
    return root


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "timings.json"}


def test_build_writes_the_hub_ready_folder(demo_mirror, tmp_path):
    out = tmp_path / "out"
    run_build([fixture_spec("dataset.json")], out, BuildOptions())
    assert sorted(p.name for p in (out / "data").iterdir()) == ["demo-llmbar.parquet", "filtered.parquet"]
    manifest = json.loads((out / "build.json").read_text())
    assert manifest["subsets"]["demo-llmbar"]["built"] == 3
    assert "llmbar/Demo" in manifest["sources"]
    folder = read_build(out)
    assert [r.chosen for r in folder.rows["demo-llmbar"]][:2] == [
        "Crimson leaves drift down\nwhispering to the cold ground\nsummer's last goodbye",
        "11, 13, 17",
    ]


def test_two_builds_are_byte_identical(demo_mirror, tmp_path):
    run_build([fixture_spec("dataset.json")], tmp_path / "a", BuildOptions())
    run_build([fixture_spec("dataset.json")], tmp_path / "b", BuildOptions())
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def test_malformed_row_stops_the_build_naming_file_row_and_field(demo_mirror, tmp_path):
    with pytest.raises(SourceRowError) as info:
        run_build([fixture_spec("bad_rows.json")], tmp_path / "out", BuildOptions())
    assert str(info.value) == "llmbar/Demo/bad_rows.json:2 output_2: missing field"
    assert not (tmp_path / "out").exists()


def test_keep_going_sends_every_bad_row_to_dropped_with_its_reason(demo_mirror, tmp_path):
    out = tmp_path / "out"
    run_build([fixture_spec("bad_rows.json")], out, BuildOptions(keep_going=True))
    dropped = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    assert [d["location"] for d in dropped] == [
        "llmbar/Demo/bad_rows.json:2 output_2",
        "llmbar/Demo/bad_rows.json:3 label",
        "llmbar/Demo/bad_rows.json:4 output_2",
        "llmbar/Demo/bad_rows.json:5 input",
        "llmbar/Demo/bad_rows.json:6 label",
    ]
    assert "empty text" in dropped[2]["reason"]
    manifest = json.loads((out / "build.json").read_text())["subsets"]["demo-llmbar"]
    assert manifest["built"] == 1 and manifest["dropped"] == 5 and manifest["candidates"] == 6


def test_invalid_json_names_the_line(demo_mirror, tmp_path):
    with pytest.raises(SourceRowError, match=r"invalid.json:4 <json>: invalid JSON"):
        run_build([fixture_spec("invalid.json")], tmp_path / "out", BuildOptions(keep_going=True))


def test_interrupted_build_leaves_the_previous_output_intact(demo_mirror, tmp_path):
    out = tmp_path / "out"
    run_build([fixture_spec("dataset.json")], out, BuildOptions())
    before = tree_bytes(out)

    def explode(rows, ctx):
        raise KeyboardInterrupt

    explode.name = "explode"
    with pytest.raises(KeyboardInterrupt):
        run_build([fixture_spec("dataset.json", steps=[explode])], out, BuildOptions())
    assert tree_bytes(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def gone_spec(name: str = "demo-gone") -> SubsetSpec:
    """A subset whose one source file is in no mirror and no cache."""
    spec = fixture_spec("dataset.json", name=name)
    src = spec.sources[0].__class__(**{**spec.sources[0].__dict__, "name": "llmbar/Gone", "mirror_path": "llmbar/Gone/dataset.json"})
    return SubsetSpec(**{**spec.__dict__, "sources": (src,), "build": lambda ctx: rows_from(name, src, ctx)})


def test_missing_source_stops_before_writing_unless_allowed(demo_mirror, tmp_path):
    out = tmp_path / "out"
    run_build([fixture_spec("dataset.json")], out, BuildOptions())
    before = tree_bytes(out)
    assert "Partial build" not in (out / "README.md").read_text()
    with pytest.raises(SourceMissingError) as info:
        run_build([fixture_spec("dataset.json"), gone_spec()], out, BuildOptions())
    message = str(info.value)
    assert message.startswith("cannot build demo-gone: source files are missing (nothing was written).")
    assert "source 'llmbar/Gone' is missing" in message and "rbkit sources fetch llmbar/Gone" in message
    assert f"sha256 {fixture_spec('dataset.json').sources[0].sha256}" in message
    assert "--allow-missing (Python: allow_missing=True)" in message
    assert tree_bytes(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []

    result = run_build([fixture_spec("dataset.json"), gone_spec()], out, BuildOptions(), allow_missing=True)
    manifest = json.loads((out / "build.json").read_text())
    assert manifest == result.manifest and list(manifest["subsets"]) == ["demo-llmbar"]
    assert manifest["missing"]["demo-gone"]["llmbar/Gone"]["fetch"] == "rbkit sources fetch llmbar/Gone"
    assert "Partial build: missing subsets `demo-gone`." in (out / "README.md").read_text()


def test_selection_drops_are_logged(demo_mirror, tmp_path):
    out = tmp_path / "out"
    run_build([fixture_spec("dataset.json", steps=[SelectStep(2)])], out, BuildOptions())
    dropped = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    assert len(dropped) == 1 and dropped[0]["step"] == "select" and dropped[0]["row"]["subset"] == "demo-llmbar"


def test_build_folder_loads_with_datasets_per_subset_and_as_filtered(demo_mirror, tmp_path):
    import datasets

    out = tmp_path / "out"
    run_build([fixture_spec("dataset.json")], out, BuildOptions())
    one = datasets.load_dataset(str(out), name="demo-llmbar", split="filtered")
    assert one.column_names[:7] == ["prompt", "chosen", "chosen_model", "rejected", "rejected_model", "subset", "id"]
    assert len(one) == 3
    assert len(datasets.load_dataset(str(out), split="filtered")) == 3


def test_build_json_sources_match_the_sources_schema(demo_mirror, tmp_path):
    from rbkit import schemas

    result = run_build([fixture_spec("dataset.json")], tmp_path / "out", BuildOptions())
    assert list(schemas.validator("sources").iter_errors(result.manifest["sources"])) == []
