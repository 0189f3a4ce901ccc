"""What a reviewer sees of a row, and how an answer maps back to the row's sides.

Four layouts, one per dataset:
- labelled pairs: prompt, "Chosen (labelled better)", "Rejected (labelled worse)" (the original);
- labelled best-of-N: prompt, the chosen answer(s) and every rejected answer in its own field,
  with a question that marks rejected answers that are actually correct;
- blind pairs and blind best-of-N (`rbkit review push --blind`): prompt and "Answer A", "Answer B",
  ... in a seeded random order, nothing that says which one the build labelled better.

A row's answers are its slots: ("chosen", i) and ("rejected", i). The blind order of a row is a
permutation of its slots that depends only on a seed and the row's stable id, so every push shows
the same row the same way and pull can map "B is better" back to a side. Everything here is pure;
the mapping a push used is also kept in the build folder (`curation.review.blind`).
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rbkit.curation.review.connection import ReviewError
from rbkit.curation.review.pairs import LABELS
from rbkit.curation.rows import TrioRow

Slot = tuple[str, int]  # ("chosen" | "rejected", index into that side)
LETTERS = string.ascii_lowercase
LABEL_QUESTION = "label"
COMMENT_QUESTION = "comment"
CORRECT_QUESTION = "correct"  # best-of-N only: rejected answers that are actually correct
DROP_LABELS = {"tie", "invalid"}

BEST_OF_N_LABELS: dict[str, str] = {
    "chosen": "Chosen is best (keep)",
    "rejected": "A rejected answer is better (drop)",
    "tie": "No single best answer (drop)",
    "invalid": "Invalid row (drop)",
}


def slots(row: TrioRow) -> list[Slot]:
    """The row's answers, chosen first: one each for a pair, every list item for best-of-N."""
    if isinstance(row.chosen, str):
        return [("chosen", 0), ("rejected", 0)]
    return [("chosen", i) for i in range(len(row.chosen))] + [("rejected", i) for i in range(len(row.rejected))]


def slot_text(row: TrioRow, slot: Slot) -> str:
    side, index = slot
    value = row.chosen if side == "chosen" else row.rejected
    return value if isinstance(value, str) else value[index]


def slot_name(slot: Slot) -> str:
    """A slot as text ("chosen:0"), as the blind mapping file stores it."""
    return f"{slot[0]}:{slot[1]}"


def parse_slot(text: str) -> Slot:
    side, _, index = text.partition(":")
    if side not in ("chosen", "rejected") or not index.isdigit():
        raise ValueError(f"not an answer slot: {text!r} (expected chosen:N or rejected:N)")
    return side, int(index)


def blind_order(row: TrioRow, seed: int) -> list[Slot]:
    """The row's slots in the order a blind reviewer sees them (A, B, ...).

    Each slot is ranked by a hash of the seed, the row's stable id and the slot, so the order
    is fixed for a row across pushes and rebuilds, and independent from one row to the next.
    """
    def rank(slot: Slot) -> bytes:
        return hashlib.sha256(f"rbkit-blind\x1f{seed}\x1f{row.id}\x1f{slot_name(slot)}".encode()).digest()

    return sorted(slots(row), key=rank)


def letter(position: int) -> str:
    return LETTERS[position]


