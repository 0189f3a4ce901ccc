"""Length-sorted, token-budget packing: whole pairs per batch, right padding, no waste to speak of.

Pairs are sorted by their longest sequence and packed until the padded size (sequences x
longest) would pass the token budget, so neighbours have similar lengths and padding stays
small. Every completion of a pair goes into the same batch (the chosen/rejected comparison
never straddles two forward passes, and a shared-prompt prefix cache can slot in here).
Padding is on the right and every score is read at the row's own positions, so padding
cannot change a score: batch size, order and budget are free to vary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from rbkit.eval.render import EncodedPair


@dataclass
class Batch:
    rows: list[int]  # indices of the pairs in this batch (into the list being scored)
    owners: list[tuple[int, int]]  # (row index, completion index) of each sequence
    input_ids: torch.Tensor  # (sequences, longest), right-padded
    attention_mask: torch.Tensor  # (sequences, longest), 1 on real tokens
    lengths: torch.Tensor  # (sequences,)
    starts: torch.Tensor  # (sequences,) first response token

    @property
    def real_tokens(self) -> int:
        return int(self.lengths.sum())

    @property
    def padded_tokens(self) -> int:
        return int(self.input_ids.numel())


def plan(encoded: Sequence[EncodedPair], *, max_tokens: int, max_pairs: int | None = None) -> list[list[int]]:
    """Group pair indices into batches: longest first, each under `max_tokens` padded tokens.

    Longest first puts the peak memory at the start (fail fast) and keeps ties deterministic
    (index order). A pair larger than the budget on its own gets a batch to itself.
    """
    order = sorted(range(len(encoded)), key=lambda i: (-encoded[i].longest, i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = seqs = 0
    for i in order:
        enc = encoded[i]
        new_longest = max(longest, enc.longest)
        new_seqs = seqs + len(enc.sequences)
        full = max_pairs is not None and len(current) >= max_pairs
        if current and (full or new_longest * new_seqs > max_tokens):
            batches.append(current)
            current, new_longest, new_seqs = [], enc.longest, len(enc.sequences)
        current.append(i)
        longest, seqs = new_longest, new_seqs
    if current:
        batches.append(current)
    return batches


def collate(rows: list[int], encoded: Sequence[EncodedPair], pad_id: int) -> Batch:
    owners = [(r, j) for r in rows for j in range(len(encoded[r].sequences))]
    seqs = [encoded[r].sequences[j] for r, j in owners]
    longest = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), longest), dtype=torch.long)
    for k, s in enumerate(seqs):
        ids[k, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[k, : len(s)] = 1
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    starts = torch.tensor([encoded[r].starts[j] for r, j in owners], dtype=torch.long)
    return Batch(rows, owners, ids, mask, lengths, starts)
