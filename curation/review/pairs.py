"""Pair-level facts a reviewer needs and the edits a review can make, independent of Argilla.

The review label vocabulary is fixed: "chosen" (the labelled chosen side is better),
"rejected" (the labelled rejected side is better: the pair is kept with its sides swapped),
"tie" and "invalid" (the pair does not test a preference and leaves the subset).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from rbkit.curation.rows import TrioRow, Verification, canonical_json

LABELS: dict[str, str] = {
    "chosen": "Chosen is better (keep)",
    "rejected": "Rejected is better (swap)",
    "tie": "Tie: neither is clearly better (drop)",
    "invalid": "Invalid pair (drop)",
}
_SIDE_FLIP = {"chosen": "rejected", "rejected": "chosen"}


def content_sha256(row: TrioRow) -> str:
    """Hash of what a reviewer judges: prompt and both sides, in the labelled orientation.

    Decisions are keyed by pair id and this hash, so a decision is never applied to a pair
    whose text changed after it was reviewed.
    """
    record = row.to_record()
    body = {k: record[k] for k in ("prompt", "chosen", "rejected")}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def swapped(row: TrioRow) -> TrioRow:
    """The pair with chosen and rejected exchanged (models and verification sides follow)."""
    checks = tuple(
        dataclasses.replace(v, side=_SIDE_FLIP.get(v.side, v.side)) for v in row.provenance.verification
    )
    provenance = dataclasses.replace(row.provenance, verification=checks)
    return dataclasses.replace(
        row,
        chosen=row.rejected,
        rejected=row.chosen,
        chosen_model=row.rejected_model,
        rejected_model=row.chosen_model,
        provenance=provenance,
    )


def original(row: TrioRow) -> TrioRow:
    """The pair as the builder labelled it: a reviewer's swap undone."""
    return swapped(row) if row.provenance.review.status == "edited" else row


def text_of(value: Any) -> str:
    """Plain text of a prompt or response (messages and best-of-N lists joined)."""
    if isinstance(value, str):
        return value
    parts = []
    for item in value:
        parts.append(item.get("content", "") if isinstance(item, dict) else str(item))
    return "\n\n".join(parts)


def longer_side(row: TrioRow) -> str:
    """Which side the "pick the longer answer" ruler prefers: chosen, rejected or equal."""
    chosen, rejected = len(text_of(row.chosen)), len(text_of(row.rejected))
    if chosen == rejected:
        return "equal"
    return "chosen" if chosen > rejected else "rejected"


# --- suggestions from automatic verification --------------------------------------------------

_GOOD = {"pass", "equal", "correct"}
_BAD = {"fail", "compile_error", "timeout", "runtime_error", "unequal", "wrong", "incorrect"}
# How far an automatic check can be trusted as a pre-filled answer.
_EXECUTED = 1.0  # tests run, answers compared
_HEURISTIC = 0.7  # pattern rules (refusal detection)


def _quality(check: Verification) -> bool | None:
    """True when the side is good (correct / fits a chosen role), False when bad, None unknown.

    A check whose detail says whether the side fits its role (`ok`, as the refusal verifier
    records) is read that way: a rejected side fits its role by being the worse answer.
    """
    try:
        detail = json.loads(check.detail or "{}")
    except ValueError:
        detail = {}
    if isinstance(detail, dict) and isinstance(detail.get("ok"), bool):
        return detail["ok"] if check.side == "chosen" else not detail["ok"]
    verdict = check.verdict.lower()
    if verdict in _GOOD:
        return True
    if verdict in _BAD:
        return False
    return None


def _label_from(chosen_good: bool | None, rejected_good: bool | None) -> str | None:
    if chosen_good is None:
        return None
    if rejected_good is None:
        return None if chosen_good else "invalid"
    if chosen_good and not rejected_good:
        return "chosen"
    if rejected_good and not chosen_good:
        return "rejected"
    return "tie" if chosen_good else "invalid"


@dataclasses.dataclass(frozen=True)
class Suggestion:
    label: str
    score: float
    agent: str


def _sides_by_verifier(row: TrioRow) -> dict[str, dict[str, bool | None]]:
    by_verifier: dict[str, dict[str, bool | None]] = {}
    for check in row.provenance.verification:
        if check.side in ("chosen", "rejected"):
            by_verifier.setdefault(check.verifier, {})[check.side] = _quality(check)
    return by_verifier


def _labels_by_verifier(row: TrioRow) -> dict[str, str]:
    labels = {}
    for verifier, sides in _sides_by_verifier(row).items():
        label = _label_from(sides.get("chosen"), sides.get("rejected"))
        if label is not None:
            labels[verifier] = label
    return labels


def suggest(row: TrioRow) -> Suggestion | None:
    """The label automatic verification points to, when every verifier that spoke agrees."""
    labels = _labels_by_verifier(row)
    if not labels or len(set(labels.values())) != 1:
        return None
    (label,) = set(labels.values())
    score = _HEURISTIC if any(v.startswith("refusal") for v in labels) else _EXECUTED
    sides = _sides_by_verifier(row)
    if label == "invalid" and all(sides[v].get("rejected") is None for v in labels):
        score = min(score, 0.5)  # only the chosen side was checked
    return Suggestion(label, score, "+".join(sorted(labels)))


def verification_terms(row: TrioRow) -> list[str]:
    """Verdicts as short filterable terms, e.g. "code:python/chosen=pass"."""
    return sorted({f"{v.verifier}/{v.side}={v.verdict}" for v in row.provenance.verification})


def flagged(row: TrioRow) -> bool:
    """Automatic evidence casts doubt on the label: it points elsewhere, conflicts, or says so."""
    checks = row.provenance.verification
    if any(v.side == "pair" and v.verdict in ("disagree", "flag", "flagged") for v in checks):
        return True
    labels = set(_labels_by_verifier(row).values())
    return len(labels) > 1 or bool(labels - {"chosen"})
