"""MinHash over character shingles, in numpy: the near-duplicate search of `curation.dedup`.

Kept apart from `dedup` so that registering a subset with a `DedupStep` does not load numpy;
it loads when duplicates are first searched.
"""

from __future__ import annotations

import numpy as np
from rbkit.curation.dedup import NUM_PERM, SHINGLE, normalize


def shingles(text: str, k: int = SHINGLE) -> np.ndarray:
    """Sorted unique 32-bit hashes of the character k-grams of the normalised text.

    A polynomial hash over code points, computed with numpy: deterministic across processes
    (unlike `hash`) and fast enough for the 20k prompts of the prior sets.
    """
    norm = normalize(text)
    cps = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if cps.size == 0:
        return np.zeros(0, dtype=np.int64)
    if cps.size < k:
        cps = np.concatenate([cps, np.zeros(k - cps.size, dtype=np.uint64)])
    h = np.zeros(cps.size - k + 1, dtype=np.uint64)
    for j in range(k):
        h = (h * np.uint64(1_000_003) + cps[j : cps.size - k + 1 + j]) & np.uint64(0xFFFFFFFF)
    h.sort()
    return h[np.concatenate(([True], h[1:] != h[:-1]))].astype(np.int64)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique shingle arrays."""
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


_BIN_BITS = 7  # 2**7 = NUM_PERM bins
_VALUE_MASK = np.uint64((1 << (64 - _BIN_BITS)) - 1)
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads 32-bit shingle hashes over 64 bits (uint64 wraps on purpose)."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def minhash(grams: np.ndarray) -> np.ndarray:
    """A NUM_PERM-value MinHash signature by one-permutation hashing with densification.

    One hash per shingle; its top bits pick a bin, each bin keeps its minimum; an empty bin
    borrows the next non-empty bin's value plus its distance (Shrivastava & Li, 2014). Equal sets
    give equal signatures and P[bin equal] tracks Jaccard, in O(shingles) instead of
    O(shingles x permutations).
    """
    if grams.size == 0:
        return np.full(NUM_PERM, _EMPTY, dtype=np.uint64)
    h = _mix(grams)
    bins = (h >> np.uint64(64 - _BIN_BITS)).astype(np.intp)
    sig = np.full(NUM_PERM, _EMPTY, dtype=np.uint64)
    np.minimum.at(sig, bins, h & _VALUE_MASK)
    filled = np.flatnonzero(sig != _EMPTY)
    if filled.size < NUM_PERM:
        idx = np.arange(NUM_PERM)
        src = filled[np.searchsorted(filled, idx) % filled.size]
        distance = ((src - idx) % NUM_PERM).astype(np.uint64)
        sig = sig[src] + distance * (_VALUE_MASK + np.uint64(1))
    return sig
