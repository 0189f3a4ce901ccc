"""The OpenAI-compatible backend: POST {api_base}/chat/completions through a bounded pool.

It covers vLLM, SGLang, TGI, llama.cpp's `llama-server`, `python -m llama_cpp.server` and
hosted APIs. Requests run on `concurrency` threads sharing one httpx client; each has its own
timeout and is retried on 429, 408 and 5xx answers, on connection errors, on timeouts and on
a body that is not a chat completion, with exponential backoff whose jitter is derived from the
request id (deterministic) and with the server's Retry-After honoured when it sends one.

Failures (decided):
- The endpoint cannot be reached at all when the run starts (connection refused, DNS, connect
  timeout on GET {api_base}/models): one `GenerationError` before any request is sent. Any
  HTTP answer to that probe, even 401 or 404, counts as reachable.
- Everything after that is per request: when retries are exhausted (server died mid-run, a
  body that never parses, 429 for ever) or the answer is a non-retryable 4xx, the request gets
  a Completion with finish_reason "error" and an error text naming the request id and URL.
  Errors are never cached, so the next run asks exactly the failed requests again.

The API key is read from the environment variable `api_key_env` (default OPENAI_API_KEY)
when the backend is opened. It lives only in the request headers: it is not part of
`identity()` (the cache key), `repr()`, any error text (answers are scrubbed of it), or any
file rbkit writes.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from rbkit.eval.generation.errors import GenerationError
from rbkit.eval.generation.retry import backoff_delay, retry_after_seconds, retryable_status
from rbkit.eval.generation.types import Completion, GenerationRequest

DEFAULT_KEY_ENV = "OPENAI_API_KEY"


class MalformedResponse(ValueError):
    """A 200 answer that is not a chat completion."""


class OpenAIBackend:
    kind = "openai"

    def __init__(
        self,
        api_base: str,
        model: str,
        *,
        api_key_env: str | None = None,
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        revision: str | None = None,
    ) -> None:
        """`api_key_env` named explicitly must be set; the default OPENAI_API_KEY may be unset
        (local servers need no key), and then no Authorization header is sent."""
        if concurrency < 1:
            raise GenerationError(f"--concurrency {concurrency}: expected at least 1")
        if timeout <= 0:
            raise GenerationError(f"--timeout {timeout}: expected a positive number of seconds")
        self.api_base = api_base.rstrip("/")
        self.url = f"{self.api_base}/chat/completions"
        self.model = model
        self.revision = revision
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        env = api_key_env or DEFAULT_KEY_ENV
        key = os.environ.get(env, "")
        if api_key_env and not key:
            raise GenerationError(f"--api-key-env {env}: that environment variable is not set (or empty)")
        self.key_env = env
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._scrub = _scrubber(key)
        self._stopping = threading.Event()

    def __repr__(self) -> str:
        return f"OpenAIBackend(api_base={self.api_base!r}, model={self.model!r}, key_env={self.key_env!r})"

    def identity(self) -> Mapping[str, Any]:
        """The served model's name (and revision when given); not the URL, so the same model
        behind another address or port is the same cache entry; never the key."""
        return {"backend": self.kind, "model": self.model, "revision": self.revision}

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Completion]:
        import httpx

        if not requests:
            return
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        with httpx.Client(limits=limits, timeout=self.timeout) as client:
            self._check_reachable(client)
            self._stopping = threading.Event()  # set when the caller stops (Ctrl-C, error): no new attempts
            pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="rbkit-api")
            pending: set[Future[Completion]] = set()
            todo = iter(requests)
            try:
                for req in todo:  # a window of 2x concurrency: memory stays bounded for any size
                    pending.add(pool.submit(self._one, client, req))
                    if len(pending) >= 2 * self.concurrency:
                        break
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        yield fut.result()
                        nxt = next(todo, None)
                        if nxt is not None:
                            pending.add(pool.submit(self._one, client, nxt))
            finally:
                self._stopping.set()
                for fut in pending:
                    fut.cancel()
                pool.shutdown(wait=True, cancel_futures=True)

    def _check_reachable(self, client: Any) -> None:
        import httpx

        probe = f"{self.api_base}/models"
        try:
            client.get(probe, headers=self._headers, timeout=min(self.timeout, 10.0))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
            raise GenerationError(
                f"cannot reach the endpoint {self.api_base} ({type(exc).__name__}: {self._scrub(str(exc))}); "
                "is the server running and --api-base right?"
            ) from None
        except httpx.HTTPError:
            return  # it answered something, or broke mid-answer: requests will say more

    def _body(self, req: GenerationRequest) -> dict[str, Any]:
        p = req.params
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in req.messages],
            "max_tokens": p.max_new_tokens,
            "temperature": p.temperature,
            "top_p": p.top_p,
            "seed": p.seed,
            "n": 1,
        }
        if p.stop:
            body["stop"] = list(p.stop)
        return body

    def _one(self, client: Any, req: GenerationRequest) -> Completion:
        import httpx

        body = self._body(req)
        problem = "not sent"
        for attempt in range(self.max_retries + 1):
            wait_s: float | None = None
            try:
                resp = client.post(self.url, json=body, headers=self._headers, timeout=self.timeout)
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout:g} s"
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__}: {self._scrub(str(exc)) or 'no detail'})"
            else:
                if resp.status_code == 200:
                    try:
                        return self._parse(req, resp.content)
                    except MalformedResponse as exc:
                        problem = f"malformed response ({self._scrub(str(exc))})"
                elif retryable_status(resp.status_code):
                    problem = f"HTTP {resp.status_code}{self._detail(resp)}"
                    wait_s = retry_after_seconds(resp.headers.get("retry-after"), cap_s=10 * self.max_backoff_s)
                else:
                    hint = f" (check the key in ${self.key_env})" if resp.status_code in (401, 403) else ""
                    return self._error(req, f"HTTP {resp.status_code}{self._detail(resp)}{hint}, not retried")
            if attempt < self.max_retries:
                delay = wait_s if wait_s is not None else backoff_delay(req.id, attempt, self.backoff_s, self.max_backoff_s)
                if self._stopping.wait(delay):
                    return self._error(req, f"{problem}; stopped before retry {attempt + 1}")
        return self._error(req, f"{problem}; gave up after {self.max_retries + 1} attempts")

    def _detail(self, resp: Any) -> str:
        text = self._scrub(resp.text.strip().replace("\n", " "))
        return f": {text[:200]}" if text else ""

    def _error(self, req: GenerationRequest, problem: str) -> Completion:
        return Completion(
            request_id=req.id, text="", finish_reason="error", prompt_tokens=0, completion_tokens=0,
            model=self.model, revision=self.revision, error=f"request {req.id} to {self.url}: {problem}",
        )

    def _parse(self, req: GenerationRequest, raw: bytes) -> Completion:
        """A chat completion's first choice. OpenAI finish reasons other than "length" (stop,
        content_filter, tool_calls, eos) count as "stop"; missing usage counts as 0 tokens."""
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise MalformedResponse(f"{type(exc).__name__}: {str(exc)[:120]}; body starts {raw[:80]!r}") from None
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise MalformedResponse(f"message content is {type(text).__name__}, not text")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        served = data.get("model")
        revision = self.revision or (served if isinstance(served, str) and served != self.model else None)
        return Completion(
            request_id=req.id, text=text,
            finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            model=self.model, revision=revision,
        )


def _scrubber(key: str) -> Any:
    """A function that removes the key from text (a server might echo a header back)."""
    if not key:
        return lambda text: text
    return lambda text: text.replace(key, "[api key]")
