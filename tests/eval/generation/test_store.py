"""The completion cache file: append-only, a torn last line tolerated, errors never stored."""

from __future__ import annotations

from rbkit.eval.generation.store import CompletionStore, request_key
from rbkit.eval.generation.types import Completion, GenerationRequest, Message, SamplingParams

IDENTITY = {"backend": "openai", "model": "m", "revision": None}


def _request(rid: str, text: str = "hi", seed: int = 0) -> GenerationRequest:
    return GenerationRequest(rid, (Message("user", text),), SamplingParams(max_new_tokens=4, seed=seed))


def _done(rid: str, text: str, reason: str = "stop") -> Completion:
    return Completion(rid, text, reason, 3, 2, "m", None, error="boom" if reason == "error" else None)  # type: ignore[arg-type]


def test_key_is_the_question_not_the_request_id():
    assert request_key(IDENTITY, _request("a")) == request_key(IDENTITY, _request("b"))
    assert request_key(IDENTITY, _request("a")) != request_key(IDENTITY, _request("a", seed=1))
    assert request_key(IDENTITY, _request("a")) != request_key({**IDENTITY, "model": "n"}, _request("a"))


def test_a_torn_last_line_is_skipped_and_the_next_append_starts_a_fresh_line(tmp_path):
    store = CompletionStore(tmp_path, IDENTITY)
    store.put("k1", _done("a", "first"))
    with open(store.path, "ab") as fh:
        fh.write(b'{"completion":{"text":"cut sh')  # a kill in the middle of an append
    reopened = CompletionStore(tmp_path, IDENTITY)
    assert len(reopened) == 1
    reopened.put("k2", _done("b", "second"))
    again = CompletionStore(tmp_path, IDENTITY)
    assert again.get("k1", "x").text == "first" and again.get("k2", "y").text == "second"
    assert again.get("k2", "y").request_id == "y" and again.get("k2", "y").cached


def test_an_error_completion_is_not_stored(tmp_path):
    store = CompletionStore(tmp_path, IDENTITY)
    store.put("k", _done("a", "", "error"))
    assert store.get("k", "a") is None and not store.path.exists()
