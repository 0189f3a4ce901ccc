"""Conversation -> token ids, the way the model was trained to read it, and never twice.

The text is rendered by the tokenizer's chat template (no generation prompt), or by an
explicit `tulu` fallback when the tokenizer has none (the result names which). It is then
tokenised in one call with `add_special_tokens=False`; the special tokens the tokenizer would
add on its own (BOS/CLS before, SEP/EOS after) are added only when the rendered text does
not already carry them. So there is exactly one BOS, checked for every sequence, and no EOS
is ever appended twice (defect 3 of the original).

For DPO the response starts where the prompt, rendered with the same template and a
generation prompt, stops matching the full sequence (token merges at the boundary and
templates that rewrite the last turn are handled by taking the common prefix).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rbkit.eval.data import Pair
from rbkit.eval.errors import DatasetError, ModelError, TooLongError

# The Tulu 2 chat format (what the original's FastChat `tulu` fallback approximates), with
# system turns kept and the end of each assistant turn marked by the tokenizer's EOS.
TULU_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + '\\n' }}"
    "{% elif message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '\\n' }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ '<|assistant|>\\n' + message['content'] + (eos_token or '') + ('' if loop.last else '\\n') }}"
    "{% else %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '\\n' }}"
    "{% endif %}"
    "{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
    "{% endfor %}"
)

TRUNCATION_POLICY = "drop prompt tokens from the left (after BOS), then response tokens from the right"


@dataclass
class EncodedPair:
    """Token ids of every completion of one pair (chosen first), with response starts."""

    sequences: list[list[int]]
    starts: list[int]  # index of the first response token in each sequence
    truncated: bool = False

    @property
    def tokens(self) -> int:
        return sum(len(s) for s in self.sequences)

    @property
    def longest(self) -> int:
        return max(len(s) for s in self.sequences)


def _special_affixes(tokenizer: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The ids the tokenizer adds around plain text on its own (e.g. (BOS,), () for Llama)."""
    probe = "Hello world"
    plain = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
    full = list(tokenizer(probe, add_special_tokens=True)["input_ids"])
    for i in range(len(full) - len(plain) + 1):
        if full[i : i + len(plain)] == plain:
            return tuple(full[:i]), tuple(full[i + len(plain) :])
    return (), ()


