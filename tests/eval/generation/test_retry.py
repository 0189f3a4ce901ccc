"""Backoff policy: deterministic jitter, capped growth, Retry-After read as seconds or a date."""

from __future__ import annotations

from rbkit.eval.generation.retry import backoff_delay, retry_after_seconds, retryable_status


def test_backoff_is_deterministic_per_request_and_grows_to_the_cap():
    assert backoff_delay("r1", 2, 1.0, 60.0) == backoff_delay("r1", 2, 1.0, 60.0)
    assert backoff_delay("r1", 2, 1.0, 60.0) != backoff_delay("r2", 2, 1.0, 60.0)
    assert 2.0 <= backoff_delay("r1", 2, 1.0, 60.0) <= 4.0
    assert backoff_delay("r1", 30, 1.0, 60.0) <= 60.0


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("3", cap_s=60) == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", cap_s=60) == 0.0  # in the past
    assert retry_after_seconds("soon", cap_s=60) is None and retry_after_seconds(None, cap_s=60) is None
    assert retry_after_seconds("999", cap_s=60) == 60


def test_only_rate_limits_timeouts_and_server_errors_are_retried():
    assert all(retryable_status(s) for s in (429, 500, 502, 503, 504, 408))
    assert not any(retryable_status(s) for s in (400, 401, 403, 404, 422))
