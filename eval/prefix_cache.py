"""Shared-prefix scoring: each pair's prompt is computed once, its completions continue from it.

Why: chosen and rejected share the prompt (and the template tokens up to where they first
differ). Scoring them as two full sequences computes that prefix twice, and batching whole
pairs pads the shorter completion to the longer one. Here, per window of pairs:

0. the prefix common to every pair of the window (typically the chat template's system turn)
   runs once;
A. each distinct pair prefix (the prompt, up to where the pair's completions first differ)
   continues from it once, length-sorted, right-padded; its key/value cache is kept packed
   end to end per layer (`PrefixStore`);
B. every completion's suffix (the tokens after its pair's prefix) runs on its own, sorted by
   its own length into token-budget sub-batches; each row's past is its pair's K/V
   (zero-padded to the sub-batch's longest past and masked out), and its positions continue
   at the prefix length.

Only padding and the duplicated prefix are saved: every real token attends to exactly what it
attends to in a full-sequence forward, so scores equal the plain path's up to fp32 rounding.
That is checked on the first pair a scorer sees; a model whose cache does not reproduce its
own full forward falls back to full forwards, with a notice. The check's tolerance fits the
dtype (eval.precision): fp32 1e-4 relative; bf16 3e-2 and fp16 1e-2 of the pair's larger
|score|, since there each path rounds every layer to 8 or 11 significant bits.

Windows (`plan_windows`) group pairs by shared-prefix length, bounded by the token budget:
their prefix K/V must fit in half of `max_tokens` cached tokens, all their tokens in
WINDOW_FACTOR budgets (which is also the resume granularity, since the runner appends per
window). Within a window, trunk calls stay under SUB_BATCH_TOKENS positions on a CPU (the
whole budget on an accelerator, `trunk_budget`), and the past a call gathers under a quarter
of that, so memory stays below the plain path's.

One module on purpose (over 400 lines): the window plan, the two-phase trunk, the packed K/V
store and the scorers are one algorithm whose parts agree on token layout and cache shapes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from rbkit.eval.batching import Batch
from rbkit.eval.placement import input_device
from rbkit.eval.precision import prefix_check_passes
from rbkit.eval.render import EncodedPair, common_prefix

MIN_PREFIX = 4  # shorter shared prefixes are not worth a cache
SUB_BATCH_TOKENS = 4096  # CPU trunk calls stay under this (CPU GEMMs are no faster above; activations stay small)
PAST_SHARE = 4  # the past gathered for one call holds at most 1/PAST_SHARE of its token budget
FORWARD_OVERHEAD = 32  # a trunk call's fixed cost, in token positions (keeps sub-batches from splintering)
WINDOW_FACTOR = 4  # a window holds at most this many token budgets of sequences


def trunk_budget(max_tokens: int, device: torch.device) -> int:
    """Positions per trunk call: on a CPU at most SUB_BATCH_TOKENS (larger GEMMs are no faster
    there); on an accelerator the whole token budget, which was sized for its memory."""
    return min(max_tokens, SUB_BATCH_TOKENS) if device.type == "cpu" else max_tokens


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
        over = cached + prefix[i] > max_tokens // 2 or total + encoded[i].tokens > WINDOW_FACTOR * max_tokens
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
              overhead: int = FORWARD_OVERHEAD, extra_budget: int | None = None) -> list[tuple[int, int]]:
    """Split items (sorted by `width`, ascending) into consecutive sub-batches at least cost.

    A sub-batch [i, j) computes (j - i) * width[j - 1] positions plus `overhead` for the call
    itself, and must keep (j - i) * (width[j - 1] + max extra) within `budget` and
    (j - i) * max extra within `extra_budget` (extra: the cached past each row attends to,
    gathered per row) unless it is a single item. Exact dynamic programme over the split
    points: the fewest padded positions for the number of calls it takes.
    """
    extra_budget = budget if extra_budget is None else extra_budget
    n = len(width)
    best = [0.0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        top = width[j - 1]
        past = 0
        for i in range(j - 1, -1, -1):
            past = max(past, extra[i])
            rows = j - i
            if rows > 1 and (rows * (top + past) > budget or rows * past > extra_budget):
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
        self.device = input_device(base)  # under a device map, base.device may be `meta`
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
    # distinct pair prefixes (identical prompts across pairs are computed once), shortest first
    slot_of: dict[int, int] = {}
    distinct: dict[tuple[int, ...], int] = {}
    for row in sorted((r for r in by_row if prefix_of[r]), key=lambda r: (prefix_of[r], r)):
        key = tuple(ids[by_row[row][0], : prefix_of[row]].tolist())
        slot_of[row] = distinct.setdefault(key, len(distinct))
    prefixes = list(distinct)
    budget = trunk_budget(max_tokens, trunk.device)
    store = PrefixStore([len(p) for p in prefixes])
    if prefixes:
        root = shared_prefix([list(p) for p in prefixes], min(len(p) for p in prefixes)) if len(prefixes) > 1 else 0
        root_past = None
        if root:
            out = trunk([torch.tensor(prefixes[0][:root])], None, [0], keep_cache=True)
            root_past = trunk.cache_of(out, root)
            equal = [i for i, p in enumerate(prefixes) if len(p) == root]
            if equal:  # prefixes that are the root itself
                store.put(equal, [(k.expand(len(equal), -1, -1, -1), v.expand(len(equal), -1, -1, -1))
                                  for k, v in root_past])
        rest = [i for i, p in enumerate(prefixes) if len(p) > root]
        widths = [len(prefixes[i]) - root for i in rest]
        for i, j in partition(widths, [root] * len(rest), budget, extra_budget=budget // PAST_SHARE):
            group = rest[i:j]
            past = None
            if root_past is not None:
                past = [(k.expand(len(group), -1, -1, -1), v.expand(len(group), -1, -1, -1)) for k, v in root_past]
            out = trunk([torch.tensor(prefixes[g][root:]) for g in group], past, [root] * len(group), keep_cache=True)
            store.put(group, trunk.cache_of(out, root + widths[j - 1]))
            del out

    # suffixes: every sequence by its own length, continuing from its pair's prefix
    seq_prefix = [prefix_of[row] for row, _ in batch.owners]
    order = sorted(range(len(batch.owners)), key=lambda s: (lengths[s] - seq_prefix[s], seq_prefix[s], s))
    spans = partition([lengths[s] - seq_prefix[s] for s in order], [seq_prefix[s] for s in order], budget,
                      extra_budget=budget // PAST_SHARE)
    for i, j in spans:
        group = order[i:j]
        past = None
        if any(seq_prefix[s] for s in group):
            past = store.gather([slot_of[batch.owners[s][0]] if seq_prefix[s] else None for s in group])
        rows = [ids[s, seq_prefix[s] : lengths[s]] for s in group]
        hidden = trunk(rows, past, [seq_prefix[s] for s in group], keep_cache=False).last_hidden_state
        yield [(s, hidden[k, first[s] - seq_prefix[s] : lengths[s] - seq_prefix[s]]) for k, s in enumerate(group)]
        del hidden, past


class PrefixStore:
    """The K/V of every distinct prefix, packed end to end (no padding) per layer.

    Layout per layer: (total prefix tokens + 1, kv_heads, head_dim); the last position is
    zeros and stands in for the masked padding of shorter pasts when a call gathers them.
    """

    def __init__(self, lengths: Sequence[int]):
        self.lengths = list(lengths)
        self.offsets = [0]
        for n in self.lengths:
            self.offsets.append(self.offsets[-1] + n)
        self.layers: list[tuple[torch.Tensor, torch.Tensor]] = []

    def put(self, slots: Sequence[int], layers: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Keep rows of a (rows, kv_heads, positions, head_dim) cache: row k is prefix slots[k]."""
        if not self.layers:
            total = self.offsets[-1] + 1
            self.layers = [(k.new_zeros((total, k.shape[1], k.shape[3])), v.new_zeros((total, v.shape[1], v.shape[3])))
                           for k, v in layers]
        rows = torch.cat([torch.full((self.lengths[s],), k, dtype=torch.long) for k, s in enumerate(slots)])
        pos = torch.cat([torch.arange(self.lengths[s]) for s in slots])
        dst = torch.cat([torch.arange(self.offsets[s], self.offsets[s + 1]) for s in slots])
        for (keep_k, keep_v), (k, v) in zip(self.layers, layers, strict=True):  # layers may sit on different devices
            at = k.device
            keep_k[dst.to(at)] = k.transpose(1, 2)[rows.to(at), pos.to(at)]
            keep_v[dst.to(at)] = v.transpose(1, 2)[rows.to(at), pos.to(at)]

    def gather(self, slots: Sequence[int | None]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(rows, kv_heads, longest, head_dim) pasts for prefix slots (None: no prefix), zero-padded."""
        width = max(self.lengths[s] for s in slots if s is not None)
        zero = self.offsets[-1]
        index = torch.full((len(slots), width), zero, dtype=torch.long)
        for k, s in enumerate(slots):
            if s is not None:
                index[k, : self.lengths[s]] = torch.arange(self.offsets[s], self.offsets[s + 1])
        index = index.flatten()
        return [
            (k.index_select(0, index.to(k.device)).view(len(slots), width, *k.shape[1:]).transpose(1, 2),
             v.index_select(0, index.to(v.device)).view(len(slots), width, *v.shape[1:]).transpose(1, 2))
            for k, v in self.layers
        ]


# --- scorers -------------------------------------------------------------------------------------


def classifier_scores(model: Any, batch: Batch, max_tokens: int, work: Work) -> torch.Tensor:
    """Last-token classifier scores (the built-in head's pooling), prefix computed once."""
    from rbkit.eval.heads import head_scores

    base = getattr(model, model.base_model_prefix)
    first = [int(n) - 1 for n in batch.lengths]
    last: dict[int, torch.Tensor] = {}
    for group in suffix_hidden(base, batch, first, max_tokens, work):
        for s, h in group:
            last[s] = h[0]
    with torch.inference_mode():
        logits = head_scores(model.score, torch.stack([last[s] for s in range(len(first))]))
    return logits[:, 0].to("cpu", torch.float64)


def response_logps(model: Any, batch: Batch, max_tokens: int, work: Work,
                   chunk_bytes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probs of every response token and their sequence (as eval.dpo computes them)."""
    from rbkit.eval.dpo import _final_logits

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
                logits = _final_logits(model, picked[i : i + chunk]).to(picked.device)
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
    count: dict[int, int] = {}
    for (r, _), n in zip(batch.owners, batch.lengths.tolist(), strict=True):
        longest[r] = max(longest.get(r, 0), int(n))
        count[r] = count.get(r, 0) + 1
    values: dict[tuple[int, int], float] = {}
    group: list[int] = []
    rows = list(longest)
    for k, r in enumerate(rows):
        group.append(r)
        nxt = rows[k + 1] if k + 1 < len(rows) else None
        if nxt is None or sum(count[x] for x in [*group, nxt]) * max(longest[x] for x in [*group, nxt]) > max_tokens:
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
            from rbkit.eval.batching import plan

            return plan(encoded, max_tokens=max_tokens, max_pairs=max_pairs)
        return plan_windows(encoded, max_tokens=max_tokens, max_pairs=max_pairs)

    def _prefix_score(self, batch: Batch) -> torch.Tensor:
        inner = self.inner
        if inner.kind == "classifier":
            return classifier_scores(inner.model, batch, self.max_tokens, self.work)
        from rbkit.eval.dpo import CHUNK_BYTES, reduce

        n = batch.input_ids.shape[0]
        lp, owner = response_logps(inner.policy, batch, self.max_tokens, self.work, CHUNK_BYTES)
        if inner.reference is None:
            return reduce(lp, owner, n, inner.reduction)
        ref_lp, ref_owner = response_logps(inner.reference, batch, self.max_tokens, self.work, CHUNK_BYTES)
        return reduce(lp, owner, n, "sum") - reduce(ref_lp, ref_owner, n, "sum")

    def _dtype(self) -> torch.dtype:
        model = getattr(self.inner, "model", None) or getattr(self.inner, "policy", None)
        return next(model.parameters()).dtype if model is not None else torch.float32

    def _disable(self, why: str) -> None:
        self.enabled = False
        self.notices.append(f"prefix sharing disabled ({why}); scoring full sequences")

    def _check(self, batch: Batch) -> None:
        """Once per scorer: one pair's scores by both paths must agree (the smallest, to keep it cheap)."""
        self.checked = True
        size: dict[int, int] = {}
        for (row, _), n in zip(batch.owners, batch.lengths.tolist(), strict=True):
            size[row] = size.get(row, 0) + int(n)
        one = sub_batch(batch, [min(size, key=lambda r: (size[r], r))])  # the cheapest pair
        plain = self.inner.score(one)
        mine = self._prefix_score(one)
        self.work = Work()  # the check's own work is not part of the run's
        if not prefix_check_passes(mine, plain, self._dtype()):
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
    from rbkit.eval.dpo import DPOScorer
    from rbkit.eval.heads import SequenceClassifier

    if type(scorer) is SequenceClassifier:
        return scorer.pooling == "last-token"
    return type(scorer) is DPOScorer


def with_prefix_sharing(scorer: Any, max_tokens: int) -> Any:
    """Wrap a built-in scorer for shared-prefix scoring; any other scorer is returned as is."""
    return PrefixScorer(scorer, max_tokens) if supports_prefix(scorer) else scorer