class Renderer:
    """Renders and tokenises pairs for one tokenizer; holds the facts results.json reports."""

    def __init__(self, tokenizer: Any, template: str | None = None, *, max_length: int | None = None,
                 context_length: int | None = None):
        self.tokenizer = tokenizer
        own = getattr(tokenizer, "chat_template", None)
        if template in (None, "auto"):
            template = "tokenizer" if own else "tulu"
        if template == "tokenizer":
            if not own:
                raise ModelError("the tokenizer has no chat template; use --template tulu or a .jinja file")
            self.name, self.template = "tokenizer", own if isinstance(own, str) else str(own)
        elif template == "tulu":
            self.name, self.template = "tulu", TULU_TEMPLATE
        else:  # a jinja file
            from pathlib import Path

            path = Path(template)
            if not path.is_file():
                raise ModelError(f"--template {template!r}: not 'tokenizer', 'tulu' or a template file")
            self.name, self.template = f"file:{path.name}", path.read_text(encoding="utf-8")
        self.prefix, self.suffix = _special_affixes(tokenizer)
        self.bos_id = getattr(tokenizer, "bos_token_id", None)
        self.eos_id = getattr(tokenizer, "eos_token_id", None)
        self.context_length = context_length
        if max_length is not None and context_length is not None and max_length > context_length:
            raise TooLongError(f"--max-length {max_length} exceeds the model's context of {context_length} tokens")
        self.max_length = max_length

    def describe(self) -> dict[str, Any]:
        return {
            "template": self.name,
            "template_sha256": hashlib.sha256(self.template.encode()).hexdigest(),
            "add_generation_prompt": False,
            "special_prefix": list(self.prefix),
            "special_suffix": list(self.suffix),
            "bos_token_id": self.bos_id,
            "eos_token_id": self.eos_id,
        }

    # --- text ---------------------------------------------------------------------------------

    def render(self, messages: list[dict[str, str]], *, generation_prompt: bool, where: str) -> str:
        try:
            text = self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=generation_prompt, chat_template=self.template
            )
        except Exception as exc:  # jinja raises for roles a template refuses (e.g. system)
            raise DatasetError(f"{where}: the chat template ({self.name}) cannot render this conversation: {exc}") from exc
        return text

    def _wrap(self, core: list[int], *, with_suffix: bool) -> list[int]:
        ids = core
        p = list(self.prefix)
        if p and ids[: len(p)] != p:
            ids = p + ids
        s = list(self.suffix)
        if with_suffix and s and ids[-len(s) :] != s:
            ids = ids + s
        return ids

    def check_specials(self, ids: Sequence[int], where: str) -> None:
        """Exactly one BOS at the start (when the model uses one), never a doubled EOS at the end."""
        bos, eos = self.bos_id, self.eos_id
        if bos is not None and len(ids) >= 2 and ids[0] == bos and ids[1] == bos:
            raise ModelError(f"{where}: the rendered sequence starts with two BOS tokens (id {bos})")
        if bos is not None and bos in self.prefix and (not ids or ids[0] != bos):
            raise ModelError(f"{where}: the tokenizer expects a BOS (id {bos}) first, the sequence starts with {ids[:1]}")
        if eos is not None and len(ids) >= 2 and ids[-1] == eos and ids[-2] == eos:
            raise ModelError(f"{where}: the rendered sequence ends with two EOS tokens (id {eos})")

    # --- pairs ------------------------------------------------------------------------------------

    def encode(self, pairs: Sequence[Pair], *, boundaries: bool) -> list[EncodedPair]:
        """Tokenise every completion of every pair (one tokenizer call per list of texts)."""
        texts: list[str] = []
        for pair in pairs:
            where = f"{pair.subset}/{pair.id}"
            base = pair.messages()
            for completion in pair.completions:
                texts.append(self.render([*base, {"role": "assistant", "content": completion}],
                                         generation_prompt=False, where=where))
        cores = self.tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
        prompt_ids: list[list[int]] = []
        if boundaries:
            prompts = [self.render(p.messages(), generation_prompt=True, where=f"{p.subset}/{p.id}") for p in pairs]
            prompt_ids = [self._wrap(list(c), with_suffix=False) for c in self.tokenizer(prompts, add_special_tokens=False)["input_ids"]]
        out: list[EncodedPair] = []
        k = 0
        for i, pair in enumerate(pairs):
            where = f"{pair.subset}/{pair.id}"
            seqs, starts = [], []
            for _ in pair.completions:
                ids = self._wrap(list(cores[k]), with_suffix=True)
                k += 1
                self.check_specials(ids, where)
                start = common_prefix(prompt_ids[i], ids) if boundaries else 0
                if boundaries and start >= len(ids):
                    raise DatasetError(f"{where}: empty response after rendering (prompt covers the whole sequence)")
                seqs.append(ids)
                starts.append(start)
            out.append(EncodedPair(seqs, starts))
        return out

    def apply_length_policy(self, pairs: Sequence[Pair], encoded: list[EncodedPair], *, boundaries: bool) -> None:
        """Enforce the context: refuse by default, or truncate to --max-length and flag the pair."""
        limit = self.max_length or self.context_length
        if limit is None:
            return
        too_long = [(p, e) for p, e in zip(pairs, encoded, strict=True) if e.longest > limit]
        if not too_long:
            return
        if self.max_length is None:
            shown = "; ".join(f"{p.subset}/{p.id} ({e.longest} tokens)" for p, e in too_long[:5])
            raise TooLongError(
                f"{len(too_long)} pair(s) exceed the model's context of {limit} tokens, e.g. {shown}. "
                f"rbkit never truncates silently: pass --max-length N (<= {limit}) to truncate "
                f"({TRUNCATION_POLICY}); truncated pairs are counted per subset"
            )
        for pair, enc in too_long:
            if not boundaries:  # the prompt boundary is only needed where we cut
                enc.starts = self.encode([pair], boundaries=True)[0].starts
            for j, ids in enumerate(enc.sequences):
                if len(ids) > limit:
                    enc.sequences[j], enc.starts[j] = truncate(ids, enc.starts[j], limit, keep_head=len(self.prefix))
            enc.truncated = True


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def truncate(ids: list[int], start: int, limit: int, *, keep_head: int) -> tuple[list[int], int]:
    """Cut `ids` to `limit`: prompt tokens after the first `keep_head` go first, then the response tail."""
    excess = len(ids) - limit
    droppable = max(0, start - keep_head)
    drop = min(excess, droppable)
    ids = ids[:keep_head] + ids[keep_head + drop :]
    start -= drop
    excess -= drop
    if excess > 0:
        ids = ids[: len(ids) - excess]
    return ids, min(start, len(ids) - 1)
