"""The one generation layer shared by `rbkit generate` and generative judges.

Public surface (keep it small; heavy imports stay inside the backends):
    types.py    Message, SamplingParams, GenerationRequest, Completion, Backend (Protocol)
    open_backend(model=..., api_base=..., ...) -> Backend     (backends.py)
    run_requests(backend, requests, cache=...) -> list[Completion]   (run.py: cache + resume)
    GenerationError                                            (errors.py)
"""

from __future__ import annotations

from rbkit.eval.generation.backends import open_backend
from rbkit.eval.generation.errors import GenerationError
from rbkit.eval.generation.run import run_requests
from rbkit.eval.generation.types import (
    Backend,
    Completion,
    GenerationRequest,
    Message,
    SamplingParams,
)

__all__ = [
    "Backend", "Completion", "GenerationError", "GenerationRequest", "Message", "SamplingParams",
    "open_backend", "run_requests",
]
