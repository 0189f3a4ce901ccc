"""Evaluator test setup: make `eval_testkit` (tiny models, row writers) importable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(scope="session")
def tiny_rm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny LlamaForSequenceClassification with a trained BPE tokenizer and a template."""
    from eval_testkit import tiny_classifier

    return tiny_classifier(tmp_path_factory.mktemp("tiny-rm"))


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from eval_testkit import tiny_causal_lm

    return tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(scope="session")
def rows_70(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """70 pairwise rows of varied lengths in three subsets (JSONL)."""
    from eval_testkit import write_rows

    return write_rows(tmp_path_factory.mktemp("rows") / "rows.jsonl", 70)
