"""examples/math-best-of-4: MATH500 problems, the reference chosen, three wrong SmolLM2 samples rejected.

Two tests, the two halves of the walkthrough:
- fresh: prompts from the mirror -> `rbkit generate` (1 problem x 4 samples, a small token
  budget to fit CI) -> the spec pinned to the new file's sha256 (what the user does with the
  hash generate prints) -> `rbkit build`. Every sample ends in a row or in dropped.jsonl with
  its verdict; how many rows survive depends on what the model wrote, so it is not asserted.
- shipped: the example as committed (its candidates file, generated once by the command in
  examples/math-best-of-4/README.md, pinned in spec.toml) -> build twice, byte-identical ->
  validate -> blind review push/pull on the local Argilla -> publish --dry-run, loaded back
  with datasets.load_dataset -> rbkit eval.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.examples.conftest import EXAMPLES, rbkit, spec_for
from tests.examples.examples_flow import check_accounted, shipped_end_to_end, write_example_prompts

EXAMPLE = "math-best-of-4"
SPEC = EXAMPLES / EXAMPLE / "spec.toml"
SUBSET = "math-best-of-4"


@pytest.mark.model
@pytest.mark.slow
def test_fresh_candidates_build_against_their_pinned_hash(mirror: Path, with_model: Path, tmp_path: Path):
    prompts = tmp_path / "prompts.jsonl"
    write_example_prompts(EXAMPLE, prompts, 1)
    candidates = tmp_path / "candidates.parquet"
    generated = rbkit("generate", "--prompts", prompts, "--model", "SmolLM2-135M-Instruct", "--n", "4",
                      "--temperature", "0.7", "--top-p", "0.95", "--seed", "0", "--max-new-tokens", "24",
                      "--batch-size", "8", "--out", candidates, "-q")
    assert "sha256" in generated.output
    spec = spec_for(SPEC, candidates, tmp_path / "spec")
    out = tmp_path / "out"
    rbkit("build", "--spec", spec, "--out", out)
    check_accounted(out, SUBSET, candidates, used_per_row=3)
    build = json.loads((out / "build.json").read_text())
    assert build["subsets"][SUBSET]["spec"]["sha256"]


@pytest.mark.model
@pytest.mark.argilla
@pytest.mark.slow
def test_shipped_example_builds_reviews_publishes_and_evaluates(argilla_env, with_model: Path, tmp_path: Path):
    rows = shipped_end_to_end(["--spec", SPEC], [SUBSET], tmp_path, argilla_env)
    (row,) = rows[SUBSET][:1]
    assert len(row["chosen"]) == 1 and len(row["rejected"]) == 3
    assert row["chosen_model"] == "reference" and row["rejected_model"] == "SmolLM2-135M-Instruct"
