"""Word n-grams hashed to 64-bit integers, and an index that finds texts sharing them.

Decontamination (`decontam.py`) asks one question many times: which reference texts share
word n-grams with this text, and how much of either text do the shared n-grams cover? Python
sets of n-gram strings answer it, at about one microsecond of Python per n-gram. Here the
words of a whole batch of texts are split and hashed to 64-bit integers in polars (Rust), the
n-gram hashes are computed at once with numpy (a rolling polynomial over the word hashes, then
the splitmix64 finaliser), and the reference side is one sorted array behind a presence filter,
so finding the query n-grams that occur anywhere in it is one gather and a `searchsorted` of
the few that pass. Only the texts with a hit are then compared word by word (`overlap`), and
every shared n-gram is confirmed on the words themselves, so a hash collision can never
produce a match. Hashes never leave the process (reports hold words), so they only need to
agree within one run.

Normalisation (`words`): Unicode NFKC, case-folded, every character that is neither a letter,
a digit nor whitespace replaced by a space, then split on whitespace. lm-evaluation-harness's
Janitor lower-cases and deletes ASCII punctuation; replacing instead of deleting makes spacing
around punctuation irrelevant too ("f(x)=3x^2-5" and "$f(x) = 3x^2 - 5$" are the same words,
which deletion would make "fx3x25" and "fx 3x2 5"), and the rule covers all of Unicode.
A text shorter than n words has one "n-gram": all of its words, which matches only a text
with exactly those words (so short prompts are caught when duplicated, never by containment).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_NOT_WORD = re.compile(r"[^\w\s]|_")
_NOT_WORD_OR_SPACE = re.compile(r"\W|_")
_MULT = 0x100000001B3  # FNV-64 prime: odd, so the polynomial is a bijection per position
_SHORT_TAG = 0x9E3779B97F4A7C15  # keeps a whole-text "n-gram" apart from an n-word window
_M64 = (1 << 64) - 1


# The same rule as a str.translate table for ASCII text (NFKC leaves ASCII unchanged): 5x faster.
_ASCII_TABLE = {c: (" " if _NOT_WORD_OR_SPACE.match(chr(c)) else chr(c).lower()) for c in range(128)}


def normalize(text: str) -> str:
    """NFKC, case-folded, punctuation, symbols and every kind of whitespace replaced by " "."""
    if text.isascii():
        return text.translate(_ASCII_TABLE)
    return _NOT_WORD_OR_SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold())


def words(text: str) -> list[str]:
    return normalize(text).split()


def word_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(every word's 64-bit hash, flat; the word count of each text) for a batch of texts.

    Splitting and hashing run in polars (Rust), not word by word in Python. The hashes only
    need to agree within one run (index and queries are hashed by the same process), and
    every shared n-gram is confirmed on the words themselves (`overlap`).
    """
    import polars as pl

    norm = pl.Series("t", [normalize(t) for t in texts], dtype=pl.String)
    split = norm.str.split(" ").list.eval(pl.element().filter(pl.element() != ""))
    lens = split.list.len().to_numpy().astype("int64")
    flat = split.explode().drop_nulls().hash(seed=0).to_numpy()
    return flat, lens


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the polynomial's low-bit structure over all 64 bits."""
    import numpy as np

    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _short_hash(word_hashes: Sequence[int]) -> int:
    """The one "n-gram" of a text shorter than n words."""
    import numpy as np

    h = _SHORT_TAG ^ len(word_hashes)
    for w in word_hashes:
        h = (h * _MULT + w) & _M64
    return int(_mix(np.array([h], dtype=np.uint64))[0])


@dataclass(frozen=True)
class Grams:
    """The n-grams of a batch of texts, as parallel arrays (one entry per n-gram)."""

    hashes: np.ndarray  # uint64
    doc: np.ndarray  # int64: index of the text in the batch (ascending)
    pos: np.ndarray  # int64: first word of the n-gram
    span: np.ndarray  # int64: words covered (n, or the whole text when shorter)


