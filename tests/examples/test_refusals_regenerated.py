"""examples/refusals-regenerated: CoCoNot harmful prompts, a generated refusal chosen over a
generated compliance, each side verified by the refusal detector (two subsets, one spec each).

- fresh: one offensive-language prompt from the mirror, asked both ways, 2 samples each ->
  `rbkit generate` -> its spec pinned to the new file -> `rbkit build --spec FOLDER`: every
  answer ends in a row or in dropped.jsonl with the detector's label.
- shipped: the committed example through build (twice, byte-identical), validate, blind
  review, publish --dry-run (loaded with datasets) and eval; the card names the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.examples.conftest import EXAMPLES, rbkit, spec_for
from tests.examples.examples_flow import check_accounted, shipped_end_to_end, write_example_prompts

EXAMPLE = "refusals-regenerated"
FOLDER = EXAMPLES / EXAMPLE
SUBSETS = {"refusals-dangerous": "refusals-dangerous", "refusals-offensive": "refusals-offensive"}  # source -> built


@pytest.mark.model
@pytest.mark.slow
def test_fresh_candidates_build_against_their_pinned_hash(mirror: Path, with_model: Path, tmp_path: Path):
    source_subset = "refusals-offensive"  # one of the two specs: they differ only in the subcategory
    prompts = tmp_path / "prompts-offensive.jsonl"
    write_example_prompts(EXAMPLE, prompts, 1, subset=source_subset)
    candidates = tmp_path / "candidates-offensive.parquet"
    rbkit("generate", "--prompts", prompts, "--model", "SmolLM2-135M-Instruct", "--n", "2",
          "--temperature", "0.7", "--top-p", "0.95", "--seed", "0", "--max-new-tokens", "24",
          "--batch-size", "8", "--out", candidates, "-q")
    specs = tmp_path / "specs"
    spec_for(FOLDER / f"{source_subset}.toml", candidates, specs)
    out = tmp_path / "out"
    rbkit("build", "--spec", specs, "--out", out)
    check_accounted(out, SUBSETS[source_subset], candidates, used_per_row=2)


@pytest.mark.model
@pytest.mark.argilla
@pytest.mark.slow
def test_shipped_example_builds_reviews_publishes_and_evaluates(argilla_env, with_model: Path, tmp_path: Path):
    rows = shipped_end_to_end(["--spec", FOLDER], list(SUBSETS.values()), tmp_path, argilla_env)
    for name in SUBSETS.values():
        row = rows[name][0]
        assert row["chosen_model"] == row["rejected_model"] == "SmolLM2-135M-Instruct"
    card = (tmp_path / "hub" / "README.md").read_text(encoding="utf-8")
    assert "SmolLM2-135M-Instruct" in card
    results = json.loads((tmp_path / "eval" / "results.json").read_text(encoding="utf-8"))
    assert set(results["comparability"]["substitutes"]) == set(SUBSETS.values())  # filled, and labelled
