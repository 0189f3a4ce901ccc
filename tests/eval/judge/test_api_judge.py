"""`--kind judge` against a real OpenAI-compatible server on 127.0.0.1 serving SmolLM2, with faults."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from rbkit.eval.generation import open_backend
from rbkit.eval.judge.run import run_judge

from tests.eval.generation.openai_server import Faults, serve_openai
from tests.eval.judge.conftest import config

pytestmark = pytest.mark.model


def api(server, **kw):
    return open_backend(server.model, api_base=server.url, backoff_s=0.01, **kw)


def test_429_500_and_malformed_replies_are_retried_not_counted(smollm2_backend, pairs_file: Path, judge_options,
                                                              tmp_path: Path) -> None:
    faults = Faults(rate_limited=1, server_errors=1, malformed=1)
    with serve_openai(smollm2_backend, faults=faults) as server:
        res = run_judge(config(pairs_file, tmp_path / "out"), api(server, concurrency=1), judge_options).results
    assert res["judge"]["overall"]["errors"] == 0 and res["judge"]["overall"]["requests"] == 4
    assert server.chat_requests == 4 + 3  # each fault cost one extra attempt
    assert res["judge"]["orders"] == 2 and res["judge"]["backend"] == "openai"
    assert 0.0 <= res["subsets"]["llmbar-natural"]["accuracy"] <= 1.0


def test_a_request_past_its_timeout_is_retried(smollm2_backend, pairs_file: Path, judge_options, tmp_path: Path) -> None:
    options = replace(judge_options, orders=1)
    with serve_openai(smollm2_backend, faults=Faults(slow=1, delay_s=8.0)) as server:
        res = run_judge(config(pairs_file, tmp_path / "out"), api(server, timeout=6.0, concurrency=1), options).results
    assert res["judge"]["overall"] == {**res["judge"]["overall"], "errors": 0, "requests": 2}
    assert server.chat_requests == 3


def test_a_second_run_sends_no_request(smollm2_backend, pairs_file: Path, judge_options, tmp_path: Path) -> None:
    with serve_openai(smollm2_backend) as server:
        first = run_judge(config(pairs_file, tmp_path / "a"), api(server), judge_options).results
        seen = server.chat_requests
        second = run_judge(config(pairs_file, tmp_path / "b"), api(server), judge_options).results
    assert seen == 4 and server.chat_requests == seen
    assert second["run"]["requests_sent"] == 0 and second["run"]["requests_cached"] == 4
    assert second["judge"] == first["judge"] and second["subsets"] == first["subsets"]
    assert (tmp_path / "a" / "judgments.jsonl").read_bytes() == (tmp_path / "b" / "judgments.jsonl").read_bytes()


def test_server_dying_mid_run_counts_errors_and_the_rerun_asks_only_those(
        smollm2_backend, pairs_file: Path, judge_options, tmp_path: Path) -> None:
    with serve_openai(smollm2_backend, faults=Faults(die_after=2)) as server:
        port = int(server.url.rsplit(":", 1)[1].split("/")[0])
        broken = run_judge(config(pairs_file, tmp_path / "a"), api(server, max_retries=1, concurrency=1),
                           judge_options).results
    assert broken["judge"]["overall"]["errors"] == 2
    assert any("2 of 4 judge requests failed" in n for n in broken["notices"])
    with serve_openai(smollm2_backend, port=port) as again:  # same model at the same address
        fixed = run_judge(config(pairs_file, tmp_path / "b"), api(again), judge_options).results
    assert again.chat_requests == 2 and fixed["judge"]["overall"]["errors"] == 0


def test_the_api_key_is_sent_but_never_written(smollm2_backend, pairs_file: Path, judge_options, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-6c1f0e2a"
    monkeypatch.setenv("JUDGE_TEST_KEY", secret)
    options = replace(judge_options, orders=1)
    with serve_openai(smollm2_backend) as server:
        out = run_judge(config(pairs_file, tmp_path / "out"), api(server, api_key_env="JUDGE_TEST_KEY"), options)
    assert set(server.authorizations) == {f"Bearer {secret}"}
    cache = Path(out.results["cache"]["path"])
    for path in (tmp_path / "out" / "results.json", tmp_path / "out" / "judgments.jsonl", cache):
        assert secret not in path.read_text()
    assert json.loads((tmp_path / "out" / "results.json").read_text())["judge"]["orders"] == 1
