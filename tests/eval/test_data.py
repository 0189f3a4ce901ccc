"""Loading rows: files, build folders and the published splits (local fixtures, same features)."""

from __future__ import annotations

import json

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rbkit.curation.build import write_build
from rbkit.curation.rows import Provenance, TrioRow, stable_id
from rbkit.eval.data import load_build_folder, load_file
from rbkit.eval.errors import DatasetError
from rbkit.eval.published import PUBLISHED, load_published, parse

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_jsonl_and_parquet_files_load_the_same_pairs(tmp_path):
    recs = [
        {"prompt": "hi", "chosen": "a", "chosen_model": "x", "rejected": "b", "rejected_model": "y", "subset": "s", "id": 1},
        {"prompt": [{"role": "system", "content": "sys"}, {"role": "user", "content": "q"}], "chosen": "a",
         "rejected": "b", "subset": "t", "id": 2},
    ]
    jl = tmp_path / "rows.jsonl"
    jl.write_text("".join(json.dumps(r) + "\n" for r in recs))
    pq.write_table(pa.Table.from_pylist(recs[:1]), tmp_path / "rows.parquet")
    ds = load_file(jl)
    assert [p.id for p in ds.pairs] == ["1", "2"]
    assert ds.pairs[1].prompt == (("system", "sys"), ("user", "q"))
    assert load_file(tmp_path / "rows.parquet").pairs[0] == ds.pairs[0]
    assert ds.description["type"] == "jsonl" and len(ds.description["sha256"]) == 64


def test_a_missing_column_names_the_file_and_the_column(tmp_path):
    pq.write_table(pa.Table.from_pylist([{"prompt": "p", "chosen": "a", "subset": "s"}]), tmp_path / "bad.parquet")
    with pytest.raises(DatasetError, match=r"bad\.parquet: missing column\(s\) rejected"):
        load_file(tmp_path / "bad.parquet")
    jl = tmp_path / "bad.jsonl"
    jl.write_text(json.dumps({"prompt": "p", "chosen": "a", "rejected": "b", "subset": "s"}) + "\n"
                  + json.dumps({"prompt": "p", "chosen": "a", "subset": "s"}) + "\n")
    with pytest.raises(DatasetError, match=r"bad\.jsonl:2: missing column\(s\) rejected"):
        load_file(jl)


def test_bad_values_are_reported_with_row_and_field(tmp_path):
    jl = tmp_path / "rows.jsonl"
    jl.write_text(json.dumps({"prompt": [{"role": "user"}], "chosen": "a", "rejected": "b", "subset": "s"}) + "\n")
    with pytest.raises(DatasetError, match=r"rows\.jsonl:1 prompt\[0\]"):
        load_file(jl)


def test_duplicate_ids_within_a_subset_are_refused(tmp_path):
    jl = tmp_path / "rows.jsonl"
    rec = {"prompt": "p", "chosen": "a", "rejected": "b", "subset": "s", "id": 3}
    jl.write_text(json.dumps(rec) + "\n" + json.dumps({**rec, "chosen": "c"}) + "\n")
    with pytest.raises(DatasetError, match="duplicate"):
        load_file(jl)


def _row(subset: str, i: int) -> TrioRow:
    prov = Provenance("src", "f.json", SHA, "0" * 64, f"f.json#{i}", "tests", "1")
    return TrioRow(f"prompt {i}", f"good {i}", "m1", f"bad {i}", "m2", subset, stable_id(subset, str(i)), prov)


def test_build_folder_loads_sections_and_reports_empty_subsets(tmp_path):
    out = tmp_path / "build"
    rows = {"llmbar-natural": [_row("llmbar-natural", i) for i in range(3)], "mine": []}
    manifest = {"format": 1, "rbkit_version": "0", "subsets": {
        "llmbar-natural": {"section": "Chat Hard", "weight": None}, "mine": {"section": "Safety", "weight": 5}}}
    write_build(out, rows, [], manifest, None, {"llmbar-natural": "Chat Hard", "mine": "Safety"})
    ds = load_build_folder(out)
    assert len(ds.pairs) == 3 and ds.empty_subsets == ["mine"]
    assert ds.sections["mine"] == {"section": "Safety", "weight": 5}
    assert set(ds.description["files_sha256"]) == {"llmbar-natural", "mine"}
    with pytest.raises(DatasetError, match="not in this build"):
        load_build_folder(out, ["nope"])


# --- published splits: local fixtures with the Hub features ------------------------------------

V1_FEATURES = datasets.Features({
    "prompt": datasets.Value("string"), "chosen": datasets.Value("string"), "chosen_model": datasets.Value("string"),
    "rejected": datasets.Value("string"), "rejected_model": datasets.Value("string"),
    "subset": datasets.Value("string"), "id": datasets.Value("int64"),
})
PREF_FEATURES = datasets.Features({
    "prompt": [{"content": datasets.Value("string"), "role": datasets.Value("string")}],
    "chosen": datasets.Value("string"), "rejected": datasets.Value("string"),
    "subset": datasets.Value("string"), "id": datasets.Value("int64"),
})
V2_FEATURES = datasets.Features({
    "id": datasets.Value("string"), "prompt": datasets.Value("string"),
    "chosen": datasets.Sequence(datasets.Value("string")), "rejected": datasets.Sequence(datasets.Value("string")),
    "num_correct": datasets.Value("int64"), "num_rejected": datasets.Value("int64"),
    "total_completions": datasets.Value("int64"), "models": datasets.Sequence(datasets.Value("string")),
    "subset": datasets.Value("string"),
})


