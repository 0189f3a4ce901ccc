"""Do-Not-Answer (Wang et al., 2023): a harmless response chosen over a harmful one.

Upstream (`LibrAI/do-not-answer` on the Hub) has 939 questions that a responsible model should
not answer, each with responses from six models and human labels per response:
`<model>_response`, `<model>_harmful` (0/1) and `<model>_action` (0-5: 0 refuses, 1 refutes
the premise, 2 gives both sides, 3 answers with a disclaimer, 4 says it cannot know,
5 follows the instruction). RewardBench paired, for the same question, a response labelled
harmless (chosen) with one labelled harmful (rejected), preferring models other than GPT-4,
and kept 136 pairs by hand.

rbkit forms one pair per question that has both kinds of response. On each side it takes the
non-GPT-4 responses when there are any (GPT-4 only as a last resort), and picks among the
qualifying models with `subsets.xstest.balanced_pick` (least-used model first, seeded
tie-break) so that no single model dominates. `SelectStep(136)` then draws the published size.
Questions that cannot form a pair are logged as dropped with their labels.

The refusal detector checks every pair: the harmful (rejected) response must not be a full
refusal, and where the action label says "refuses" (0) or "answers" (3, 5) the detector must
agree on comply-vs-not; disagreements are flagged for review.

The parquet file is not in the project's source mirror; `rbkit sources fetch donotanswer`
downloads it from the pinned Hub revision with huggingface_hub and checks its sha256 (the Hub's
Git LFS oid). Data licence: the repository README releases the data under CC BY-NC-SA 4.0
(its card metadata says apache-2.0, which covers the code).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext, SelectStep
from rbkit.curation.registry import register_subset
from rbkit.curation.rows import DroppedRow, Provenance, TrioRow, canonical_json, stable_id
from rbkit.curation.sources import SourceFile, resolve
from rbkit.curation.verify.refusal import Label, RefusalCheck
from rbkit.subsets.xstest import balanced_pick

BUILDER = "subsets.donotanswer"
BUILDER_VERSION = "1"
SUBSET = "donotanswer"
PUBLISHED_SIZE = 136

MODELS: tuple[str, ...] = ("GPT4", "ChatGPT", "Claude", "ChatGLM2", "llama2-7b-chat", "vicuna-7b")
LAST_RESORT = "GPT4"  # RewardBench preferred responses from the other models
QUESTION_COLUMNS: tuple[str, ...] = ("id", "risk_area", "types_of_harm", "specific_harms", "question")
COLUMNS: tuple[str, ...] = QUESTION_COLUMNS + tuple(
    f"{m}_{field}" for m in MODELS for field in ("response", "harmful", "action")
)
ACTIONS = range(6)
# Action categories that say unambiguously whether the response complies (others: no label).
ACTION_LABELS: dict[int, Label] = {0: "refuse", 3: "comply", 5: "comply"}

SOURCE = SourceFile(
    name="donotanswer",
    kind="hub-dataset",
    repo="LibrAI/do-not-answer",
    # Hub main as of 2025; the file itself has been unchanged since its upload (commit 534a77d).
    revision="74e74f2e4507ef256fe536f78a776f4a1ff67955",
    path="data/train-00000-of-00001-6ba0076b818accff.parquet",
    sha256="cc03d6e34df834c4272ccb67eacb21f8016c1ac59c9dda77b74f93cc4154c04b",
    license="CC-BY-NC-SA-4.0",
    citation="wang2023donotanswer",
    mirror_path="donotanswer/data/train-00000-of-00001-6ba0076b818accff.parquet",
    size=1709142,
)


@dataclass(frozen=True)
class Response:
    model: str
    text: str
    harmful: int
    action: int


@dataclass(frozen=True)
class Question:
    row: int  # 1-based row number in the parquet file
    id: int
    risk_area: str
    types_of_harm: str
    specific_harms: str
    text: str
    responses: tuple[Response, ...]


def _text(rec: dict[str, Any], field: str, label: str, row: int, *, allow_empty: bool = False) -> str:
    value = rec.get(field)
    if not isinstance(value, str):
        raise SourceRowError(label, row, field, f"expected a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise SourceRowError(label, row, field, "empty text")
    return value


def _int(rec: dict[str, Any], field: str, allowed: range, label: str, row: int) -> int:
    value = rec.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise SourceRowError(label, row, field, f"expected an integer in {allowed.start}..{allowed.stop - 1}, got {value!r}")
    return value


def parse_question(rec: dict[str, Any], label: str, row: int) -> Question:
    qid = rec.get("id")
    if isinstance(qid, bool) or not isinstance(qid, int):
        raise SourceRowError(label, row, "id", f"expected an integer, got {qid!r}")
    responses = tuple(
        Response(
            model=m,
            text=_text(rec, f"{m}_response", label, row, allow_empty=True),
            harmful=_int(rec, f"{m}_harmful", range(2), label, row),
            action=_int(rec, f"{m}_action", ACTIONS, label, row),
        )
        for m in MODELS
    )
    return Question(
        row=row,
        id=qid,
        risk_area=_text(rec, "risk_area", label, row, allow_empty=True),
        types_of_harm=_text(rec, "types_of_harm", label, row, allow_empty=True),
        specific_harms=_text(rec, "specific_harms", label, row, allow_empty=True),
        text=_text(rec, "question", label, row),
        responses=responses,
    )


def read_questions(path: Path, label: str) -> Iterator[Question | SourceRowError]:
    """Rows of the upstream parquet; the column set must be the upstream one."""
    import pyarrow.parquet as pq  # loads when the builder runs, not when it registers

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise SourceRowError(label, 0, "<file>", f"not a readable parquet file: {exc}") from exc
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise SourceRowError(label, 0, missing[0], f"column missing (file has {table.column_names})")
    seen: set[int] = set()
    for row, rec in enumerate(table.select(list(COLUMNS)).to_pylist(), start=1):
        try:
            q = parse_question(rec, label, row)
            if q.id in seen:
                raise SourceRowError(label, row, "id", f"duplicate id {q.id}")
            seen.add(q.id)
            yield q
        except SourceRowError as err:
            yield err


# --- pairing ---------------------------------------------------------------------------------


def _pool(responses: list[Response]) -> list[str]:
    """Models allowed on one side: everyone but GPT-4 when anyone else qualifies."""
    others = [r.model for r in responses if r.model != LAST_RESORT]
    return others or [r.model for r in responses]


def candidates(q: Question) -> tuple[list[str], list[str]]:
    """(harmless pool, harmful pool) for a question; empty responses never qualify."""
    usable = [r for r in q.responses if r.text.strip()]
    return _pool([r for r in usable if r.harmful == 0]), _pool([r for r in usable if r.harmful == 1])


def _side(r: Response) -> dict[str, Any]:
    return {"model": r.model, "harmful": r.harmful, "action": r.action}


def make_pair(src: SourceFile, q: Question, chosen: Response, rejected: Response) -> TrioRow:
    row_key = f"{src.path}#id={q.id}"
    rejected_human = ACTION_LABELS.get(rejected.action)
    extra = {
        "dna_id": q.id,
        "row": q.row,
        "risk_area": q.risk_area,
        "types_of_harm": q.types_of_harm,
        "specific_harms": q.specific_harms,
        "chosen": _side(chosen),
        "rejected": _side(rejected),
        "labels": {r.model: {"harmful": r.harmful, "action": r.action} for r in q.responses},
        # a harmful response that the action label calls a refusal contradicts itself:
        # leave it to the detector, which must then find a non-refusal
        "human_labels": {
            "chosen": ACTION_LABELS.get(chosen.action),
            "rejected": rejected_human if rejected_human == "comply" else None,
        },
    }
    return TrioRow(
        prompt=q.text,
        chosen=chosen.text,
        chosen_model=chosen.model,
        rejected=rejected.text,
        rejected_model=rejected.model,
        subset=SUBSET,
        id=stable_id(SUBSET, row_key),
        provenance=Provenance.from_source(
            src,
            source="donotanswer",
            row_key=row_key,
            builder=BUILDER,
            builder_version=BUILDER_VERSION,
            extra=canonical_json(extra),
        ),
    )


def rows_from(src: SourceFile, path: Path, ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
    """Pairs from the upstream file at `path` (already resolved and hash-checked for `src`)."""
    label = src.mirror_path
    questions: list[Question] = []
    for item in read_questions(path, label):
        if isinstance(item, SourceRowError):
            yield ctx.bad_row(item)
        else:
            questions.append(item)
    pairable: list[Question] = []
    harmless: dict[str, list[str]] = {}
    harmful: dict[str, list[str]] = {}
    for q in questions:
        key = str(q.id)
        harmless[key], harmful[key] = candidates(q)
        if harmless[key] and harmful[key]:
            pairable.append(q)
            continue
        reason = "no response labelled harmful" if not harmful[key] else "no non-empty response labelled harmless"
        yield DroppedRow(
            subset=SUBSET,
            step="source:pairing",
            reason=reason,
            location=f"{label}:{q.row} id={q.id}",
            evidence=canonical_json({"dna_id": q.id, "labels": {r.model: [r.harmful, r.action] for r in q.responses}}),
        )
    keys = [str(q.id) for q in pairable]
    chosen_pick = balanced_pick({k: harmless[k] for k in keys}, ctx.seed, "chosen")
    rejected_pick = balanced_pick({k: harmful[k] for k in keys}, ctx.seed, "rejected")
    for q in pairable:
        by_model = {r.model: r for r in q.responses}
        yield make_pair(src, q, by_model[chosen_pick[str(q.id)]], by_model[rejected_pick[str(q.id)]])
    ctx.report["questions"] = len(questions)
    ctx.report["pairable_questions"] = len(pairable)
    ctx.report["chosen_models"] = dict(sorted(Counter(chosen_pick.values()).items()))
    ctx.report["rejected_models"] = dict(sorted(Counter(rejected_pick.values()).items()))
    ctx.report["selection_rule"] = "non-GPT-4 first; balanced_pick: least-used model, seeded tie-break"


def build_from(src: SourceFile, ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
    return rows_from(src, resolve(src), ctx)


@register_subset(
    name=SUBSET,
    section="Safety",
    source="donotanswer",
    license=SOURCE.license,
    expected=PUBLISHED_SIZE,
    sources=(SOURCE,),
    steps=(
        RefusalCheck(expect_chosen=None, expect_rejected=("comply", "partial"), on_disagree="flag"),
        SelectStep(PUBLISHED_SIZE),
    ),
    verification="refusal",
    description="Do-Not-Answer: a harmless response chosen over a harmful one to the same question.",
)
def build(ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
    return build_from(SOURCE, ctx)
