from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from rbkit.curation.review.connection import (
    ReviewAuthError,
    ReviewServerError,
    ReviewTarget,
    check,
    resolve_target,
)
from rbkit.curation.review.pull import pull
from rbkit.curation.review.push import push


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket closes


def test_a_server_that_is_down_fails_after_bounded_retries():
    waits: list[float] = []
    target = ReviewTarget(f"http://127.0.0.1:{closed_port()}", "key")
    with pytest.raises(ReviewServerError, match=r"cannot reach Argilla at .* after 4 tries.*rbkit review serve"):
        check(target, attempts=4, delay=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]


def test_push_and_pull_to_a_server_that_is_down_write_nothing(build_dir: Path):
    before = {p: p.read_bytes() for p in build_dir.rglob("*") if p.is_file()}
    target = ReviewTarget(f"http://127.0.0.1:{closed_port()}", "key")
    started = time.monotonic()
    for command in (push, pull):
        with pytest.raises(ReviewServerError):
            command(build_dir, target)
    assert time.monotonic() - started < 20  # bounded: 2 commands x (0.5 + 1 + 2) s of waiting
    assert {p: p.read_bytes() for p in build_dir.rglob("*") if p.is_file()} == before


def test_target_resolution_order(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ARGILLA_API_URL", raising=False)
    monkeypatch.delenv("ARGILLA_API_KEY", raising=False)
    local = lambda: ("http://127.0.0.1:6900", "local-key")  # noqa: E731
    assert resolve_target(local=local) == ReviewTarget("http://127.0.0.1:6900", "local-key", "rbkit", "local server (rbkit review serve)")
    monkeypatch.setenv("ARGILLA_API_URL", "https://argilla.example.org/")
    monkeypatch.setenv("ARGILLA_API_KEY", "team-key")
    target = resolve_target(workspace="team", local=local)
    assert (target.api_url, target.api_key, target.workspace) == ("https://argilla.example.org", "team-key", "team")
    assert resolve_target("http://other:1", "k", local=local).api_url == "http://other:1"


def test_no_target_at_all_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ARGILLA_API_URL", raising=False)
    monkeypatch.delenv("ARGILLA_API_KEY", raising=False)
    with pytest.raises(ReviewServerError, match="rbkit review serve"):
        resolve_target(local=lambda: None)
    with pytest.raises(ReviewAuthError, match="no API key"):
        resolve_target("http://127.0.0.1:1", local=lambda: None)