class FakeHub:
    """Serves fixtures through the `load_dataset` signature and records what was asked."""

    def __init__(self, splits: dict[str, datasets.Dataset]):
        self.splits = splits
        self.calls: list[tuple[str, str | None, str | None]] = []

    def __call__(self, repo, revision=None, split=None):
        self.calls.append((repo, revision, split))
        return self.splits[split] if split else datasets.DatasetDict(self.splits)


def test_reward_bench_filtered_loads_at_the_given_revision():
    table = datasets.Dataset.from_dict({
        "prompt": ["p1", "p2"], "chosen": ["a", "b"], "chosen_model": ["m", "m"], "rejected": ["c", "d"],
        "rejected_model": ["n", "n"], "subset": ["math-prm", "hep-go"], "id": [10, 11]}, features=V1_FEATURES)
    hub = FakeHub({"filtered": table})
    ds = load_published(parse("allenai/reward-bench"), revision=SHA, load_dataset=hub)
    assert hub.calls == [("allenai/reward-bench", SHA, "filtered")]
    assert [(p.subset, p.id) for p in ds.pairs] == [("math-prm", "10"), ("hep-go", "11")]
    assert ds.description == {"type": "hub", "repo": "allenai/reward-bench", "revision": SHA, "split": "filtered"}


def test_unpinned_published_split_resolves_and_records_a_commit():
    table = datasets.Dataset.from_dict({k: [v] for k, v in {
        "prompt": "p", "chosen": "a", "chosen_model": "m", "rejected": "c", "rejected_model": "n",
        "subset": "hep-go", "id": 1}.items()}, features=V1_FEATURES)
    assert PUBLISHED["allenai/reward-bench"].revision is None or len(PUBLISHED["allenai/reward-bench"].revision) == 40
    ds = load_published(parse("allenai/reward-bench:filtered"), load_dataset=FakeHub({"filtered": table}),
                        resolve_revision=lambda repo: SHA)
    assert ds.description["revision"] == SHA
    with pytest.raises(DatasetError, match="not a 40-hex commit"):
        load_published(parse("allenai/reward-bench@main"), load_dataset=FakeHub({"filtered": table}))


def test_pref_test_sets_splits_become_subsets_with_messages():
    hhh = datasets.Dataset.from_dict({
        "prompt": [[{"content": "sys", "role": "system"}, {"content": "q", "role": "user"}]],
        "chosen": ["a"], "rejected": ["b"], "subset": ["harmless"], "id": [0]}, features=PREF_FEATURES)
    pku = datasets.Dataset.from_dict({
        "prompt": [[{"content": "q", "role": "user"}]], "chosen": ["a"], "rejected": ["b"], "subset": ["x"], "id": [0]},
        features=PREF_FEATURES)
    ds = load_published(parse("allenai/pref-test-sets"), revision=SHA,
                        load_dataset=FakeHub({"anthropic_hhh": hhh, "pku_safer": pku}))
    assert [(p.subset, p.prompt) for p in ds.pairs] == [("anthropic_hhh", (("system", "sys"), ("user", "q")))]


def test_reward_bench_2_rows_are_best_of_n():
    v2 = datasets.Dataset.from_dict({
        "id": ["0", "ref:1"], "prompt": ["p", "q"], "chosen": [["good"], ["g1"]],
        "rejected": [["b1", "b2", "b3"], ["b"]], "num_correct": [1, 1], "num_rejected": [3, 1],
        "total_completions": [4, 2], "models": [["m"] * 4, ["m"] * 2], "subset": ["Math", "Ties"]}, features=V2_FEATURES)
    ds = load_published(parse("allenai/reward-bench-2"), revision=SHA, load_dataset=FakeHub({"test": v2}))
    assert ds.best_of_n and ds.pairs[0].completions == ("good", "b1", "b2", "b3")


def test_unknown_split_is_named():
    with pytest.raises(DatasetError, match="unknown split 'dev'"):
        parse("allenai/reward-bench:dev")


def test_sample_keeps_n_rows_per_subset_by_a_seeded_hash(tmp_path):
    jl = tmp_path / "rows.jsonl"
    jl.write_text("".join(json.dumps({"prompt": "p", "chosen": f"a{i}", "rejected": "b", "subset": f"s{i % 3}", "id": i}) + "\n"
                          for i in range(30)))
    ds = load_file(jl)
    small = ds.sample(4, seed=0)
    assert sorted((p.subset) for p in small.pairs) == ["s0"] * 4 + ["s1"] * 4 + ["s2"] * 4
    assert small.full_counts == {"s0": 10, "s1": 10, "s2": 10}
    assert small.description["sample"] == {"per_subset": 4, "seed": 0, "full_rows": 30}
    assert [p.id for p in ds.sample(4, seed=0).pairs] == [p.id for p in small.pairs]
    assert [p.id for p in ds.sample(4, seed=1).pairs] != [p.id for p in small.pairs]
    assert {p.id for p in ds.sample(3, seed=0).pairs} < {p.id for p in small.pairs}  # nested: stable picks
