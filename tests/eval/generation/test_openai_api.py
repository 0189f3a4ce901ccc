"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 serving SmolLM2,
with each fault injected at the server (openai_server.py)."""

from __future__ import annotations

import socket
import time

import pytest
from rbkit.eval.generation import (
    GenerationError,
    GenerationRequest,
    Message,
    SamplingParams,
    open_backend,
    run_requests,
)

from tests.eval.generation.openai_server import Faults, serve_openai

pytestmark = pytest.mark.model


def _requests(n: int = 1) -> list[GenerationRequest]:
    prompts = ["What is 2+2?", "Name a colour.", "Say hi.", "Count to three."]
    return [GenerationRequest(f"q{i}", (Message("user", prompts[i]),), SamplingParams(max_new_tokens=2)) for i in range(n)]


def _api(server, **kw):
    kw.setdefault("backoff_s", 0.01)
    kw.setdefault("timeout", 60.0)
    return open_backend(server.model, api_base=server.url, **kw)


def test_completions_come_back_in_request_order_with_token_counts(smollm2_backend):
    with serve_openai(smollm2_backend) as server:
        out = run_requests(_api(server, concurrency=4), _requests(3), cache=False, progress=False)
    assert [c.request_id for c in out] == ["q0", "q1", "q2"]
    assert all(c.finish_reason in ("stop", "length") and c.prompt_tokens > 10 and 0 < c.completion_tokens <= 2 for c in out)
    assert server.generated == 3


def test_a_rerun_is_served_from_the_cache_and_sends_nothing(smollm2_backend, tmp_path):
    with serve_openai(smollm2_backend) as server:
        first = run_requests(_api(server), _requests(2), cache=tmp_path, progress=False)
        sent = server.chat_requests
        again = run_requests(_api(server), _requests(2), cache=tmp_path, progress=False)
    assert sent == 2 and server.chat_requests == 2
    assert [c.text for c in again] == [c.text for c in first] and all(c.cached for c in again)


def test_429s_are_retried_honouring_retry_after(smollm2_backend):
    with serve_openai(smollm2_backend, faults=Faults(rate_limited=2, retry_after="1")) as server:
        start = time.monotonic()
        [done] = run_requests(_api(server), _requests(1), cache=False, progress=False)
        waited = time.monotonic() - start
    assert done.finish_reason != "error" and server.chat_requests == 3
    assert waited >= 2.0  # two Retry-After: 1 honoured, although the backoff base is 10 ms


def test_500s_are_retried_until_the_answer_comes(smollm2_backend):
    with serve_openai(smollm2_backend, faults=Faults(server_errors=3)) as server:
        [done] = run_requests(_api(server), _requests(1), cache=False, progress=False)
    assert done.finish_reason != "error" and server.chat_requests == 4 and server.generated == 1


def test_a_request_past_its_timeout_is_retried_then_reported(smollm2_backend):
    with serve_openai(smollm2_backend, faults=Faults(slow=5, delay_s=1.5)) as server:
        [done] = run_requests(_api(server, timeout=0.3, max_retries=1), _requests(1), cache=False, progress=False)
    assert server.chat_requests == 2
    assert done.finish_reason == "error" and "no answer within 0.3 s" in done.error
    assert done.error.startswith(f"request q0 to {server.url}/chat/completions:")


def test_a_malformed_body_is_retried(smollm2_backend):
    with serve_openai(smollm2_backend, faults=Faults(malformed=1)) as server:
        [done] = run_requests(_api(server), _requests(1), cache=False, progress=False)
    assert done.finish_reason != "error" and server.chat_requests == 2


def test_malformed_bodies_to_the_end_give_an_error_naming_request_and_url(smollm2_backend, tmp_path):
    with serve_openai(smollm2_backend, faults=Faults(malformed=10)) as server:
        [done] = run_requests(_api(server, max_retries=2), _requests(1), cache=tmp_path, progress=False)
    assert done.finish_reason == "error" and server.chat_requests == 3
    assert f"request q0 to {server.url}/chat/completions: malformed response" in done.error
    assert not list(tmp_path.iterdir())  # an error is never cached


def test_a_server_dying_mid_run_fails_only_the_requests_it_did_not_answer(smollm2_backend, tmp_path):
    with serve_openai(smollm2_backend, faults=Faults(die_after=1)) as server:
        out = run_requests(_api(server, concurrency=1, max_retries=1), _requests(3), cache=tmp_path, progress=False)
    assert out[0].finish_reason != "error"
    assert [c.finish_reason for c in out[1:]] == ["error", "error"]
    assert all(f"request {c.request_id} to {server.url}" in c.error for c in out[1:])
    with serve_openai(smollm2_backend) as revived:  # the rerun asks only for what failed
        again = run_requests(_api(revived), _requests(3), cache=tmp_path, progress=False)
    assert revived.chat_requests == 2 and again[0].cached and all(c.finish_reason != "error" for c in again)


def test_a_client_error_is_not_retried(smollm2_backend):
    with serve_openai(smollm2_backend, model="another-model") as server:
        [done] = run_requests(open_backend("SmolLM2-135M-Instruct", api_base=server.url), _requests(1), cache=False, progress=False)
    assert server.chat_requests == 1 and done.finish_reason == "error"
    assert "HTTP 404" in done.error and "not retried" in done.error


def test_an_endpoint_down_at_the_start_is_one_clear_error():
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = open_backend("m", api_base=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(GenerationError, match=rf"cannot reach the endpoint http://127.0.0.1:{port}/v1"):
        run_requests(backend, _requests(1), cache=False, progress=False)


def test_the_api_key_is_sent_but_never_kept_shown_or_cached(smollm2_backend, tmp_path, monkeypatch):
    key = "sk-rbkit-test-5f2d8c1e9a7b4c3d"
    monkeypatch.setenv("RBKIT_TEST_KEY", key)
    with serve_openai(smollm2_backend, faults=Faults(server_errors=3)) as server:
        backend = _api(server, api_key_env="RBKIT_TEST_KEY", max_retries=1)
        out = run_requests(backend, _requests(2), cache=tmp_path, progress=False)
        ok = run_requests(backend, _requests(2), cache=tmp_path, progress=False)
    assert set(server.authorizations) == {f"Bearer {key}"}
    assert any(c.finish_reason == "error" for c in out) and all(c.finish_reason != "error" for c in ok)
    seen = [repr(backend), str(backend.identity()), *(repr(c) for c in out + ok)]
    seen += [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    assert not any(key in text for text in seen)


def test_a_named_key_variable_that_is_unset_is_an_error_naming_it(monkeypatch):
    monkeypatch.delenv("RBKIT_NO_SUCH_KEY", raising=False)
    with pytest.raises(GenerationError, match="--api-key-env RBKIT_NO_SUCH_KEY"):
        open_backend("m", api_base="http://127.0.0.1:9/v1", api_key_env="RBKIT_NO_SUCH_KEY")
