"""Shared-prefix scoring (eval.prefix_cache): same scores as full sequences, less work."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
import rbkit.eval.prefix_cache as pc
from rbkit.eval.render import EncodedPair
from rbkit.eval.runner import EvalConfig, run


def scores(model: Path, rows: Path, **kw) -> tuple[dict, dict]:
    outcome = run(EvalConfig(model=str(model), dataset=str(rows), bootstrap=0, cache=False, progress=False, **kw))
    return {(r.subset, r.id): r.scores for r in outcome.rows}, outcome.results


def assert_close(a: dict, b: dict, tol: float = 1e-5) -> None:
    assert a.keys() == b.keys()
    for key in a:
        for x, y in zip(a[key], b[key], strict=True):
            assert abs(x - y) <= tol, f"{key}: {x} vs {y}"


def test_classifier_scores_equal_full_sequence_scores(tiny_rm, rows_70):
    shared, res = scores(tiny_rm, rows_70)
    full, _ = scores(tiny_rm, rows_70, prefix_sharing=False)
    assert res["scorer"]["prefix_cache"] is True
    assert_close(shared, full)


def test_dpo_scores_equal_full_sequence_scores_with_a_reference(tiny_lm, rows_70, tmp_path):
    from eval_testkit import tiny_causal_lm

    ref = tiny_causal_lm(tmp_path / "ref", seed=1)
    shared, res = scores(tiny_lm, rows_70, kind="dpo", ref_model=str(ref))
    full, _ = scores(tiny_lm, rows_70, kind="dpo", ref_model=str(ref), prefix_sharing=False)
    assert res["scorer"]["prefix_cache"] is True
    assert_close(shared, full)


@pytest.mark.parametrize("reduction", ["sum", "avg", "norm"])
def test_reference_free_dpo_scores_equal_full_sequence_scores(tiny_lm, rows_70, reduction):
    shared, _ = scores(tiny_lm, rows_70, kind="dpo", reduction=reduction)
    full, _ = scores(tiny_lm, rows_70, kind="dpo", reduction=reduction, prefix_sharing=False)
    assert_close(shared, full)


def test_each_prompt_is_computed_once_and_little_is_padding(tiny_rm, rows_70):
    _, shared = scores(tiny_rm, rows_70)
    _, full = scores(tiny_rm, rows_70, prefix_sharing=False)
    run_s, run_f = shared["run"], full["run"]
    assert run_s["tokens"] == run_f["tokens"]  # the same sequences were scored
    assert run_s["prefix_shared_tokens"] > 0.1 * run_s["tokens"]
    assert run_s["padded_tokens"] < 0.7 * run_f["padded_tokens"]
    assert run_s["padding_fraction"] < 0.1 < run_f["padding_fraction"]


def test_best_of_n_rows_share_one_prefix(tiny_rm, tmp_path):
    rnd = random.Random(3)
    words = ["sea", "blue", "wide", "fox", "lazy", "dog", "answer", "four"]
    path = tmp_path / "rb2.jsonl"
    with open(path, "w") as fh:
        for i in range(12):
            comp = [" ".join(rnd.choices(words, k=rnd.randint(1, 12))) for _ in range(4)]
            fh.write(json.dumps({"id": str(i), "prompt": "Tell me about the sea. " * rnd.randint(1, 4),
                                 "chosen": comp[:1], "rejected": comp[1:], "subset": "Focus"}) + "\n")
    shared, res = scores(tiny_rm, path)
    full, _ = scores(tiny_rm, path, prefix_sharing=False)
    assert_close(shared, full)
    assert all(len(v) == 4 for v in shared.values())
    assert res["run"]["prefix_shared_tokens"] > 0


def test_a_cache_that_does_not_reproduce_the_forward_falls_back(tiny_rm, rows_70, monkeypatch):
    real = pc._make_cache

    def skewed(layers, config):
        return real([(k, v + 1.0) for k, v in layers], config)  # the past's values are off

    monkeypatch.setattr(pc, "_make_cache", skewed)
    outcome = run(EvalConfig(model=str(tiny_rm), dataset=str(rows_70), bootstrap=0, cache=False, progress=False))
    assert outcome.results["scorer"]["prefix_cache"] is False
    assert any("prefix sharing disabled" in n for n in outcome.notices)
    full, _ = scores(tiny_rm, rows_70, prefix_sharing=False)
    assert_close({(r.subset, r.id): r.scores for r in outcome.rows}, full)


def test_shared_prefix_respects_the_limit_and_the_minimum():
    a, b = [1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 9]
    assert pc.shared_prefix([a, b], limit=100) == 5
    assert pc.shared_prefix([a, b], limit=4) == 4
    assert pc.shared_prefix([a, [1, 2, 3, 8]], limit=100) == 0  # 3 < MIN_PREFIX: not worth a cache
    assert pc.shared_prefix([a, a[:5]], limit=4) == 4  # one sequence a prefix of the other


def brute_force(width, extra, budget, overhead):
    n = len(width)
    best = None
    for mask in itertools.product([0, 1], repeat=n - 1):
        cuts = [0] + [i + 1 for i, m in enumerate(mask) if m] + [n]
        spans = list(itertools.pairwise(cuts))
        if any(j - i > 1 and (j - i) * (width[j - 1] + max(extra[i:j])) > budget for i, j in spans):
            continue
        cost = sum((j - i) * width[j - 1] + overhead for i, j in spans)
        best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(20))
def test_partition_is_the_cheapest_feasible_split(seed):
    rnd = random.Random(seed)
    n = rnd.randint(1, 9)
    width = sorted(rnd.randint(1, 60) for _ in range(n))
    extra = [rnd.randint(0, 30) for _ in range(n)]
    budget, overhead = rnd.randint(40, 300), rnd.randint(0, 40)
    spans = pc.partition(width, extra, budget, overhead)
    assert [i for i, _ in spans][0] == 0 and spans[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    cost = sum((j - i) * width[j - 1] + overhead for i, j in spans)
    assert cost == brute_force(width, extra, budget, overhead)


def test_windows_hold_every_pair_once_within_their_limits():
    rnd = random.Random(5)
    encoded = []
    for _ in range(200):
        prompt = [1] * rnd.randint(5, 300)
        encoded.append(EncodedPair([prompt + [2] * rnd.randint(1, 200), prompt + [3] * rnd.randint(1, 200)], [0, 0]))
    windows = pc.plan_windows(encoded, max_tokens=2000, max_pairs=16)
    assert sorted(i for w in windows for i in w) == list(range(200))
    for w in windows:
        assert len(w) <= 16
        assert len(w) == 1 or sum(pc.shared_prefix(encoded[i].sequences, 10**9) for i in w) <= 1000
        assert len(w) == 1 or sum(encoded[i].tokens for i in w) <= pc.WINDOW_FACTOR * 2000


def test_only_the_built_in_scorers_are_wrapped(tiny_rm):
    from rbkit.eval.heads import LoadOptions, SequenceClassifier, load_sequence_classifier
    from rbkit.eval.models import resolve

    builtin = load_sequence_classifier(resolve(str(tiny_rm)), LoadOptions())

    class Custom(SequenceClassifier):  # may score differently: keep its own path
        pass

    custom = Custom(builtin.model, builtin.tokenizer, builtin.pooling, builtin.context_length, builtin.pad_id, None)
    assert isinstance(pc.with_prefix_sharing(builtin, 8192), pc.PrefixScorer)
    assert pc.with_prefix_sharing(custom, 8192) is custom
