"""examples/code-python: HumanEvalPack Python tasks, the canonical program (run, passing) chosen,
a SmolLM2 program that fails the tests in the sandbox rejected (pairwise).

- fresh: prompts from the mirror -> `rbkit generate` (1 task x 2 samples, a small token
  budget) -> spec pinned to the new file -> `rbkit build --plugin steps.py --spec`: every
  program ends in a row or in dropped.jsonl with its sandbox verdict.
- shipped: the committed example through build (twice, byte-identical), validate, blind
  review, publish --dry-run (loaded with datasets) and eval.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.examples.conftest import EXAMPLES, rbkit, spec_for
from tests.examples.examples_flow import check_accounted, shipped_end_to_end, write_example_prompts

EXAMPLE = "code-python"
SPEC = EXAMPLES / EXAMPLE / "spec.toml"
STEPS = EXAMPLES / EXAMPLE / "steps.py"
SUBSET = "code-python"


@pytest.mark.model
@pytest.mark.toolchain
@pytest.mark.slow
def test_fresh_candidates_build_against_their_pinned_hash(mirror: Path, with_model: Path, tmp_path: Path):
    prompts = tmp_path / "prompts.jsonl"
    write_example_prompts(EXAMPLE, prompts, 1)
    candidates = tmp_path / "candidates.parquet"
    rbkit("generate", "--prompts", prompts, "--model", "SmolLM2-135M-Instruct", "--n", "2",
          "--temperature", "0.7", "--top-p", "0.95", "--seed", "0", "--max-new-tokens", "32",
          "--batch-size", "8", "--out", candidates, "-q")
    spec = spec_for(SPEC, candidates, tmp_path / "spec")
    out = tmp_path / "out"
    rbkit("build", "--plugin", STEPS, "--spec", spec, "--out", out)
    check_accounted(out, SUBSET, candidates, used_per_row=1)
    report = json.loads((out / "build.json").read_text())["subsets"][SUBSET]
    assert report["report"]["steps"]["examples:verify-reference-code"]["references"] == {"pass": 1}


@pytest.mark.model
@pytest.mark.toolchain
@pytest.mark.argilla
@pytest.mark.slow
def test_shipped_example_builds_reviews_publishes_and_evaluates(argilla_env, with_model: Path, tmp_path: Path):
    rows = shipped_end_to_end(["--plugin", STEPS, "--spec", SPEC], [SUBSET], tmp_path, argilla_env)
    row = rows[SUBSET][0]
    assert row["chosen"].startswith("```python\n") and row["chosen_model"] == "reference"
    assert row["rejected_model"] == "SmolLM2-135M-Instruct"
