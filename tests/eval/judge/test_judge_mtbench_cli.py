"""`rbkit judge mtbench`: turn-1 answers graded with single-v1 into FastChat judgment records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rbkit.cli import app
from tests.eval.generation.openai_server import serve_openai
from tests.eval.judge.conftest import MAX_NEW_TOKENS

pytestmark = pytest.mark.model


def test_selected_answers_become_judgment_records_naming_the_judge(smollm2_backend, mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "judgments.jsonl"
    with serve_openai(smollm2_backend) as server:
        result = CliRunner().invoke(app, [
            "judge", "mtbench", "--model", server.model, "--api-base", server.url, "--question", "81",
            "--answers-of", "gpt-4", "--answers-of", "alpaca-13b", "--max-new-tokens", str(MAX_NEW_TOKENS),
            "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert server.chat_requests == 2
    records = [json.loads(line) for line in out.read_text().splitlines()]
    question = json.loads((mirror / "mtbench/question.jsonl").read_text().splitlines()[0])
    assert [(r["question_id"], r["model"], r["turn"]) for r in records] == [(81, "alpaca-13b", 1), (81, "gpt-4", 1)]
    for rec in records:
        assert rec["judge"] == ["SmolLM2-135M-Instruct", "single-v1"]
        assert question["turns"][0] in rec["user_prompt"]
        assert rec["score"] == -1 or 1 <= rec["score"] <= 10
