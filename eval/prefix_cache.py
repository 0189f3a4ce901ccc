"""Shared-prefix scoring: each pair's prompt is computed once, its completions continue from it.

Why: chosen and rejected share the prompt (and the template tokens up to where they first
differ). Scoring them as two full sequences computes that prefix twice, and batching whole
pairs pads the shorter completion to the longer one. Here, per window of pairs:

A. every pair's shared prefix runs once (length-sorted, token-budget sub-batches, right
   padding) and its key/value cache is kept, one (rows, kv_heads, P, head_dim) tensor per
   layer and side;
B. every completion's suffix (the tokens after its pair's prefix) runs on its own, sorted by
   its own length into token-budget sub-batches; each row's past is its pair's K/V
   (zero-padded to the sub-batch's longest past and masked out), and its positions continue
   at the prefix length.

Only padding and the duplicated prefix are saved: every real token attends to exactly what it
attends to in a full-sequence forward, so scores equal the plain path's up to fp32 rounding.
That is checked on the first pair a scorer sees; a model whose cache does not reproduce its
own full forward (beyond 1e-4 relative) falls back to full forwards, with a notice.

Windows (`plan_windows`) group pairs by shared-prefix length, bounded by the token budget:
their prefix K/V must fit in `max_tokens` cached tokens, all their tokens in WINDOW_FACTOR
budgets (which is also the resume granularity, since the runner appends per window).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from eval.batching import Batch
from eval.render import EncodedPair, common_prefix

MIN_PREFIX = 4  # shorter shared prefixes are not worth a cache
FORWARD_OVERHEAD = 32  # a trunk call's fixed cost, in token positions (keeps sub-batches from splintering)
WINDOW_FACTOR = 4  # a window holds at most this many token budgets of sequences
CHECK_TOLERANCE = 1e-4  # relative; fp32 rounding between the two paths is ~1e-6


def shared_prefix(seqs: Sequence[Sequence[int]], limit: int) -> int:
    """Length of the prefix common to all `seqs`, at most `limit` (0 when shorter than MIN_PREFIX)."""
    p = min(limit, *(len(s) for s in seqs))
    for s in seqs[1:]:
        p = min(p, common_prefix(seqs[0], s))
    return p if p >= MIN_PREFIX else 0


def plan_windows(encoded: Sequence[EncodedPair], *, max_tokens: int, max_pairs: int | None = None) -> list[list[int]]:
    """Pair indices grouped into windows of similar shared-prefix length (ties in index order)."""
    prefix = [shared_prefix(e.sequences, e.longest) for e in encoded]
    order = sorted(range(len(encoded)), key=lambda i: (prefix[i], encoded[i].longest, i))
    windows: list[list[int]] = []
    current: list[int] = []
    cached = total = 0
    for i in order:
        full = max_pairs is not None and len(current) >= max_pairs
        over = cached + prefix[i] > max_tokens or total + encoded[i].tokens > WINDOW_FACTOR * max_tokens
        if current and (full or over):
            windows.append(current)
            current, cached, total = [], 0, 0
        current.append(i)
        cached += prefix[i]
        total += encoded[i].tokens
    if current:
        windows.append(current)
    return windows


# --- transformers cache objects, across versions ---------------------------------------------


class PrefixUnsupported(RuntimeError):
    """The model's cache cannot stand in for its prefix (the scorer falls back to full forwards)."""


def _cache_argument(base: Any) -> str:
    """`cache` (transformers >= 5.x) or `past_key_values`: whichever the trunk's forward takes."""
    import inspect

    params = inspect.signature(base.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _returned_cache(out: Any) -> Any:
    cache = out.get("cache")  # transformers >= 5.x names it `cache`, earlier `past_key_values`
    return cache if cache is not None else out.past_key_values


def _cache_tensors(cache: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    if hasattr(cache, "layers"):  # transformers >= 4.56
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache, strict=True))


