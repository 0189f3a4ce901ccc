"""`--compat rewardbench-0.1.4`: the inputs the original RewardBench 0.1.4 builds, quirks included.

rbkit's default rendering is deliberately cleaner (`eval.render`). Researchers who compare
with the published leaderboard need the original's numbers, so this renderer rebuilds, token
for token, what the original feeds its models (read from rewardbench 0.1.4's `utils.py`,
`dpo.py`, `models/pipeline.py` and `scripts/run_dpo.py`; no code of it is used here):

Text (both kinds): the tokenizer's chat template without a generation prompt, else FastChat's
`tulu` conversation (`<|user|>\\n{prompt}\\n<|assistant|>\\n{answer}\\n`). A prompt given as a
list of turns alternates user/assistant by position, whatever the roles say.

DPO (`DPOInference.tokenize_row`): the prompt text P is the template applied to the prompt
turns alone; the answer text is the full conversation with every occurrence of P removed
(`str.replace`). Both are tokenised without special tokens, the answer as `tok(P + answer)`
minus `tok(P)`'s length (one token back when the boundary merged). Then BOS is prepended to
the prompt and EOS appended to the answer, whether or not the template already has them: so
the header of the assistant turn counts as response tokens, and ChatML templates get an extra
`<|im_start|>` first and `<|im_end|>` last. A tokenizer without BOS uses EOS for it. Long
pairs are cut as TRL's collator did (max_length 2048, max_prompt_length 128, keep_end).

Classifier (`RewardBenchPipeline`): `tok(text)` with the tokenizer's own special tokens; for
the FastChat fallback an EOS is appended when the tokenizer can add one (`add_eos_token`, the
Llama family); of a doubled BOS the first is masked (here: dropped); the score is read at the
last token that is not the pad id (transformers 4.51's sequence-classification pooling), so
trailing pad-id tokens are dropped here.

Scoring itself (log-prob sums, averages, norms; the classifier's logit) is rbkit's, which
computes the same quantities; rbkit still never pads into a score, so compat results do not
depend on batch size either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from rbkit.eval.data import Pair
from rbkit.eval.errors import DatasetError, ModelError
from rbkit.eval.render import EncodedPair, Renderer

MODES: tuple[str, ...] = ("rewardbench-0.1.4",)
# DPOInference's truncation settings (rewardbench 0.1.4, from TRL).
DPO_MAX_LENGTH = 2048
DPO_MAX_PROMPT_LENGTH = 128
FASTCHAT_TULU = "fastchat:tulu"
FASTCHAT_TULU_FORMAT = "roles <|user|>/<|assistant|>, ADD_NEW_LINE_SINGLE, sep \\n, no system"  # hashed for the key


def check_mode(mode: str | None) -> str | None:
    if mode is not None and mode not in MODES:
        raise ModelError(f"--compat {mode!r}: expected one of {', '.join(MODES)}")
    return mode


def turns(pair: Pair) -> list[tuple[str, str]]:
    """The prompt as the original sees it: a single user turn, or turns alternating by position."""
    if len(pair.prompt) == 1:
        return [("user", pair.prompt[0][1])]
    out = [("user" if i % 2 == 0 else "assistant", content) for i, (_, content) in enumerate(pair.prompt)]
    if out[-1][0] != "user":
        raise DatasetError(f"{pair.subset}/{pair.id}: --compat rewardbench-0.1.4 alternates prompt turns by "
                           f"position and needs an odd number of them (the last from the user); got {len(out)}")
    return out


def fastchat_tulu(messages: Sequence[tuple[str, str]]) -> str:
    """FastChat's `tulu` conversation (ADD_NEW_LINE_SINGLE, empty system prompt)."""
    roles = {"user": "<|user|>", "assistant": "<|assistant|>"}
    out = ""
    for role, message in messages:
        out += f"{roles[role]}\n{message}\n" if message else f"{roles[role]}\n"
    return out


