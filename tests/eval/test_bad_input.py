"""Bad input ends in one clear message; an explicit --max-length truncates and counts per subset."""

from __future__ import annotations

import json
import os
from pathlib import Path

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


# --- through the CLI: one line on stderr, exit 1, no traceback ----------------------------------


def cli_error(capsys, monkeypatch, *args: str) -> str:
    """Run `rbkit ARGS` in-process as the console script does; return the one error line on stderr."""
    from rbkit.cli import main

    monkeypatch.setattr("sys.argv", ["rbkit", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code not in (0, None), err
    last = err.rstrip("\n").split("\n")[-1]  # progress notes may come first; the error is one whole line
    assert "Traceback" not in err and last.startswith(("error: ", "Error: ")) and err.lower().count("error") == 1, err
    return last  # "error: ..." from rbkit; "Error: ..." after click's usage lines for an unparsable option


def test_ties_ids_without_ref_or_tied_name_file_row_and_field(tiny_rm, tmp_path, capsys, monkeypatch):
    rows = [
        {"id": "0", "prompt": "What is 2 + 2?", "chosen": ["4"], "rejected": ["5", "22"], "subset": "Math"},
        {"id": "ref:0", "prompt": "Name a colour", "chosen": ["blue"], "rejected": ["4", "dog"], "subset": "Ties"},
        {"id": "7", "prompt": "Name a colour", "chosen": ["blue", "red"], "rejected": ["4"], "subset": "Ties"},
    ]
    path = tmp_path / "rb2.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    err = cli_error(capsys, monkeypatch, "eval", "--model", str(tiny_rm), "--dataset", str(path), "--quiet")
    assert err == (f"error: {path}:3 id: Ties row id '7': expected 'ref:<prompt id>' or 'tied:<prompt id>'")


def test_a_missing_local_model_folder_is_not_looked_up_on_the_hub(tiny_rm, long_rows, tmp_path, capsys, monkeypatch):
    err = cli_error(capsys, monkeypatch, "eval", "--model", "/no/such/folder", "--dataset", str(long_rows))
    assert err == "error: --model: no such folder: /no/such/folder"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()  # `models/rm` beside a models/ folder is a path, not a Hub id
    for name in ("./rm", "models/rm", "a/b/c"):
        err = cli_error(capsys, monkeypatch, "eval", "--model", name, "--dataset", str(long_rows))
        assert err == f"error: --model: no such folder: {name.removeprefix('./')}", err
    err = cli_error(capsys, monkeypatch, "eval", "--model", str(tiny_rm), "--ref-model", "~/no-such-ref",
                    "--dataset", str(long_rows))
    assert err.startswith("error: --ref-model: no such folder: /") and err.endswith("/no-such-ref")


def test_bad_option_values_stop_before_any_work(tiny_rm, long_rows, capsys, monkeypatch):
    base = ["eval", "--model", str(tiny_rm), "--dataset", str(long_rows), "--quiet", "--no-cache"]
    assert cli_error(capsys, monkeypatch, *base, "--device", "tpu") == (
        "error: --device 'tpu': expected auto, cpu, cuda or cuda:N")
    assert cli_error(capsys, monkeypatch, *base, "--max-length", "0") == (
        "error: --max-length 0: must be at least 1 token")
    assert "--ties must be 'wrong' or 'half'" in cli_error(capsys, monkeypatch, *base, "--ties", "x")
    assert "--bootstrap" in cli_error(capsys, monkeypatch, *base, "--bootstrap", "many")


def test_an_unwritable_out_folder_stops_before_scoring(tiny_rm, long_rows, tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    err = cli_error(capsys, monkeypatch, "eval", "--model", str(tiny_rm), "--dataset", str(long_rows), "--quiet",
                    "--out", str(blocker / "res"))
    assert err == f"error: --out {blocker / 'res'}: cannot create the folder (Not a directory)"
    cache = Path(os.environ["RBKIT_CACHE"]) / "eval"
    assert not list(cache.glob("*.jsonl")), "the run stopped before it opened the resume cache, let alone scored"
