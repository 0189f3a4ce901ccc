"""Bad input ends in one clear message; an explicit --max-length truncates and counts per subset."""

from __future__ import annotations

import json

import pytest
from eval_testkit import tiny_classifier
from rbkit.eval.errors import DatasetError, TooLongError
from rbkit.eval.runner import EvalConfig, run


@pytest.fixture(scope="module")
def short_context_rm(tmp_path_factory):
    return tiny_classifier(tmp_path_factory.mktemp("ctx64"), max_position_embeddings=64)


@pytest.fixture
def long_rows(tmp_path):
    rows = [
        {"prompt": "hello world " * 40, "chosen": "The answer is 4.", "rejected": "blue", "subset": "llmbar-natural", "id": 1},
        {"prompt": "What is 2 + 2?", "chosen": "4", "rejected": "blue", "subset": "llmbar-natural", "id": 2},
        {"prompt": "What is 2 + 2?", "chosen": "4", "rejected": "blue " * 80, "subset": "hep-go", "id": 3},
    ]
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_too_long_text_is_refused_by_default(short_context_rm, long_rows):
    with pytest.raises(TooLongError, match=r"2 pair\(s\) exceed the model's context of 64 tokens.*llmbar-natural/1"):
        run(EvalConfig(model=str(short_context_rm), dataset=str(long_rows), bootstrap=0, cache=False, progress=False))


def test_max_length_truncates_and_counts_per_subset(short_context_rm, long_rows):
    outcome = run(EvalConfig(model=str(short_context_rm), dataset=str(long_rows), max_length=64, bootstrap=0,
                             cache=False, progress=False))
    subsets = outcome.results["subsets"]
    assert subsets["llmbar-natural"]["truncated"] == 1 and subsets["hep-go"]["truncated"] == 1
    assert outcome.results["config"]["max_length"] == 64 and "prompt tokens" in outcome.results["config"]["truncation"]


def test_unknown_subset_selection_is_named(tiny_rm, long_rows):
    with pytest.raises(DatasetError, match="no rows for subset"):
        run(EvalConfig(model=str(tiny_rm), dataset=str(long_rows), subsets=["nope"], bootstrap=0, cache=False,
                       progress=False))


def test_missing_dataset_is_explained(tiny_rm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError, match="run `rbkit build` first"):
        run(EvalConfig(model=str(tiny_rm), bootstrap=0, cache=False, progress=False))
    with pytest.raises(DatasetError, match="not a published split"):
        run(EvalConfig(model=str(tiny_rm), dataset="nowhere.parquetx", bootstrap=0, cache=False, progress=False))
