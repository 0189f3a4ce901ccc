"""When to try an API request again, and how long to wait first (pure functions, no clock reads
except for an HTTP-date Retry-After)."""

from __future__ import annotations

import hashlib

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def retryable_status(status: int) -> bool:
    """Rate limits, timeouts and server errors pass; other 4xx (bad request, auth) will not."""
    return status in RETRY_STATUSES or status >= 500


def backoff_delay(request_id: str, attempt: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff with jitter that is deterministic: the same request id and attempt
    always wait the same time, so runs are reproducible, while different requests spread out
    (between half and all of base * 2**attempt, capped)."""
    digest = hashlib.sha256(f"{request_id}\x1f{attempt}".encode()).digest()
    fraction = int.from_bytes(digest[:4], "big") / 2**32
    return min(cap_s, base_s * 2**attempt) * (0.5 + 0.5 * fraction)


def retry_after_seconds(value: str | None, cap_s: float) -> float | None:
    """The server's Retry-After (seconds, or an HTTP date), capped; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from datetime import datetime, timezone
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    return min(max(seconds, 0.0), cap_s)
