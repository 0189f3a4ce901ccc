"""examples/refusals-regenerated: CoCoNot harmful prompts, a generated refusal chosen over a
generated compliance, each side verified by the refusal detector (two subsets, one spec each).

- fresh: prompts from the mirror (2 per subcategory, two system prompts each) -> `rbkit
  generate` -> both specs pinned to the new files -> `rbkit build --spec FOLDER`: every answer
  ends in a row or in dropped.jsonl with the detector's label.
- shipped: the committed example through build (twice, byte-identical), validate, blind
  review, publish --dry-run (loaded with datasets) and eval; the card names the model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.examples.conftest import EXAMPLES, rbkit, spec_for
from tests.examples.examples_flow import check_accounted, shipped_end_to_end, write_example_prompts

EXAMPLE = "refusals-regenerated"
FOLDER = EXAMPLES / EXAMPLE
SUBSETS = {"refusals-dangerous": "refusals-dangerous-regen", "refusals-offensive": "refusals-offensive-regen"}


@pytest.mark.model
@pytest.mark.slow
def test_fresh_candidates_build_against_their_pinned_hash(mirror: Path, with_model: Path, tmp_path: Path):
    specs = tmp_path / "specs"
    for source_subset in SUBSETS:
        short = source_subset.removeprefix("refusals-")
        prompts = tmp_path / f"prompts-{short}.jsonl"
        write_example_prompts(EXAMPLE, prompts, 2, subset=source_subset)
        candidates = tmp_path / f"candidates-{short}.parquet"
        rbkit("generate", "--prompts", prompts, "--model", "SmolLM2-135M-Instruct", "--n", "1",
              "--temperature", "0.7", "--top-p", "0.95", "--seed", "0", "--max-new-tokens", "24",
              "--batch-size", "8", "--out", candidates, "-q")
        spec_for(FOLDER / f"{source_subset}.toml", candidates, specs)
    out = tmp_path / "out"
    rbkit("build", "--spec", specs, "--out", out)
    for source_subset, name in SUBSETS.items():
        check_accounted(out, name, tmp_path / f"candidates-{source_subset.removeprefix('refusals-')}.parquet", used_per_row=2)


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
