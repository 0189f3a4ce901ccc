"""Judge tests: the session's one SmolLM2 (shared with the generation tests), tiny row files,
and the judge prompts from the pinned mirror."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rbkit.eval.generation.types import SamplingParams
from rbkit.eval.judge.prompts import named_prompt, pairwise_no_tie
from rbkit.eval.judge.run import JudgeOptions
from rbkit.eval.runner import EvalConfig

from tests.eval.generation.openai_server import smollm2_backend as smollm2_backend  # noqa: F401

PAIRS = [
    {"id": "capital", "subset": "llmbar-natural", "prompt": "What is the capital of France?",
     "chosen": "Paris.", "rejected": "Berlin."},
    {"id": "sum", "subset": "llmbar-natural", "prompt": "What is 2 + 2?", "chosen": "4.", "rejected": "5."},
]
# RewardBench 2: a best-of-N Focus row (one chosen, two rejected) and one Ties prompt (ref + tied rows)
RB2_ROWS = [
    {"id": "f1", "subset": "Focus", "prompt": "Name a primary colour.", "chosen": ["Red."], "rejected": ["Green.", "Pink."]},
    {"id": "ref:p1", "subset": "Ties", "prompt": "Name a planet.", "chosen": ["Mars."], "rejected": ["The Moon."]},
    {"id": "tied:p1", "subset": "Ties", "prompt": "Name a planet.", "chosen": ["Mars.", "Venus."], "rejected": ["The Sun."]},
]
MAX_NEW_TOKENS = 4  # CPU time: the judgments are unreadable anyway at this size, and counted as such


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def pairs_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "pairs.jsonl", PAIRS)


@pytest.fixture
def rb2_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "rb2.jsonl", RB2_ROWS)


@pytest.fixture
def prompts_file(mirror: Path) -> Path:
    return mirror / "mtbench" / "judge_prompts.jsonl"


@pytest.fixture
def judge_options(prompts_file: Path) -> JudgeOptions:
    return JudgeOptions(prompts={"pairwise": pairwise_no_tie(prompts_file), "ratings": named_prompt(prompts_file, "single-v1")},
                        params=SamplingParams(max_new_tokens=MAX_NEW_TOKENS))


def config(dataset: Path, out: Path, **kw) -> EvalConfig:
    return EvalConfig(dataset=str(dataset), out=out, bootstrap=0, progress=False, **kw)
