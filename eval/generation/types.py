"""What every generation backend speaks: requests in, completions out (one shared layer).

`rbkit generate` (candidate completions for new subsets) and `rbkit eval --kind judge`
(generative judges) both send `GenerationRequest`s through a `Backend` and get
`Completion`s back; neither knows whether a local transformers model, llama.cpp or an
OpenAI-compatible endpoint answered. The cache (keyed by `Backend.identity()`, the request's
messages and its `SamplingParams`) sits between them, so a rerun sends nothing and a killed
run resumes with the requests it had not finished.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "error"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class SamplingParams:
    """Everything that changes what a model writes; all of it is part of the cache key.

    `seed` is per request and derived from stable ids (never time), so sampling with
    temperature > 0 is reproducible where the backend honours seeds.
    """

    max_new_tokens: int = 512
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 0

    def to_record(self) -> dict[str, Any]:
        return {
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": list(self.stop),
            "seed": self.seed,
        }


@dataclass(frozen=True)
class GenerationRequest:
    """One chat to complete; `id` is stable (e.g. prompt id + sample index) and names it in errors."""

    id: str
    messages: tuple[Message, ...]
    params: SamplingParams = field(default_factory=SamplingParams)


@dataclass(frozen=True)
class Completion:
    """One answer, with what is needed to record it honestly in a candidates file or results."""

    request_id: str
    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    model: str
    revision: str | None = None
    error: str | None = None  # set when finish_reason == "error" (after retries), never a secret
    cached: bool = False  # served from the on-disk cache, not generated in this run


@runtime_checkable
class Backend(Protocol):
    """A model that completes chats. Implementations: local transformers, llama.cpp, OpenAI API."""

    def identity(self) -> Mapping[str, Any]:
        """Model name, revision/fingerprint and backend kind: the model part of the cache key.

        Never holds a secret (no API key)."""
        ...

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Completion]:
        """Completions for `requests`, in any order, each yielded as soon as it is ready
        (so that the caller can cache it before the next one: resume after a kill)."""
        ...
