"""The trio row: the unit every builder emits, every filter judges and every file stores.

Rows are plain frozen dataclasses so filters stay pure and rows hash/compare by value.
`to_record` gives the published column order (seven RewardBench columns first, then
`provenance`), which is what parquet, JSONL and the JSON Schema all describe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rbkit.core.jsonio import canonical_json as canonical_json  # re-exported for builders

if TYPE_CHECKING:
    from rbkit.curation.sources import SourceFile

PUBLISHED_COLUMNS: tuple[str, ...] = (
    "prompt",
    "chosen",
    "chosen_model",
    "rejected",
    "rejected_model",
    "subset",
    "id",
)

ReviewStatus = Literal["unreviewed", "accepted", "rejected", "edited"]
REVIEW_STATUSES: tuple[str, ...] = ("unreviewed", "accepted", "rejected", "edited")


def stable_id(subset: str, row_key: str) -> int:
    """A 63-bit id that depends only on the subset and the upstream row key.

    Rebuilding from the same sources gives the same ids, and dropping one row never
    renumbers the others (sequential ids would).
    """
    digest = hashlib.sha256(f"{subset}\x1f{row_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


@dataclass(frozen=True)
class Verification:
    """One automatic check of one side of a pair (e.g. chosen code passes its tests)."""

    verifier: str  # e.g. "code:python", "math:answer", "refusal:patterns"
    side: Literal["chosen", "rejected", "pair"]
    verdict: str  # verifier-specific: pass/fail/compile_error/timeout, equal/unequal, refuse/comply/partial
    detail: str = "{}"  # canonical JSON object with the evidence (stderr tail, extracted answers, ...)

    def to_record(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Review:
    """The human decision on a pair, as pulled back from Argilla."""

    status: ReviewStatus = "unreviewed"
    reviewer: str | None = None
    time: str | None = None  # ISO 8601, UTC
    comment: str | None = None

    def to_record(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Provenance:
    """Where a pair came from and every decision taken about it."""

    source: str  # source name as registered, e.g. "llmbar"
    upstream_file: str  # path inside the upstream repo, e.g. "Dataset/LLMBar/Natural/dataset.json"
    revision: str  # pinned upstream revision (commit sha or Hub revision)
    sha256: str  # sha256 of the upstream file the row was read from
    row_key: str  # stable key of the upstream row(s), e.g. "Natural/dataset.json#17"
    builder: str  # builder (module) name, e.g. "subsets.llmbar"
    builder_version: str  # bumped when the builder's output for the same input changes
    filters_passed: tuple[str, ...] = ()
    verification: tuple[Verification, ...] = ()
    review: Review = field(default_factory=Review)
    extra: str = "{}"  # canonical JSON object: source-specific facts (task_id, bug_type, labels, ...)

    @classmethod
    def from_source(
        cls,
        src: SourceFile,
        *,
        source: str,
        row_key: str,
        builder: str,
        builder_version: str,
        extra: str = "{}",
        verification: tuple[Verification, ...] = (),
    ) -> Provenance:
        """Provenance of a row read from the pinned upstream file `src`."""
        return cls(
            source=source,
            upstream_file=src.path,
            revision=src.revision,
            sha256=src.sha256,
            row_key=row_key,
            builder=builder,
            builder_version=builder_version,
            verification=verification,
            extra=extra,
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "upstream_file": self.upstream_file,
            "revision": self.revision,
            "sha256": self.sha256,
            "row_key": self.row_key,
            "builder": self.builder,
            "builder_version": self.builder_version,
            "filters_passed": list(self.filters_passed),
            "verification": [v.to_record() for v in self.verification],
            "review": self.review.to_record(),
            "extra": self.extra,
        }

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> Provenance:
        return cls(
            source=rec["source"],
            upstream_file=rec["upstream_file"],
            revision=rec["revision"],
            sha256=rec["sha256"],
            row_key=rec["row_key"],
            builder=rec["builder"],
            builder_version=rec["builder_version"],
            filters_passed=tuple(rec.get("filters_passed") or ()),
            verification=tuple(Verification(**v) for v in rec.get("verification") or ()),
            review=Review(**(rec.get("review") or {})),
            extra=rec.get("extra") or "{}",
        )

    def extra_dict(self) -> dict[str, Any]:
        return json.loads(self.extra)


@dataclass(frozen=True)
class TrioRow:
    """A (prompt, chosen, rejected) pair with its provenance.

    `prompt` is a string for single-turn subsets and a list of {role, content} messages for
    multi-turn ones (prior sets). `chosen`/`rejected` are strings, or lists of strings for
    RewardBench-2-style best-of-N rows.
    """

    prompt: str | tuple[Mapping[str, str], ...]
    chosen: str | tuple[str, ...]
    chosen_model: str
    rejected: str | tuple[str, ...]
    rejected_model: str
    subset: str
    id: int
    provenance: Provenance

    def to_record(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if isinstance(v, tuple):
                return [dict(x) if isinstance(x, Mapping) else x for x in v]
            return v

        return {
            "prompt": plain(self.prompt),
            "chosen": plain(self.chosen),
            "chosen_model": self.chosen_model,
            "rejected": plain(self.rejected),
            "rejected_model": self.rejected_model,
            "subset": self.subset,
            "id": self.id,
            "provenance": self.provenance.to_record(),
        }

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> TrioRow:
        def frozen(v: Any) -> Any:
            if isinstance(v, list):
                return tuple(dict(x) if isinstance(x, Mapping) else x for x in v)
            return v

        return cls(
            prompt=frozen(rec["prompt"]),
            chosen=frozen(rec["chosen"]),
            chosen_model=rec["chosen_model"],
            rejected=frozen(rec["rejected"]),
            rejected_model=rec["rejected_model"],
            subset=rec["subset"],
            id=int(rec["id"]),
            provenance=Provenance.from_record(rec["provenance"]),
        )

    # Small, explicit updaters keep steps pure: they return new rows.
    def with_filter(self, name: str) -> TrioRow:
        prov = dataclasses.replace(self.provenance, filters_passed=(*self.provenance.filters_passed, name))
        return dataclasses.replace(self, provenance=prov)

    def with_verification(self, *checks: Verification) -> TrioRow:
        prov = dataclasses.replace(self.provenance, verification=(*self.provenance.verification, *checks))
        return dataclasses.replace(self, provenance=prov)

    def with_review(self, review: Review) -> TrioRow:
        return dataclasses.replace(self, provenance=dataclasses.replace(self.provenance, review=review))


@dataclass(frozen=True)
class DroppedRow:
    """A candidate that did not make it, with the step that dropped it and why.

    `row` is the candidate's record when one could be formed; for unreadable upstream rows it
    is None and `location` says where in the source the problem is.
    """

    subset: str
    step: str  # e.g. "source", "filter:nonempty", "verify:code", "select", "review"
    reason: str
    row: dict[str, Any] | None = None
    location: str | None = None  # "file:row field" for malformed source rows
    evidence: str = "{}"  # canonical JSON with the measurements behind the decision

    def to_record(self) -> dict[str, Any]:
        return {
            "subset": self.subset,
            "step": self.step,
            "reason": self.reason,
            "location": self.location,
            "evidence": json.loads(self.evidence),
            "row": self.row,
        }
