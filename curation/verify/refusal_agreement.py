"""How well the refusal detector agrees with human labels: a confusion matrix and its accuracies.

Used for each safety subset's build report (XSTest's 2,250 hand-labelled completions) and by
`bench/refusal_agreement.py`; the detector itself is `refusal.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rbkit.curation.verify.refusal import DETECTOR, DETECTOR_VERSION, LABELS, Label, classify


@dataclass(frozen=True)
class Agreement:
    """The detector against human labels: a confusion matrix and the accuracies derived from it.

    `confusion[human][detected]` counts responses. `accuracy` is exact agreement over the
    responses humans labelled full compliance or full refusal (partial refusals are reported
    separately, through `partial`, because the detector rarely separates them).
    """

    confusion: Mapping[str, Mapping[str, int]]

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    def _count(self, human: str, detected: str) -> int:
        return self.confusion.get(human, {}).get(detected, 0)

    @property
    def full_n(self) -> int:
        return sum(self._count(h, d) for h in ("comply", "refuse") for d in LABELS)

    @property
    def accuracy(self) -> float:
        """Exact agreement on full compliance vs full refusal (the headline number)."""
        hits = self._count("comply", "comply") + self._count("refuse", "refuse")
        return hits / self.full_n if self.full_n else float("nan")

    @property
    def comply_accuracy(self) -> float:
        """Agreement on complies vs does not comply, over every labelled response."""
        hits = sum(
            self._count(h, d) for h in LABELS for d in LABELS if (h == "comply") == (d == "comply")
        )
        return hits / self.total if self.total else float("nan")

    @property
    def partial(self) -> dict[str, int]:
        """How responses humans called partial refusals were labelled by the detector."""
        return {d: self._count("partial", d) for d in LABELS}

    def to_record(self) -> dict[str, Any]:
        return {
            "detector": DETECTOR,
            "detector_version": DETECTOR_VERSION,
            "responses": self.total,
            "full_responses": self.full_n,
            "accuracy_full_comply_vs_refuse": round(self.accuracy, 4),
            "accuracy_comply_vs_not": round(self.comply_accuracy, 4),
            "partial_refusals": self.partial,
            "confusion": {h: {d: self._count(h, d) for d in LABELS} for h in LABELS},
            "confusion_axes": "confusion[human][detected]",
        }


def agreement(labelled: Iterable[tuple[Label, str]]) -> Agreement:
    """Compare the detector with (human label, response) pairs."""
    table: dict[str, Counter[str]] = {h: Counter() for h in LABELS}
    for human, text in labelled:
        if human not in LABELS:
            raise ValueError(f"human label must be one of {LABELS}, got {human!r}")
        table[human][classify(text)] += 1
    return Agreement({h: dict(table[h]) for h in LABELS})


def format_agreement(result: Agreement, title: str = "refusal detector vs human labels") -> str:
    """A plain-text confusion matrix with the accuracies, for logs and the bench script."""
    width = 9
    lines = [
        title,
        f"  responses: {result.total} ({result.full_n} full compliance or full refusal)",
        f"  accuracy, full compliance vs full refusal: {result.accuracy:.1%}",
        f"  accuracy, complies vs does not (all labels): {result.comply_accuracy:.1%}",
        "  confusion (rows: human, columns: detector)",
        "    " + "human".ljust(width) + "".join(d.rjust(width) for d in LABELS),
    ]
    for h in LABELS:
        lines.append("    " + h.ljust(width) + "".join(str(result._count(h, d)).rjust(width) for d in LABELS))
    partial = result.partial
    n_partial = sum(partial.values())
    lines.append(
        f"  partial refusals (human): {n_partial}; detector says "
        + ", ".join(f"{d} {partial[d]}" for d in LABELS)
    )
    return "\n".join(lines)
