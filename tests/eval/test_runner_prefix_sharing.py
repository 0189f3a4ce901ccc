"""`--no-prefix-sharing` turns the shared-prompt scorer off, and the setting keys the resume cache."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from rbkit.cli import app

runner = CliRunner()


def evaluate(model, rows, out, *extra: str) -> dict:
    result = runner.invoke(app, ["eval", "--model", str(model), "--dataset", str(rows), "--out", str(out),
                                 "--bootstrap", "0", "--quiet", *extra])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads((out / "results.json").read_text())


def test_prefix_sharing_can_be_turned_off_and_a_resume_never_mixes_the_two(tiny_rm, rows_70, tmp_path):
    shared = evaluate(tiny_rm, rows_70, tmp_path / "shared")
    assert shared["config"]["prefix_sharing"] is True and shared["run"]["prefix_shared_tokens"] > 0

    plain = evaluate(tiny_rm, rows_70, tmp_path / "plain", "--no-prefix-sharing")
    assert plain["config"]["prefix_sharing"] is False and plain["run"]["prefix_shared_tokens"] == 0
    assert plain["run"]["rows_cached"] == 0 and plain["run"]["rows_scored"] == 70, \
        "a run with the other setting must not reuse the first run's scores"
    assert plain["cache"]["key"] != shared["cache"]["key"]

    again = evaluate(tiny_rm, rows_70, tmp_path / "again", "--no-prefix-sharing")
    assert again["run"]["rows_cached"] == 70 and again["cache"]["key"] == plain["cache"]["key"]
    resumed = evaluate(tiny_rm, rows_70, tmp_path / "resumed")
    assert resumed["run"]["rows_cached"] == 70 and resumed["cache"]["key"] == shared["cache"]["key"]

    a = pq.read_table(tmp_path / "shared" / "scores.parquet").to_pydict()
    b = pq.read_table(tmp_path / "plain" / "scores.parquet").to_pydict()
    assert a["id"] == b["id"]
    for x, y in zip(a["scores"], b["scores"], strict=True):  # same scores either way (eval.prefix_cache)
        assert all(abs(u - v) <= 1e-4 * max(1.0, abs(v)) for u, v in zip(x, y, strict=True))