class CompatRenderer(Renderer):
    """Renders and tokenises pairs exactly as rewardbench 0.1.4 does (see the module docstring)."""

    def __init__(self, tokenizer: Any, mode: str, *, kind: str, pool_pad_id: int | None = None,
                 context_length: int | None = None):
        check_mode(mode)
        own = getattr(tokenizer, "chat_template", None)
        super().__init__(tokenizer, "tokenizer" if own else "tulu", context_length=context_length)
        if not own:  # not rbkit's Tulu template: FastChat's, built by fastchat_tulu
            self.name, self.template = FASTCHAT_TULU, FASTCHAT_TULU_FORMAT
        self.mode, self.kind = mode, kind
        bos = tokenizer.bos_token_id if getattr(tokenizer, "bos_token", None) is not None else None
        self.dpo_bos = bos if bos is not None else tokenizer.eos_token_id  # run_dpo: no BOS -> EOS
        self.pool_pad_id = pool_pad_id
        # The CLI sets add_eos_token on a tokenizer without a chat template; only tokenizers
        # that have the switch (the Llama family) then append EOS.
        self.classifier_eos = not own and hasattr(tokenizer, "add_eos_token")

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "template_sha256": hashlib.sha256(self.template.encode()).hexdigest(),
            "compat": self.mode,
            "special_prefix": [],
            "special_suffix": [],
        }

    def text(self, messages: Sequence[tuple[str, str]], where: str) -> str:
        if self.name == FASTCHAT_TULU:
            return fastchat_tulu(messages)
        return self.render([{"role": r, "content": c} for r, c in messages], generation_prompt=False, where=where)

    def encode(self, pairs: Sequence[Pair], *, boundaries: bool) -> list[EncodedPair]:
        out = []
        for pair in pairs:
            where = f"{pair.subset}/{pair.id}"
            if pair.best_of_n:
                raise DatasetError(f"{where}: --compat rewardbench-0.1.4 scores pairwise rows only (RewardBench v1)")
            prompt = turns(pair)
            texts = [self.text([*prompt, ("assistant", c)], where) for c in pair.completions]
            if self.kind == "dpo":
                out.append(self.dpo_pair(self.text(prompt, where), texts, where))
            else:
                out.append(EncodedPair([self.classifier_ids(t) for t in texts], [0] * len(texts)))
        return out

    # --- the classifier pipeline ------------------------------------------------------------------

    def classifier_ids(self, text: str) -> list[int]:
        ids = list(self.tokenizer(text)["input_ids"])
        if self.classifier_eos and self.eos_id is not None:
            ids.append(self.eos_id)
        bos = self.bos_id if getattr(self.tokenizer, "bos_token", None) else None
        if bos is not None and len(ids) >= 2 and ids[0] == ids[1] == bos:
            ids = ids[1:]  # the original masks the first of a doubled BOS
        while self.pool_pad_id is not None and len(ids) > 1 and ids[-1] == self.pool_pad_id:
            ids = ids[:-1]  # the original pools at the last token that is not the pad id
        return ids

    # --- DPOInference.tokenize_row ---------------------------------------------------------------

    def answer_tokens(self, prompt: str, answer: str) -> tuple[list[int], list[int]]:
        """(prompt ids, answer ids) as `build_tokenized_answer` splits `tok(prompt + answer)`."""
        full = list(self.tokenizer(prompt + answer, add_special_tokens=False)["input_ids"])
        prompt_ids = list(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        if len(prompt_ids) > len(full):
            raise DatasetError("the prompt tokenises longer than prompt + answer (the original raises here too)")
        start = len(prompt_ids)
        if prompt_ids != full[:start]:
            start -= 1
        return full[:start], full[start:]

    def dpo_pair(self, prompt: str, texts: Sequence[str], where: str) -> EncodedPair:
        parts = []
        for text in texts:
            p_ids, a_ids = self.answer_tokens(prompt, text.replace(prompt, ""))
            parts.append(([self.dpo_bos, *p_ids], [*a_ids, self.eos_id]))
        longer = max(len(a) for _, a in parts)
        truncated = False
        seqs, starts = [], []
        for p_ids, a_ids in parts:
            if len(p_ids) + longer > DPO_MAX_LENGTH:  # keep_end: the prompt's last tokens (BOS goes too)
                p_ids, truncated = p_ids[-DPO_MAX_PROMPT_LENGTH:], True
            if len(p_ids) + longer > DPO_MAX_LENGTH:
                a_ids, truncated = a_ids[: DPO_MAX_LENGTH - DPO_MAX_PROMPT_LENGTH], True
            if not a_ids:
                raise DatasetError(f"{where}: empty response after the original's tokenisation")
            seqs.append(p_ids + a_ids)
            starts.append(len(p_ids))
        return EncodedPair(seqs, starts, truncated)
