"""Send requests through a backend with the cache in between: the one way callers generate.

`run_requests` answers from the on-disk cache first, sends only the rest (each distinct
question once), persists every completion as it arrives, and returns the completions in
request order. A killed run therefore resumes where it stopped, and a rerun sends nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from rbkit.eval.generation.errors import GenerationError
from rbkit.eval.generation.store import CompletionStore, default_cache_dir, request_key
from rbkit.eval.generation.types import Backend, Completion, GenerationRequest


def run_requests(
    backend: Backend,
    requests: Sequence[GenerationRequest],
    *,
    cache: bool | Path = True,
    use_cache: bool = True,
    progress: bool = True,
    description: str = "generating",
) -> list[Completion]:
    """Completions for `requests`, in the same order.

    `cache`: True uses `cache_root()/generation`, a path uses that folder; `cache=False` or
    `use_cache=False` opts out (nothing read, nothing written). Request ids must be unique. A completion that failed
    (finish_reason "error") is returned, never cached, and asked again by the next run.
    """
    ids = [r.id for r in requests]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise GenerationError(f"request id {dup!r} appears more than once; ids must be unique")
    identity = backend.identity()
    store = None
    if cache is not False and use_cache:
        store = CompletionStore(default_cache_dir() if cache is True else Path(cache), identity)
    keys = [request_key(identity, r) for r in requests]
    done: dict[str, Completion] = {}
    # one request per distinct key; the others with that key take its answer
    first_of_key: dict[str, GenerationRequest] = {}
    for req, key in zip(requests, keys, strict=True):
        hit = store.get(key, req.id) if store is not None else None
        if hit is not None:
            done[req.id] = hit
        else:
            first_of_key.setdefault(key, req)
    key_of = {req.id: key for req, key in zip(requests, keys, strict=True)}
    by_key: dict[str, Completion] = {}
    todo = list(first_of_key.values())
    per_key = Counter(keys)
    with _progress(progress, description, len(requests)) as advance:
        advance(len(done), 0)
        if todo:
            for completion in backend.generate(todo):
                key = key_of.get(completion.request_id)
                if key is None or first_of_key.get(key) is None or key in by_key:
                    raise GenerationError(f"backend answered an unknown or repeated request id {completion.request_id!r}")
                if store is not None:
                    store.put(key, completion)
                by_key[key] = completion
                advance(per_key[key], completion.completion_tokens)
    missing = [r.id for r in todo if request_key(identity, r) not in by_key]
    if missing:
        raise GenerationError(f"backend returned no completion for request {missing[0]!r} ({len(missing)} missing)")
    out: list[Completion] = []
    for req, key in zip(requests, keys, strict=True):
        if req.id in done:
            out.append(done[req.id])
            continue
        got = by_key[key]
        out.append(got if got.request_id == req.id else _for_request(got, req.id))
    return out


def _for_request(completion: Completion, request_id: str) -> Completion:
    from dataclasses import replace

    return replace(completion, request_id=request_id)


def _progress(enabled: bool, description: str, total: int) -> AbstractContextManager[Callable[[int, int], Any]]:
    if not enabled:
        return nullcontext(lambda n, tokens: None)
    return _RichProgress(description, total)


class _RichProgress:
    """A rich bar on stderr: completions done of total, and generated tokens per second."""

    def __init__(self, description: str, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=False,
        )
        self._task = self._progress.add_task(description, total=total, rate="")
        self._tokens = 0

    def __enter__(self) -> Callable[[int, int], None]:
        self._progress.__enter__()
        return self._advance

    def _advance(self, n: int, tokens: int) -> None:
        self._tokens += tokens
        elapsed = self._progress.tasks[0].elapsed or 0.0
        rate = f"{self._tokens / elapsed:.1f} tok/s" if elapsed > 0 and self._tokens else ""
        self._progress.update(self._task, advance=n, rate=rate)

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)  # type: ignore[arg-type]
