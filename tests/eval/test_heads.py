"""Classifier heads: clear refusals, seeded random heads, pad-less tokenizers, pluggable heads."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
import torch
from eval_testkit import tiny_classifier
from rbkit.eval import heads
from rbkit.eval.errors import ModelError
from rbkit.eval.heads import (
    LoadOptions,
    SequenceClassifier,
    load_sequence_classifier,
    register_head,
)
from rbkit.eval.models import resolve
from rbkit.eval.runner import EvalConfig, run


def quick(model, rows, **kw):
    return run(EvalConfig(model=str(model), dataset=str(rows), bootstrap=0, cache=False, progress=False, **kw))


def test_a_language_model_without_score_head_is_refused(tiny_lm, rows_70):
    with pytest.raises(ModelError, match=r"has no score head \(score\.weight missing.*--kind dpo.*--random-head"):
        quick(tiny_lm, rows_70, kind="classifier")


def test_random_head_is_seeded_and_reproducible(tiny_lm, rows_70):
    a = quick(tiny_lm, rows_70, kind="classifier", random_head_seed=3)
    b = quick(tiny_lm, rows_70, kind="classifier", random_head_seed=3)
    c = quick(tiny_lm, rows_70, kind="classifier", random_head_seed=4)
    assert [r.scores for r in a.rows] == [r.scores for r in b.rows]
    assert [r.scores for r in a.rows] != [r.scores for r in c.rows]
    assert a.results["config"]["random_head_seed"] == 3


def test_tokenizer_without_pad_token_gets_a_clear_notice_and_still_scores(tmp_path, rows_70):
    model = tiny_classifier(tmp_path / "nopad", pad=False)
    outcome = quick(model, rows_70)
    assert any("no pad token" in n and "never pooled" in n for n in outcome.results["notices"])
    assert outcome.results["dataset"]["rows"] == 70


def test_no_chat_template_uses_tulu_and_the_result_names_it(tmp_path, rows_70):
    model = tiny_classifier(tmp_path / "notemplate", template=None)
    outcome = quick(model, rows_70)
    assert outcome.results["rendering"]["template"] == "tulu"
    assert any("tulu" in n for n in outcome.results["notices"])


def test_pooling_reads_each_rows_own_last_token(tiny_rm):
    """Right-padded batch vs one row at a time: the pooled score is the unpadded one."""
    scorer = load_sequence_classifier(resolve(str(tiny_rm)), LoadOptions())
    assert scorer.pooling == "last-token"
    from rbkit.eval.batching import collate
    from rbkit.eval.render import EncodedPair

    encoded = [EncodedPair([[1, 5, 6, 7, 8, 9, 2]], [0]), EncodedPair([[1, 5, 2]], [0])]
    together = scorer.score(collate([0, 1], encoded, pad_id=scorer.pad_id))
    alone = torch.cat([scorer.score(collate([i], encoded, pad_id=scorer.pad_id)) for i in (0, 1)])
    assert torch.allclose(together, alone, atol=1e-6)


def test_a_custom_head_plugs_in_by_decorator(tiny_rm, rows_70):
    calls = []

    @register_head("test-negated")
    def load_negated(model, options):
        inner = load_sequence_classifier(model, options)
        calls.append(model.id)

        class Negated(SequenceClassifier):
            def score(self, batch):
                return -super().score(batch)

        return Negated(inner.model, inner.tokenizer, inner.pooling, inner.context_length, inner.pad_id, None,
                       head="test-negated")

    try:
        plain = quick(tiny_rm, rows_70, prefix_sharing=False)  # custom heads score full sequences
        negated = quick(tiny_rm, rows_70, head="test-negated")
    finally:
        heads._HEADS.pop("test-negated", None)
    assert calls and negated.results["config"]["head"] == "test-negated"
    for a, b in zip(plain.rows, negated.rows, strict=True):
        assert a.scores == tuple(-x for x in b.scores)


def test_a_head_can_come_from_an_entry_point(monkeypatch, tiny_rm):
    ep = EntryPoint(name="from-entry-point", value="rbkit.eval.heads:load_sequence_classifier", group=heads.ENTRY_POINT_GROUP)
    monkeypatch.setattr(heads, "entry_points", lambda group: [ep] if group == heads.ENTRY_POINT_GROUP else [])
    try:
        assert "from-entry-point" in heads.available_heads()
        assert heads.get_head("from-entry-point") is load_sequence_classifier
    finally:
        heads._HEADS.pop("from-entry-point", None)
    with pytest.raises(ModelError, match="unknown reward head 'nope'"):
        heads.get_head("nope")
