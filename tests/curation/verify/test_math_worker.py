import time

import pytest
from rbkit.curation.verify.math_worker import EquivalenceWorker

# 2^(2^65536) as an exact integer: sympy starts computing and never finishes.
PATHOLOGICAL = "2^{2^{2^{2^{2^{2}}}}}"


@pytest.fixture(scope="module")
def worker():
    with EquivalenceWorker(timeout_s=1.0) as w:
        w.compare("\\frac{1}{3}", "0.5")  # start the child outside the timed tests
        yield w


def test_worker_compares_through_the_child(worker):
    outcome = worker.compare("\\frac{2}{6}", "\\frac13")
    assert (outcome.verdict, outcome.method) == ("equal", "exact")


def test_quick_path_needs_no_child():
    w = EquivalenceWorker(timeout_s=1.0)
    assert w.compare("\\dfrac{1}{2}", "\\frac12").verdict == "equal"
    assert w._proc is None  # decided by spelling alone


def test_pathological_expression_times_out_within_the_budget(worker):
    worker.start()
    started = time.monotonic()
    outcome = worker.compare(PATHOLOGICAL, "3")
    elapsed = time.monotonic() - started
    assert outcome.verdict == "timeout"
    assert "killed" in outcome.note
    assert elapsed < 1.0 + 0.5  # the budget plus the time to kill the child


@pytest.mark.slow
def test_worker_recovers_after_a_kill(worker):
    before = worker.restarts
    assert worker.compare(PATHOLOGICAL, "4").verdict == "timeout"
    assert worker.restarts == before + 1
    assert worker.compare("2\\sqrt2", "\\sqrt8").verdict == "equal"
    assert worker.restarts == before + 1  # the new child answered


@pytest.mark.slow
def test_memory_blowup_is_an_error_or_timeout_not_a_hang():
    with EquivalenceWorker(timeout_s=3.0, memory_mb=512) as w:
        w.compare("1", "\\frac{2}{2}+1")  # start the child
        started = time.monotonic()
        outcome = w.compare("10^{10^{10}}", "1")
        assert outcome.verdict in ("error", "timeout")
        assert time.monotonic() - started < 3.0 + 0.5


@pytest.mark.slow
def test_close_is_idempotent_and_the_worker_restarts_on_use():
    w = EquivalenceWorker(timeout_s=2.0)
    assert w.compare("x^2", "x\\cdot x").verdict == "equal"
    w.close()
    w.close()
    assert w.compare("x^2", "x+x").verdict == "unequal"
    w.close()


def test_timeout_must_be_positive():
    with pytest.raises(ValueError):
        EquivalenceWorker(timeout_s=0)
