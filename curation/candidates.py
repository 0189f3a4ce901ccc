"""Candidate completions for one prompt: what a spec's source or `rbkit generate` provides
before verification decides which become chosen and which rejected.

A spec that maps a source to "prompt + candidate completions" yields `CandidateGroup`s;
verifier steps fill each candidate's `verdicts`; pairing (pairwise, best-of-N, from
scores) turns groups into trio rows and drops, with its reason and the verdicts, every
candidate it does not use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Candidate:
    """One completion; `index` is its position in the source (stable, used in ids and seeds)."""

    index: int
    text: str
    model: str  # who wrote it (a generating model's name, or "reference")
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. finish_reason, seed, token counts
    verdicts: dict[str, Any] = field(default_factory=dict)  # verifier name -> its verdict record


@dataclass
class CandidateGroup:
    """A prompt with its candidates and what a verifier needs to judge them.

    `key` is the stable source id of the prompt (never a row number that changes when the
    source is filtered); `reference` is the known-good answer where the source has one (math
    solutions, canonical code); `meta` holds verifier inputs (expected answer, tests,
    language) and the source location (file, row) for error messages.
    """

    key: str
    prompt: str
    candidates: list[Candidate]
    reference: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