def batch_grams(texts: Sequence[str], n: int) -> Grams:
    """The n-gram hashes of a batch of texts, computed for the whole batch at once."""
    import numpy as np

    flat, lens = word_hashes(texts)
    starts = np.concatenate(([0], np.cumsum(lens)[:-1])) if len(texts) else lens
    total = len(flat)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    if total >= n:
        width = total - n + 1
        h = np.zeros(width, dtype=np.uint64)
        mult = np.uint64(_MULT)
        with np.errstate(over="ignore"):
            for j in range(n):  # in place: no new array per word position
                np.multiply(h, mult, out=h)
                np.add(h, flat[j : j + width], out=h)
            h = _mix(h)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), lens)[:width]
        pos = np.arange(width, dtype=np.int64) - starts[doc]
        valid = pos + n <= lens[doc]
        parts.append((h[valid], doc[valid], pos[valid], np.full(int(valid.sum()), n, dtype=np.int64)))
    short = np.flatnonzero((lens > 0) & (lens < n))
    if len(short):
        sh = np.array(
            [_short_hash(flat[starts[i] : starts[i] + lens[i]].tolist()) for i in short], dtype=np.uint64
        )
        parts.append((sh, short.astype(np.int64), np.zeros(len(short), dtype=np.int64), lens[short]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Grams(np.zeros(0, dtype=np.uint64), empty, empty, empty)
    hashes, doc, pos, span = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.argsort(doc, kind="stable")
    return Grams(hashes[order], doc[order], pos[order], span[order])


@dataclass(frozen=True)
class DocGrams:
    """One text's words and n-grams, for the word-by-word comparison of a candidate pair."""

    words: list[str]
    grams: dict[int, list[tuple[int, int]]]  # hash -> [(pos, span), ...]


def doc_grams(text: str, n: int) -> DocGrams:
    """One text's words and n-grams (hashed exactly as `batch_grams` hashes a batch)."""
    toks = words(text)
    g = batch_grams([" ".join(toks)], n)
    grams: dict[int, list[tuple[int, int]]] = {}
    for h, p, s in zip(g.hashes.tolist(), g.pos.tolist(), g.span.tolist(), strict=True):
        grams.setdefault(h, []).append((p, s))
    return DocGrams(toks, grams)


@dataclass(frozen=True)
class Overlap:
    """What two texts share: each side's covered share of words, and the evidence."""

    query_coverage: float  # share of the query's words inside shared n-grams
    reference_coverage: float  # the same for the reference text
    shared_ngrams: int  # distinct shared n-grams (confirmed on the words)
    ngram: str  # the first shared n-gram of the query, normalised words
    span: str  # the longest run of shared words in the query, normalised (capped)

    @property
    def score(self) -> float:
        """The larger coverage: a short text wholly inside a long one scores 1 either way."""
        return max(self.query_coverage, self.reference_coverage)


SPAN_WORDS = 60  # evidence cap


def _covered(doc: DocGrams, shared: set[int]) -> list[bool]:
    mask = [False] * len(doc.words)
    for h in shared:
        for p, s in doc.grams[h]:
            mask[p : p + s] = [True] * s
    return mask


def overlap(query: DocGrams, ref: DocGrams) -> Overlap | None:
    """The shared n-grams of two texts, confirmed word by word; None when they share none."""
    shared = set()
    for h in query.grams.keys() & ref.grams.keys():
        qp, qs = query.grams[h][0]
        rp, rs = ref.grams[h][0]
        if query.words[qp : qp + qs] == ref.words[rp : rp + rs]:  # not a hash collision
            shared.add(h)
    if not shared:
        return None
    qmask, rmask = _covered(query, shared), _covered(ref, shared)
    first = min(query.grams[h][0] for h in shared)
    best, run, best_end = 0, 0, 0
    for i, m in enumerate(qmask):
        run = run + 1 if m else 0
        if run > best:
            best, best_end = run, i + 1
    span_words = query.words[best_end - best : best_end]
    return Overlap(
        query_coverage=sum(qmask) / len(qmask),
        reference_coverage=sum(rmask) / len(rmask),
        shared_ngrams=len(shared),
        ngram=" ".join(query.words[first[0] : first[0] + first[1]]),
        span=" ".join(span_words[:SPAN_WORDS]) + (" …" if len(span_words) > SPAN_WORDS else ""),
    )


class NgramIndex:
    """The n-grams of a set of reference texts: one sorted hash array and the text of each entry.

    `candidates` proposes, for each query text, the reference texts sharing at least one
    n-gram hash with it (most shared first); `overlap` then confirms and measures each pair.
    """

    def __init__(self, texts: Sequence[str], n: int, *, batch: int = 4_000,
                 progress: Callable[[int, int], None] | None = None):
        import numpy as np

        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        self.n = n
        self.texts = list(texts)
        hashes, docs = [], []
        for lo in range(0, len(self.texts), batch):
            g = batch_grams(self.texts[lo : lo + batch], n)
            hashes.append(g.hashes)
            docs.append(g.doc + lo)
            if progress:
                progress(min(lo + batch, len(self.texts)), len(self.texts))
        h = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
        d = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
        order = np.lexsort((d, h))
        self.hashes, self.docs = h[order], d[order]
        # A one-byte-per-slot presence filter on the low hash bits: most query n-grams are in no
        # reference, and one random read rejects them where a binary search costs ~20.
        bits = int(min(26, max(16, (16 * max(1, len(h)) - 1).bit_length())))
        self._mask = np.uint64((1 << bits) - 1)
        self._present = np.zeros(1 << bits, dtype=bool)
        self._present[(self.hashes & self._mask).astype(np.int64)] = True
        self._cache: dict[int, DocGrams] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def doc(self, i: int) -> DocGrams:
        if i not in self._cache:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[i] = doc_grams(self.texts[i], self.n)
        return self._cache[i]

    def candidates(self, texts: Sequence[str], *, limit: int = 32) -> Iterator[tuple[int, DocGrams, list[int]]]:
        """(query index, its n-grams, up to `limit` reference indices) for each query with a hit.

        References are ordered by how many of the query's n-grams they share (ties by index),
        so a cap keeps the best-matching ones when a phrase is common to many references.
        """
        import numpy as np

        g = batch_grams(texts, self.n)
        if len(g.hashes) == 0 or len(self.hashes) == 0:
            return
        hit = self._present[(g.hashes & self._mask).astype(np.int64)]
        maybe = np.flatnonzero(hit)
        at = np.searchsorted(self.hashes, g.hashes[maybe])
        hit[maybe] = self.hashes[np.minimum(at, len(self.hashes) - 1)] == g.hashes[maybe]
        if not hit.any():
            return
        hit_doc, hit_hash = g.doc[hit], g.hashes[hit]
        bounds = np.flatnonzero(np.diff(hit_doc)) + 1
        for q_hashes, q in zip(np.split(hit_hash, bounds), hit_doc[np.r_[0, bounds]].tolist(), strict=True):
            q_hashes = np.unique(q_hashes)
            lo = np.searchsorted(self.hashes, q_hashes, side="left")
            hi = np.searchsorted(self.hashes, q_hashes, side="right")
            refs = np.concatenate([self.docs[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True)])
            ids, counts = np.unique(refs, return_counts=True)
            ranked = ids[np.lexsort((ids, -counts))][:limit]
            query = doc_grams(texts[q], self.n)
            yield q, query, ranked.tolist()

