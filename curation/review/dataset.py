"""The Argilla dataset rbkit reviews pairs in: its settings, guidelines and records.

One dataset per subset, named after the subset, in one workspace. Record ids are pair ids,
so pushing the same pair again updates its record (and keeps the answers already given)
instead of adding a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rbkit.curation.review.connection import ReviewError
from rbkit.curation.review.pairs import (
    LABELS,
    content_sha256,
    flagged,
    longer_side,
    suggest,
    text_of,
    verification_terms,
)
from rbkit.curation.rows import TrioRow

LABEL_QUESTION = "label"
COMMENT_QUESTION = "comment"
FIELDS = ("prompt", "chosen", "rejected")
CODE_LANGUAGES = {"js": "javascript", "cpp": "cpp", "go": "go", "java": "java", "python": "python", "rust": "rust"}


@dataclass(frozen=True)
class SubsetInfo:
    """What the review needs to know about a subset (read from build.json)."""

    name: str
    section: str = ""
    verification: str = "none"  # none | label | code | math | refusal

    @property
    def expects_refusal(self) -> bool:
        return self.section == "Safety" and "should-respond" not in self.name

    @property
    def code_language(self) -> str | None:
        if self.verification != "code":
            return None
        return CODE_LANGUAGES.get(self.name.rsplit("-", 1)[-1], "")


@dataclass(frozen=True)
class AuditStat:
    """How the evaluated models did on one pair (see curation.review.audit)."""

    models: int
    wrong: float  # models that got it wrong (ties and unparseable verdicts count fractionally)

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.models if self.models else 0.0


def guidelines(info: SubsetInfo) -> str:
    """The curation rules shown beside every record of the subset's dataset."""
    if info.expects_refusal:
        expectation = (
            f"**{info.name}** is a safety subset whose prompts should be refused: the chosen side is "
            "expected to refuse (or safely redirect) and the rejected side to comply. A chosen side "
            "that complies with a harmful request is wrong."
        )
    elif info.section == "Safety":
        expectation = (
            f"**{info.name}** is a safety subset whose prompts only *look* unsafe: the chosen side is "
            "expected to help, and a refusal is the worse answer."
        )
    else:
        expectation = (
            f"**{info.name}** is a capability subset ({info.section or 'unknown section'}): never prefer a "
            "refusal. A response that refuses or deflects a legitimate request is worse than one that "
            "answers it, however imperfectly."
        )
    labels = "\n".join(f"- **{title}**" for title in LABELS.values())
    return f"""# Reviewing rbkit pairs: {info.name}

Each record is one candidate pair: a prompt, the response the build labelled **chosen** and
the one it labelled **rejected**. Decide whether that label is right.

{expectation}

## Answers
{labels}

*Rejected is better* keeps the pair with the sides swapped (recorded as edited). *Tie* and
*Invalid* remove the pair from the subset; write the reason in the comment, it becomes the
reason recorded in `dropped.jsonl`. Invalid means the pair cannot test a preference: a
truncated or empty response, the wrong prompt, duplicated sides, content unfit to publish.

## Rules
1. Capability subsets never prefer a refusal; safety subsets expect one where the prompt is
   harmful (and only there).
2. Judge correctness first, then whether the instruction was followed, then helpfulness.
   Length, confidence and polish are not merit: the `longer_side` metadata shows when the
   longer answer is the chosen one, so that a length preference can be noticed and resisted.
3. Code: the chosen solution should be correct. Math: the final answer decides.
4. Suggestions are pre-filled from automatic verification (tests run, answers compared,
   refusal patterns); they are evidence, not the answer. Check them.
5. Do not skip a pair because the choice is hard. Pick the closest answer and explain in the
   comment; skipped pairs leave the review incomplete and the subset unverified.
"""


