"""MT-Bench rebuilt from another judge's single-v1 grades: the original bands, labelled a substitute."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from rbkit.core.jsonio import canonical_json
from rbkit.curation.build import run_build
from rbkit.curation.pipeline import BuildOptions
from rbkit.curation.sources import sha256_file
from rbkit.eval.generation.types import Completion, SamplingParams
from rbkit.eval.judge.prompts import named_prompt
from rbkit.eval.judge.single import Answer, grading_requests, judgment_records
from rbkit.subsets import mtbench as mt

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MODELS = ("alpaca-13b", "gpt-4", "llama-13b", "vicuna-7b-v1.3")
# (question, model) -> what the judge wrote; the rest of the answers get no readable rating
GRADES = {
    (81, "gpt-4"): "Warm and concise. Rating: [[10]]",
    (81, "alpaca-13b"): "Off topic. Rating: [[1]]",
    (83, "vicuna-7b-v1.3"): "Clear. Rating: [[9]]",
    (83, "llama-13b"): "Confused. Rating: [[3]]",
    (82, "gpt-4"): "Vivid. Rating: [[8]]",
    (82, "llama-13b"): "Flat. Rating: [[5]]",
}


@pytest.fixture
def prompts_file(mirror: Path) -> Path:
    """The pinned judge prompts from the real mirror (read before RBKIT_SOURCES points at fixtures)."""
    return mirror / mt.JUDGE_PROMPTS.mirror_path


@pytest.fixture
def fixture_sources(prompts_file: Path, monkeypatch: pytest.MonkeyPatch) -> mt.MTBenchSources:
    monkeypatch.setenv("RBKIT_SOURCES", str(FIXTURES))
    answers = []
    for model in MODELS:
        src = mt.mirrored_answer(model)
        answers.append((model, replace(src, sha256=sha256_file(FIXTURES / src.mirror_path), size=None)))
    return replace(mt.SOURCES, questions=replace(mt.QUESTIONS, sha256=sha256_file(FIXTURES / mt.QUESTIONS.mirror_path),
                                                 size=None), answers=tuple(answers))


def write_judgments(path: Path, sources: mt.MTBenchSources, prompts_file: Path) -> dict[str, int]:
    prompt = named_prompt(prompts_file, "single-v1")
    items = [Answer(*row) for row in mt.turn1_items(sources)]
    requests = grading_requests(items, prompt, SamplingParams(max_new_tokens=64))
    outputs = [Completion(r.id, GRADES.get((i.question_id, i.model), "A fine answer overall."), "stop", 1, 1, "my-judge")
               for i, r in zip(items, requests, strict=True)]
    records, counts = judgment_records(items, requests, outputs, "my-judge", prompt)
    path.write_text("".join(canonical_json(r) + "\n" for r in records))
    return counts


def test_substitute_grades_give_the_original_bands_and_name_the_judge(
        fixture_sources: mt.MTBenchSources, prompts_file: Path, tmp_path: Path) -> None:
    judgments = tmp_path / "judgments.jsonl"
    counts = write_judgments(judgments, fixture_sources, prompts_file)
    assert counts == {"graded": 6, "unparseable": 14, "errors": 0}
    specs = mt.substitute_specs(mt.judged_sources(judgments, "my-judge", base=fixture_sources))
    result = run_build(specs, tmp_path / "out", BuildOptions())
    rows = {o.subset: [(r.provenance.extra_dict()["question_id"], r.chosen_model, r.rejected_model) for r in o.rows]
            for o in result.outcomes}
    assert rows == {"mt-bench-easy": [(81, "gpt-4", "alpaca-13b")], "mt-bench-med": [(83, "vicuna-7b-v1.3", "llama-13b")],
                    "mt-bench-hard": [(82, "gpt-4", "llama-13b")]}
    manifest = json.loads((tmp_path / "out" / "build.json").read_text())
    for name in rows:
        assert "judge my-judge (single-v1) instead of GPT-4" in manifest["subsets"][name]["substitute"]
    assert manifest["subsets"]["mt-bench-easy"]["report"]["mtbench"]["judgments"]["ungraded"] == 14