def _make_cache(layers: list[tuple[torch.Tensor, torch.Tensor]], config: Any) -> Any:
    from transformers import DynamicCache

    if hasattr(DynamicCache, "from_legacy_cache"):
        return DynamicCache.from_legacy_cache(tuple(layers))
    return DynamicCache(layers, config=config)


# --- the two-phase trunk ------------------------------------------------------------------------


@dataclass
class Work:
    """Token positions run through the trunk (padding included) and the real ones among them."""

    computed: int = 0
    real: int = 0


def partition(width: Sequence[int], extra: Sequence[int], budget: int,
              overhead: int = FORWARD_OVERHEAD) -> list[tuple[int, int]]:
    """Split items (sorted by `width`, ascending) into consecutive sub-batches at least cost.

    A sub-batch [i, j) computes (j - i) * width[j - 1] positions plus `overhead` for the call
    itself, and must keep (j - i) * (width[j - 1] + max extra) within `budget` (extra: the
    cached past each row attends to) unless it is a single item. Exact dynamic programme
    over the split points: the fewest padded positions for the number of calls it takes.
    """
    n = len(width)
    best = [0.0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        top = width[j - 1]
        past = 0
        for i in range(j - 1, -1, -1):
            past = max(past, extra[i])
            rows = j - i
            if rows > 1 and rows * (top + past) > budget:
                break
            cost = best[i] + rows * top + overhead
            if cost < best[j]:
                best[j], cut[j] = cost, i
    spans: list[tuple[int, int]] = []
    j = n
    while j > 0:
        spans.append((cut[j], j))
        j = cut[j]
    return spans[::-1]


class Trunk:
    """One decoder trunk called on right-padded rows that continue cached pasts."""

    def __init__(self, base: Any, work: Work):
        self.base = base
        self.device = getattr(base, "device", torch.device("cpu"))
        self.config = getattr(base, "config", None)
        self.cache_arg = _cache_argument(base)
        self.work = work

    def __call__(self, rows: Sequence[torch.Tensor], past: list[tuple[torch.Tensor, torch.Tensor]] | None,
                 past_lengths: Sequence[int], *, keep_cache: bool) -> Any:
        """Forward `rows` (token ids), row k attending to the first past_lengths[k] cached positions."""
        width = max(len(r) for r in rows)
        past_w = past[0][0].shape[2] if past else 0
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), past_w + width), dtype=torch.long)
        pos = torch.zeros((len(rows), width), dtype=torch.long)
        for k, (tokens, p) in enumerate(zip(rows, past_lengths, strict=True)):
            ids[k, : len(tokens)] = tokens
            mask[k, :p] = 1
            mask[k, past_w : past_w + len(tokens)] = 1
            pos[k] = torch.arange(p, p + width)
        kwargs: dict[str, Any] = {"use_cache": keep_cache or bool(past)}
        if past:
            kwargs[self.cache_arg] = _make_cache(past, self.config)
        out = self.base(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                        position_ids=pos.to(self.device), **kwargs)
        self.work.computed += ids.numel()
        self.work.real += sum(len(r) for r in rows)
        return out

    def cache_of(self, out: Any, width: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        layers = _cache_tensors(_returned_cache(out))
        if any(k.shape[2] != width for k, _ in layers):
            raise PrefixUnsupported(f"the cache kept {layers[0][0].shape[2]} of {width} positions (sliding window?)")
        return layers


@torch.inference_mode()
def suffix_hidden(base: Any, batch: Batch, first: Sequence[int], max_tokens: int,
                  work: Work | None = None) -> Iterator[list[tuple[int, torch.Tensor]]]:
    """Hidden states of each sequence s at positions first[s] .. length_s - 1, prefixes computed once.

    Three levels: the prefix common to every pair of the batch (the chat template's system
    turn, typically) runs once; each distinct pair prefix continues from it; each sequence's
    suffix continues from its pair's prefix. Yields one list of (sequence index, hidden
    states) per suffix sub-batch, so callers can reduce them before the next one is computed.
    """
    trunk = Trunk(base, work if work is not None else Work())
    lengths = [int(x) for x in batch.lengths]
    ids = batch.input_ids
    by_row: dict[int, list[int]] = {}
    for s, (row, _) in enumerate(batch.owners):
        by_row.setdefault(row, []).append(s)
    prefix_of = {
        row: shared_prefix([ids[s, : lengths[s]].tolist() for s in members], min(first[s] for s in members))
        for row, members in by_row.items()
    }
    # distinct pair prefixes (identical prompts across pairs are computed once), longest last
    slot_of: dict[int, int] = {}
    distinct: dict[tuple[int, ...], int] = {}
    for row in sorted((r for r in by_row if prefix_of[r]), key=lambda r: (prefix_of[r], r)):
        key = tuple(ids[by_row[row][0], : prefix_of[row]].tolist())
        slot_of[row] = distinct.setdefault(key, len(distinct))
    prefixes = list(distinct)
    kept: list[tuple[torch.Tensor, torch.Tensor]] = []
    if prefixes:
        root = shared_prefix([list(p) for p in prefixes], min(len(p) for p in prefixes)) if len(prefixes) > 1 else 0
        root_past = None
        if root:
            out = trunk([torch.tensor(prefixes[0][:root])], None, [0], keep_cache=True)
            root_past = trunk.cache_of(out, root)
        longest = len(prefixes[-1])
        kept_rows = len(prefixes) + 1  # the last row stays zero: "no prefix"

        def store(at: list[int], layers: list[tuple[torch.Tensor, torch.Tensor]], width: int) -> None:
            nonlocal kept
            if not kept:
                kept = [(k.new_zeros((kept_rows, k.shape[1], longest, k.shape[3])),
                         v.new_zeros((kept_rows, v.shape[1], longest, v.shape[3]))) for k, v in layers]
            index = torch.tensor(at, device=layers[0][0].device)
            for (keep_k, keep_v), (k, v) in zip(kept, layers, strict=True):
                keep_k[index, :, :width] = k[:, :, :width]
                keep_v[index, :, :width] = v[:, :, :width]

        rest = [i for i, p in enumerate(prefixes) if len(p) > root]
        if root_past is not None and len(rest) < len(prefixes):  # prefixes that are the root itself
            store([i for i, p in enumerate(prefixes) if len(p) == root], [(k.expand(len(prefixes) - len(rest), -1, -1, -1),
                  v.expand(len(prefixes) - len(rest), -1, -1, -1)) for k, v in root_past], root)
        widths = [len(prefixes[i]) - root for i in rest]
        for i, j in partition(widths, [root] * len(rest), max_tokens):
            group = rest[i:j]
            past = [(k.expand(len(group), -1, -1, -1), v.expand(len(group), -1, -1, -1)) for k, v in root_past] \
                if root_past is not None else None
            out = trunk([torch.tensor(prefixes[g][root:]) for g in group], past, [root] * len(group), keep_cache=True)
            width = root + max(widths[i:j])
            store(group, trunk.cache_of(out, width), width)
            del out

    # suffixes: every sequence by its own length, continuing from its pair's prefix
    seq_prefix = [prefix_of[row] for row, _ in batch.owners]
    order = sorted(range(len(batch.owners)), key=lambda s: (lengths[s] - seq_prefix[s], seq_prefix[s], s))
    spans = partition([lengths[s] - seq_prefix[s] for s in order], [seq_prefix[s] for s in order], max_tokens)
    none = len(prefixes)
    for i, j in spans:
        group = order[i:j]
        past_w = max(seq_prefix[s] for s in group)
        past = None
        if past_w:
            pick = torch.tensor([slot_of[batch.owners[s][0]] if seq_prefix[s] else none for s in group],
                                device=kept[0][0].device)
            past = [(k.index_select(0, pick)[:, :, :past_w], v.index_select(0, pick)[:, :, :past_w]) for k, v in kept]
        rows = [ids[s, seq_prefix[s] : lengths[s]] for s in group]
        hidden = trunk(rows, past, [seq_prefix[s] for s in group], keep_cache=False).last_hidden_state
        yield [(s, hidden[k, first[s] - seq_prefix[s] : lengths[s] - seq_prefix[s]]) for k, s in enumerate(group)]
        del hidden, past


# --- scorers -------------------------------------------------------------------------------------


def classifier_scores(model: Any, batch: Batch, max_tokens: int, work: Work) -> torch.Tensor:
    """Last-token classifier scores (the built-in head's pooling), prefix computed once."""
    base = getattr(model, model.base_model_prefix)
    first = [int(n) - 1 for n in batch.lengths]
    last: dict[int, torch.Tensor] = {}
    for group in suffix_hidden(base, batch, first, max_tokens, work):
        for s, h in group:
            last[s] = h[0]
    with torch.inference_mode():
        logits = model.score(torch.stack([last[s] for s in range(len(first))]))
    return logits[:, 0].to("cpu", torch.float64)


def response_logps(model: Any, batch: Batch, max_tokens: int, work: Work,
                   chunk_bytes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probs of every response token and their sequence (as eval.dpo computes them)."""
    from eval.dpo import _final_logits

    base = getattr(model, model.base_model_prefix)
    starts = [max(1, int(x)) for x in batch.starts]
    first = [s - 1 for s in starts]
    vocab = model.get_output_embeddings().weight.shape[0]
    chunk = max(1, chunk_bytes // (4 * vocab))
    per_seq: dict[int, torch.Tensor] = {}
    with torch.inference_mode():
        for group in suffix_hidden(base, batch, first, max_tokens, work):
            picked = torch.cat([h[:-1] for _, h in group])
            targets = torch.cat([batch.input_ids[s, starts[s] : int(batch.lengths[s])] for s, _ in group]).to(picked.device)
            out = torch.empty(picked.shape[0], dtype=torch.float32, device=picked.device)
            for i in range(0, picked.shape[0], chunk):
                logits = _final_logits(model, picked[i : i + chunk])
                out[i : i + chunk] = logits.gather(1, targets[i : i + chunk, None]).squeeze(1) - torch.logsumexp(logits, 1)
            at = 0
            for s, h in group:
                per_seq[s] = out[at : at + h.shape[0] - 1].to("cpu", torch.float64)
                at += h.shape[0] - 1
    n = batch.input_ids.shape[0]
    logps = torch.cat([per_seq[s] for s in range(n)])
    owner = torch.cat([torch.full((per_seq[s].shape[0],), s, dtype=torch.long) for s in range(n)])
    return logps, owner


def sub_batch(batch: Batch, rows: Sequence[int]) -> Batch:
    """The sequences of some of a batch's pairs, trimmed to their own longest."""
    wanted = set(rows)
    idx = [k for k, (r, _) in enumerate(batch.owners) if r in wanted]
    lengths = batch.lengths[idx]
    width = int(lengths.max())
    return Batch(list(rows), [batch.owners[k] for k in idx], batch.input_ids[idx, :width],
                 batch.attention_mask[idx, :width], lengths, batch.starts[idx])


def plain_scores(scorer: Any, batch: Batch, max_tokens: int, work: Work) -> torch.Tensor:
    """Full-sequence scores through the wrapped scorer, in budget-sized groups of pairs."""
    longest: dict[int, int] = {}
    for (r, _), n in zip(batch.owners, batch.lengths.tolist(), strict=True):
        longest[r] = max(longest.get(r, 0), int(n))
    values: dict[tuple[int, int], float] = {}
    group: list[int] = []
    rows = list(longest)
    for k, r in enumerate(rows):
        group.append(r)
        nxt = rows[k + 1] if k + 1 < len(rows) else None
        size = sum(1 for o in batch.owners if o[0] in group)
        if nxt is None or (size + 2) * max(longest[x] for x in [*group, nxt]) > max_tokens:
            part = sub_batch(batch, group)
            for owner, v in zip(part.owners, scorer.score(part).tolist(), strict=True):
                values[owner] = v
            work.computed += part.padded_tokens
            work.real += part.real_tokens
            group = []
    return torch.tensor([values[o] for o in batch.owners], dtype=torch.float64)


@dataclass
class PrefixScorer:
    """A classifier or DPO scorer whose pairs share their prefix computation (same scores)."""

    inner: Any
    max_tokens: int
    enabled: bool = True
    checked: bool = False
    work: Work = field(default_factory=Work)

    # the Scorer protocol, delegated
    @property
    def kind(self) -> str:
        return self.inner.kind

    @property
    def head(self) -> str:
        return self.inner.head

    @property
    def tokenizer(self) -> Any:
        return self.inner.tokenizer

    @property
    def context_length(self) -> int | None:
        return self.inner.context_length

    @property
    def needs_boundaries(self) -> bool:
        return self.inner.needs_boundaries

    @property
    def pad_id(self) -> int:
        return self.inner.pad_id

    @property
    def notices(self) -> list[str]:
        return self.inner.notices

    @property
    def reduction(self) -> Any:
        return getattr(self.inner, "reduction", None)

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "prefix_cache": self.enabled}

    def plan(self, encoded: Sequence[EncodedPair], *, max_tokens: int, max_pairs: int | None = None) -> list[list[int]]:
        if not self.enabled:
            from eval.batching import plan

            return plan(encoded, max_tokens=max_tokens, max_pairs=max_pairs)
        return plan_windows(encoded, max_tokens=max_tokens, max_pairs=max_pairs)

    def _prefix_score(self, batch: Batch) -> torch.Tensor:
        inner = self.inner
        if inner.kind == "classifier":
            return classifier_scores(inner.model, batch, self.max_tokens, self.work)
        from eval.dpo import CHUNK_BYTES, reduce

        n = batch.input_ids.shape[0]
        lp, owner = response_logps(inner.policy, batch, self.max_tokens, self.work, CHUNK_BYTES)
        if inner.reference is None:
            return reduce(lp, owner, n, inner.reduction)
        ref_lp, ref_owner = response_logps(inner.reference, batch, self.max_tokens, self.work, CHUNK_BYTES)
        return reduce(lp, owner, n, "sum") - reduce(ref_lp, ref_owner, n, "sum")

    def _disable(self, why: str) -> None:
        self.enabled = False
        self.notices.append(f"prefix sharing disabled ({why}); scoring full sequences")

    def _check(self, batch: Batch) -> None:
        """Once per scorer: the first pair's scores by both paths must agree."""
        self.checked = True
        one = sub_batch(batch, [batch.owners[0][0]])
        plain = self.inner.score(one)
        mine = self._prefix_score(one)
        self.work = Work()  # the check's own work is not part of the run's
        if not torch.allclose(mine, plain, rtol=CHECK_TOLERANCE, atol=CHECK_TOLERANCE):
            self._disable(f"the key/value cache does not reproduce the full forward: {mine.tolist()} vs {plain.tolist()}")

    def score(self, batch: Batch) -> torch.Tensor:
        if self.enabled:
            try:
                if not self.checked:
                    self._check(batch)
                if self.enabled:
                    return self._prefix_score(batch)
            except PrefixUnsupported as exc:
                self._disable(str(exc))
        return plain_scores(self.inner, batch, self.max_tokens, self.work)


def supports_prefix(scorer: Any) -> bool:
    """The built-in scorers only (exact types: a subclass may score differently), decoder
    classifiers pooled at the last token and causal-LM DPO scorers."""
    from eval.dpo import DPOScorer
    from eval.heads import SequenceClassifier

    if type(scorer) is SequenceClassifier:
        return scorer.pooling == "last-token"
    return type(scorer) is DPOScorer


def with_prefix_sharing(scorer: Any, max_tokens: int) -> Any:
    """Wrap a built-in scorer for shared-prefix scoring; any other scorer is returned as is."""
    return PrefixScorer(scorer, max_tokens) if supports_prefix(scorer) else scorer