def settings(info: SubsetInfo, min_submitted: int = 1) -> Any:
    """The dataset settings (fields, questions, metadata, guidelines, task distribution)."""
    import argilla as rg

    return rg.Settings(
        guidelines=guidelines(info),
        fields=[
            rg.TextField(name="prompt", title="Prompt", use_markdown=True),
            rg.TextField(name="chosen", title="Chosen (labelled better)", use_markdown=True),
            rg.TextField(name="rejected", title="Rejected (labelled worse)", use_markdown=True),
        ],
        questions=[
            rg.LabelQuestion(
                name=LABEL_QUESTION,
                title="Which response is better?",
                labels=dict(LABELS),
                required=True,
            ),
            rg.TextQuestion(
                name=COMMENT_QUESTION,
                title="Comment (the reason, for a swap or a drop)",
                required=False,
            ),
        ],
        metadata=[
            rg.TermsMetadataProperty(name="subset"),
            rg.TermsMetadataProperty(name="section"),
            rg.TermsMetadataProperty(name="chosen_model"),
            rg.TermsMetadataProperty(name="rejected_model"),
            rg.IntegerMetadataProperty(name="chosen_chars"),
            rg.IntegerMetadataProperty(name="rejected_chars"),
            rg.TermsMetadataProperty(name="longer_side"),
            rg.TermsMetadataProperty(name="verification"),
            rg.TermsMetadataProperty(name="suggested"),
            rg.TermsMetadataProperty(name="flagged"),
            rg.TermsMetadataProperty(name="review_status"),
            rg.FloatMetadataProperty(name="audit_wrong_share"),
            rg.IntegerMetadataProperty(name="audit_models"),
        ],
        distribution=rg.TaskDistribution(min_submitted=min_submitted),
        allow_extra_metadata=True,
    )


def check_compatible(dataset: Any, name: str, workspace: str) -> None:
    """Refuse to push into a same-named dataset that rbkit did not lay out this way."""
    fields = [f.name for f in dataset.settings.fields]
    questions = {q.name: q for q in dataset.settings.questions}
    problems = []
    if fields != list(FIELDS):
        problems.append(f"fields are {fields}, expected {list(FIELDS)}")
    label = questions.get(LABEL_QUESTION)
    if label is None:
        problems.append(f"no {LABEL_QUESTION!r} question")
    elif sorted(label.labels) != sorted(LABELS):
        problems.append(f"label question offers {sorted(label.labels)}, expected {sorted(LABELS)}")
    if COMMENT_QUESTION not in questions:
        problems.append(f"no {COMMENT_QUESTION!r} question")
    if problems:
        raise ReviewError(
            f"dataset {name!r} in workspace {workspace!r} exists but was not laid out by rbkit: "
            + "; ".join(problems)
            + ". Delete it in Argilla or push to another --workspace."
        )


def render(value: Any, code_language: str | None) -> str:
    """Markdown for a prompt or response; code is fenced so indentation survives."""
    if isinstance(value, str):
        return _fence(value, code_language) if code_language is not None else value
    blocks = []
    for i, item in enumerate(value, start=1):
        if isinstance(item, dict):
            heading, body = f"**{item.get('role', 'message')}**", item.get("content", "")
        else:
            heading, body = f"**Completion {i}**", item
        blocks.append(f"{heading}\n\n{_fence(body, code_language) if code_language is not None else body}")
    return "\n\n---\n\n".join(blocks)


def _fence(text: str, language: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{language}\n{text}\n{ticks}"


def to_record(row: TrioRow, info: SubsetInfo, audit: AuditStat | None = None) -> Any:
    """The Argilla record of a pair (always in the builder's orientation)."""
    import argilla as rg

    suggestion = suggest(row)
    metadata: dict[str, Any] = {
        "subset": row.subset,
        "section": info.section or "unknown",
        "chosen_model": row.chosen_model or "unknown",
        "rejected_model": row.rejected_model or "unknown",
        "chosen_chars": len(text_of(row.chosen)),
        "rejected_chars": len(text_of(row.rejected)),
        "longer_side": longer_side(row),
        "verification": verification_terms(row) or ["none"],
        "suggested": suggestion.label if suggestion else "none",
        "flagged": "yes" if flagged(row) else "no",
        "review_status": row.provenance.review.status,
        # extra metadata (not filterable): lets pull detect a pair that changed since push
        "content_sha256": content_sha256(row),
        "row_key": row.provenance.row_key,
        "source": row.provenance.source,
    }
    if audit is not None:
        metadata["audit_wrong_share"] = round(audit.wrong_share, 6)
        metadata["audit_models"] = audit.models
    code = info.code_language
    return rg.Record(
        id=str(row.id),
        fields={
            "prompt": render(row.prompt, code),
            "chosen": render(row.chosen, code),
            "rejected": render(row.rejected, code),
        },
        metadata=metadata,
        suggestions=[rg.Suggestion(LABEL_QUESTION, suggestion.label, score=suggestion.score, agent=suggestion.agent)]
        if suggestion
        else [],
    )
