"""Tiny real models for evaluator tests: a BPE tokenizer trained in-process and random Llamas.

Everything is built from a config in a few hundred milliseconds; nothing touches the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

CHATML = (
    "{% for message in messages %}{{ bos_token + message['role'] + '\\n' + message['content'] + eos_token + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ bos_token + 'assistant\\n' }}{% endif %}"
)
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "def add(a, b):\n    return a + b\n",
    "Write a poem about the sea. The sea is wide and blue.",
    "I'm sorry, but I can't help with that request.",
    "What is 2 + 2? The answer is 4.",
    "system user assistant hello world reward model",
] * 20


def train_tokenizer(folder: Path, *, pad: bool = True, template: str | None = CHATML, bos_adds: bool = False) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>"] + (["<pad>"] if pad else [])
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    if bos_adds:  # a Llama-style tokenizer that prepends BOS on its own
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>" if pad else None)
    if template is not None:
        fast.chat_template = template
    fast.save_pretrained(folder)
    return folder


def tiny_config(vocab: int, **kw: object):
    from transformers import LlamaConfig

    args = dict(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=512, num_labels=1, bos_token_id=1, eos_token_id=2,
                pad_token_id=None, tie_word_embeddings=False)
    args.update(kw)
    return LlamaConfig(**args)


def tiny_classifier(folder: Path, *, seed: int = 0, pad: bool = True, template: str | None = CHATML,
                    bos_adds: bool = False, **config: object) -> Path:
    """A random LlamaForSequenceClassification with its tokenizer, saved like any Hub model."""
    from transformers import AutoTokenizer, LlamaForSequenceClassification

    train_tokenizer(folder, pad=pad, template=template, bos_adds=bos_adds)
    vocab = len(AutoTokenizer.from_pretrained(folder))
    torch.manual_seed(seed)
    LlamaForSequenceClassification(tiny_config(vocab, **config)).save_pretrained(folder)
    return folder


def tiny_causal_lm(folder: Path, *, seed: int = 0, **config: object) -> Path:
    from transformers import AutoTokenizer, LlamaForCausalLM

    train_tokenizer(folder)
    vocab = len(AutoTokenizer.from_pretrained(folder))
    torch.manual_seed(seed)
    LlamaForCausalLM(tiny_config(vocab, **config)).save_pretrained(folder)
    return folder


PROMPTS = [
    "Write a poem about the sea.",
    "What is 2 + 2?",
    "def add(a, b):",
    "Tell me about the quick brown fox.",
    "hello world",
]
ANSWERS = [
    "The sea is wide and blue.",
    "The answer is 4.",
    "    return a + b",
    "I'm sorry, but I can't help with that request.",
    "The quick brown fox jumps over the lazy dog. " * 3,
    "4",
    "blue",
]


def write_rows(path: Path, n: int, *, subsets: tuple[str, ...] = ("alpacaeval-easy", "llmbar-natural", "hep-python"),
               seed: int = 0) -> Path:
    """`n` pairwise rows of varied lengths, as JSONL in the published column layout."""
    import random

    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            chosen = " ".join(rnd.choice(ANSWERS) for _ in range(rnd.randint(1, 6)))
            rejected = " ".join(rnd.choice(ANSWERS) for _ in range(rnd.randint(1, 6)))
            rec = {"prompt": rnd.choice(PROMPTS) * rnd.randint(1, 3), "chosen": chosen, "chosen_model": "a",
                   "rejected": rejected, "rejected_model": "b", "subset": subsets[i % len(subsets)], "id": i}
            fh.write(json.dumps(rec) + "\n")
    return path