@dataclass(frozen=True)
class Layout:
    """One dataset's fields and questions. `chosen`/`rejected`: how many answers of each side
    the dataset has room for (1/1 for pairs); rows with fewer leave the extra fields empty."""

    blind: bool
    best_of_n: bool
    chosen: int = 1
    rejected: int = 1

    @classmethod
    def for_rows(cls, rows: Iterable[TrioRow], *, blind: bool) -> Layout:
        """The layout that fits every row (a subset mixing pairs and best-of-N rows is refused)."""
        rows = list(rows)
        kinds = {isinstance(r.chosen, str) for r in rows}
        if len(kinds) > 1:
            raise ReviewError(f"subset {rows[0].subset!r} mixes pairs and best-of-N rows; review needs one kind")
        if not rows or kinds == {True}:
            return cls(blind, False)
        if blind:  # only the number of answers matters: the letters hide the sides
            answers = max(len(slots(r)) for r in rows)
            if answers > len(LETTERS):
                raise ReviewError(f"subset {rows[0].subset!r}: {answers} answers is more than blind review can letter (26)")
            return cls(True, True, 1, answers - 1)
        return cls(False, True, max(len(r.chosen) for r in rows), max(len(r.rejected) for r in rows))

    @classmethod
    def from_settings(cls, fields: Sequence[str], questions: Iterable[str]) -> Layout | None:
        """The layout a dataset with these field and question names was made with (None: not
        one of rbkit's); a best-of-N dataset is the one with the "actually correct" question."""
        names = list(fields)
        best_of_n = CORRECT_QUESTION in set(questions)
        if len(names) < 3 or names[0] != "prompt":
            return None
        if names[1].startswith("answer_"):
            layout = cls(True, best_of_n, 1, len(names) - 2)
        elif not best_of_n:
            layout = cls(False, False)
        else:
            chosen = sum(1 for n in names if n == "chosen" or n.startswith("chosen_"))
            layout = cls(False, True, chosen, len(names) - 1 - chosen)
        return layout if [name for name, _, _ in layout.fields()] == names else None

    @property
    def answers(self) -> int:
        return self.chosen + self.rejected

    def fits(self, needed: Layout) -> bool:
        """Whether rows laid out as `needed` can go into a dataset laid out as self."""
        if (self.blind, self.best_of_n) != (needed.blind, needed.best_of_n):
            return False
        if self.blind:
            return self.answers >= needed.answers
        return self.chosen >= needed.chosen and self.rejected >= needed.rejected

    def describe(self) -> str:
        kind = "best-of-N" if self.best_of_n else "pairs"
        return f"{'blind ' if self.blind else ''}{kind} ({self.answers} answers)"

    # --- fields and questions ------------------------------------------------------------------

    def answer_fields(self) -> list[str]:
        if self.blind:
            return [f"answer_{letter(i)}" for i in range(self.answers)]
        if not self.best_of_n:
            return ["chosen", "rejected"]
        chosen = ["chosen"] if self.chosen == 1 else [f"chosen_{i + 1}" for i in range(self.chosen)]
        return chosen + [f"rejected_{i + 1}" for i in range(self.rejected)]

    def fields(self) -> list[tuple[str, str, bool]]:
        """(name, title, required) of every field, prompt first; at least two answers required."""
        out = [("prompt", "Prompt", True)]
        if self.blind:
            out += [(f"answer_{letter(i)}", f"Answer {letter(i).upper()}", i < 2) for i in range(self.answers)]
        elif not self.best_of_n:
            out += [("chosen", "Chosen (labelled better)", True), ("rejected", "Rejected (labelled worse)", True)]
        else:
            names = self.answer_fields()
            for i, name in enumerate(names[: self.chosen]):
                title = "Chosen (labelled best)" if self.chosen == 1 else f"Chosen {i + 1} (labelled correct)"
                out.append((name, title, i == 0))
            for i, name in enumerate(names[self.chosen :]):
                out.append((name, f"Rejected {i + 1} (labelled wrong)", i == 0))
        return out

    def labels(self) -> dict[str, str]:
        """The choices of the label question."""
        if not self.blind:
            return dict(BEST_OF_N_LABELS if self.best_of_n else LABELS)
        word = "best" if self.best_of_n else "better"
        choices = {letter(i): f"{letter(i).upper()} is {word}" for i in range(self.answers)}
        if self.best_of_n:
            choices.update(tie="No single best answer (drop)", invalid="Invalid row (drop)")
        else:
            choices.update(tie=LABELS["tie"], invalid=LABELS["invalid"])
        return choices

    def label_title(self) -> str:
        if self.best_of_n:
            return "Which answer is best?" if self.blind else "Is the chosen answer the best one?"
        return "Which response is better?"

    def correct_labels(self) -> dict[str, str] | None:
        """The choices of the "actually correct" question (best-of-N only)."""
        if not self.best_of_n:
            return None
        if self.blind:
            return {letter(i): f"{letter(i).upper()} is correct" for i in range(self.answers)}
        return {f"rejected_{i + 1}": f"Rejected {i + 1} is actually correct" for i in range(self.rejected)}

    def correct_title(self) -> str:
        if self.blind:
            return "Besides the best one, which answers are also correct? (leave empty when none is)"
        return "Which rejected answers are actually correct? (leave empty when none is)"

    def values(self, row: TrioRow, order: Sequence[Slot] | None) -> dict[str, str]:
        """Field name -> raw answer text for one row (prompt excluded; unused fields absent)."""
        if self.blind:
            if order is None:
                raise ValueError("a blind layout needs the row's blind order")
            return {f"answer_{letter(i)}": slot_text(row, slot) for i, slot in enumerate(order)}
        if not self.best_of_n:
            return {"chosen": slot_text(row, ("chosen", 0)), "rejected": slot_text(row, ("rejected", 0))}
        names = self.answer_fields()
        out = {}
        for side, index in slots(row):
            offset = 0 if side == "chosen" else self.chosen
            out[names[offset + index]] = slot_text(row, (side, index))
        return out


@dataclass(frozen=True)
class Verdict:
    """One answer in the row's terms: which side won, and which rejected answers are correct."""

    label: str  # chosen | rejected | tie | invalid
    rejected_correct: tuple[int, ...] = ()  # 0-based indexes into the row's rejected list


def verdict(label: str, ticked: Sequence[str], order: Sequence[Slot] | None) -> Verdict | None:
    """Map an answer as Argilla stores it back to the row; None when it names nothing valid.

    `order` is the blind order the reviewer saw (None for a labelled layout): "b" then means
    the row's second slot in that order.
    """
    if order is None:
        if label not in LABELS:
            return None
        correct = sorted({int(t.split("_", 1)[1]) - 1 for t in ticked if t.startswith("rejected_") and t[9:].isdigit()})
        return Verdict(label, tuple(correct))
    if label in DROP_LABELS:
        side = label
    elif len(label) == 1 and label in LETTERS and LETTERS.index(label) < len(order):
        side = order[LETTERS.index(label)][0]
    else:
        return None
    correct = set()
    for tick in ticked:
        if len(tick) == 1 and tick in LETTERS and LETTERS.index(tick) < len(order):
            tick_side, index = order[LETTERS.index(tick)]
            if tick_side == "rejected":
                correct.add(index)
    return Verdict(side, tuple(sorted(correct)))
