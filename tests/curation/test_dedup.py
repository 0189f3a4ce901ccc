import random

import numpy as np
import pytest
from rbkit.curation.dedup import (
    DedupStep,
    allowed_word_difference,
    cross_subset_report,
    exact_key,
    find_duplicates,
    normalize,
    word_difference,
)
from rbkit.curation.minhash import jaccard, minhash, shingles
from rbkit.curation.pipeline import BuildContext, BuildOptions
from rbkit.curation.rows import Provenance, TrioRow, stable_id

RECIPE = (
    "I like to host guests at my home from time to time, and I am gathering recipes of different dishes "
    "and drinks to keep things interesting. I am interested in trying some Danish dishes. Can you give me a recipe for {}?"
)


def row(prompt, subset="s", i=0, source="src") -> TrioRow:
    key = f"{subset}#{i}"
    return TrioRow(prompt, "c", "m1", "r", "m2", subset, stable_id(subset, key), Provenance(source, "f", "rev", "0" * 64, key, "tests", "1"))


def test_normalize_removes_case_punctuation_and_spacing():
    assert normalize("  What's the CAPITAL\tof France?? ") == "what s the capital of france"
    assert exact_key("What is the capital of France?") == exact_key("what is the capital of france")
    assert exact_key("What is the capital of France?") != exact_key("What is the capital of Spain?")


def test_shingles_are_deterministic_sorted_and_unique():
    a = shingles("the cat sat on the mat")
    assert np.array_equal(a, shingles("The cat sat on the mat."))
    assert np.all(np.diff(a) > 0)
    assert shingles("").size == 0 and shingles("abc").size == 1  # shorter than a shingle: one shingle


def test_jaccard_is_exact():
    a, b = np.array([1, 2, 3, 4]), np.array([3, 4, 5])
    assert jaccard(a, b) == pytest.approx(2 / 5)
    assert jaccard(np.array([], dtype=np.int64), np.array([], dtype=np.int64)) == 1.0


def test_minhash_is_stable_across_processes_and_equal_for_equal_sets():
    # a fixed value: a salted or random hash would change it from run to run
    assert int(minhash(shingles("hello world"))[0]) == 6291078734190565292
    assert np.array_equal(minhash(shingles("Hello, world!")), minhash(shingles("hello world")))


def random_words(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(n)]


def test_minhash_agreement_tracks_jaccard():
    rng = random.Random(7)
    words = random_words(rng, 3000)
    base = " ".join(rng.choice(words) for _ in range(300))
    near = base.replace(base.split()[10], "zzz", 1)
    far = " ".join(rng.choice(words) for _ in range(300))
    for other in (near, far):
        a, b = shingles(base), shingles(other)
        agreement = float(np.mean(minhash(a) == minhash(b)))
        assert abs(agreement - jaccard(a, b)) < 0.15


def test_exact_and_near_duplicates_are_found():
    texts = [
        "What is the capital of France?",
        "what is the capital of france",  # exact after normalisation
        "Write a short poem about the sea and the ships that sail on it at night.",
        "Write a short poem about the sea and the ships that sail on it at night please.",  # one word more
        "Explain photosynthesis.",
    ]
    matches = find_duplicates(texts)
    assert [(m.a, m.b, m.kind) for m in matches] == [(0, 1, "exact"), (2, 3, "near")]
    assert matches[1].word_diff == 1 and 0.8 <= matches[1].jaccard < 1


def test_templated_prompts_about_different_things_are_not_duplicates():
    texts = [RECIPE.format("Flæskesteg"), RECIPE.format("Koldskål")]
    assert jaccard(shingles(texts[0]), shingles(texts[1])) > 0.85
    assert find_duplicates(texts) == []


def test_lsh_finds_what_brute_force_finds():
    rng = random.Random(3)
    words = random_words(rng, 2000)
    texts = [" ".join(rng.choice(words) for _ in range(60)) for _ in range(150)]
    for i in range(0, 40, 4):  # plant near duplicates: one word added
        texts[i + 1] = texts[i] + " please"
    texts[50] = texts[48].replace(texts[48].split()[5], "other", 1)  # two words differ: a different request
    found = {(m.a, m.b) for m in find_duplicates(texts, 0.8)}
    grams = [shingles(t) for t in texts]
    brute = set()
    for a in range(len(texts)):
        for b in range(a + 1, len(texts)):
            if jaccard(grams[a], grams[b]) >= 0.8 and word_difference(texts[a], texts[b]) <= allowed_word_difference(texts[a], texts[b]):
                brute.add((a, b))
    assert len(brute) == 10 and found == brute


def test_threshold_is_validated():
    with pytest.raises(ValueError):
        find_duplicates(["a"], threshold=0)


def test_dedup_step_keeps_the_first_of_each_group_and_says_why():
    rows = [row("What is the capital of France?", i=0), row("Explain gravity.", i=1), row("WHAT is the capital of france", i=2)]
    result = DedupStep()(rows, BuildContext("s", BuildOptions()))
    assert [r.provenance.row_key for r in result.kept] == ["s#0", "s#1"]
    assert all("dedup" in r.provenance.filters_passed for r in result.kept)
    [dropped] = result.dropped
    assert dropped.step == "filter:dedup" and dropped.reason == "exact-duplicate prompt of an earlier row"
    assert '"duplicate_of":"s#0"' in dropped.evidence
    assert result.report == {"threshold": 0.8, "policy": "drop", "exact_pairs": 1, "near_pairs": 0, "duplicate_rows": 1}


def test_dedup_step_in_report_mode_keeps_everything():
    rows = [row("Same prompt.", i=0), row("same prompt", i=1)]
    result = DedupStep(policy="report")(rows, BuildContext("s", BuildOptions()))
    assert len(result.kept) == 2 and result.dropped == [] and result.report["duplicate_rows"] == 1


def test_dedup_step_handles_multi_turn_prompts():
    turns = ({"role": "user", "content": "Hi there, can you help me plan a trip?"}, {"role": "assistant", "content": "Sure!"})
    rows = [row(turns, i=0), row(turns, i=1)]
    assert len(DedupStep()(rows, BuildContext("s", BuildOptions())).kept) == 1


def test_cross_subset_report_separates_expected_overlap_from_leaks():
    by_subset = {
        "alpaca-a": [row("Name a red fruit.", "alpaca-a", 0, "alpacaeval"), row("Explain tides.", "alpaca-a", 1, "alpacaeval")],
        "alpaca-b": [row("name a red fruit", "alpaca-b", 0, "alpacaeval")],
        "other": [row("Explain tides", "other", 0, "elsewhere"), row("Explain tides!", "other", 1, "elsewhere")],
    }
    report = cross_subset_report(by_subset)
    pairs = {tuple(p["subsets"]): p for p in report["pairs"]}
    assert set(pairs) == {("alpaca-a", "alpaca-b"), ("alpaca-a", "other")}
    assert pairs[("alpaca-a", "alpaca-b")]["same_source"] is True and pairs[("alpaca-a", "alpaca-b")]["exact"] == 1
    assert pairs[("alpaca-a", "other")]["same_source"] is False and pairs[("alpaca-a", "other")]["exact"] == 2
    assert report["unexpected"] == 2  # the within-"other" duplicate is DedupStep's business
    assert report["rows"] == 5
