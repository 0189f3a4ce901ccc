"""Prior Sets: the preference test sets RewardBench v1 scores next to its core set.

RewardBench takes these from `allenai/preference-test-sets`, where the prompt is the list of
messages before the judged response and chosen/rejected are that response's two versions.
rbkit rebuilds each one from its original upstream file instead:

| subset             | upstream                                              | rows upstream |
|--------------------|-------------------------------------------------------|---------------|
| anthropic_hhh      | BIG-bench hhh_alignment (4 JSON-lines files)          | 221           |
| anthropic_harmless | Anthropic hh-rlhf `harmless-base/test.jsonl.gz`       | 2266          |
| anthropic_helpful  | hh-rlhf `helpful-{base,online,rejection-sampled}` test| 6192          |
| shp                | Stanford Human Preferences, test split                | 1741          |
| summarize          | OpenAI summarize-from-feedback comparisons, validation| 9000          |
| mtbench_human      | lmsys/mt_bench_human_judgments `human`                | 3355          |
| mtbench_gpt4       | lmsys/mt_bench_human_judgments `gpt4_pair`            | 2400          |

Only the Prior Sets score (anthropic_helpful, anthropic_hhh, shp, summarize; DESIGN.md §2)
uses the first four scored ones; the others are built for completeness. Rows that cannot form
a pair (dialogues that differ before the last turn, empty responses, ties, multi-turn MT-Bench
judgments whose earlier answers differ) are dropped at the source with the reason recorded,
never silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import (
    BuildContext,
    Drop,
    Keep,
    SelectStep,
    StepResult,
    drop,
    row_filter,
)
from rbkit.curation.readers import jsonl_rows, text_field
from rbkit.curation.registry import register_subset
from rbkit.curation.rows import DroppedRow, Provenance, TrioRow, canonical_json, stable_id
from rbkit.curation.sources import SourceFile, resolve

BUILDER = "subsets.prior_sets"
BUILDER_VERSION = "1"
SECTION = "Prior Sets"

Message = dict[str, str]
Row = TrioRow | DroppedRow

# --- sources ---------------------------------------------------------------------------------

HHH_REPO = "Joe-Hall-Lee/STaR-Judge"
HHH_REVISION = "a4017ec26ae8b87fa926c9448c7c0206ecb1ac8a"
# The copy has no LICENSE file of its own; its content is BIG-bench's hhh_alignment task,
# released under Apache-2.0, in the HuggingFaceH4/hhh_alignment JSON-lines format.
HHH_LICENSE = "Apache-2.0"
HHH_FILES: dict[str, tuple[str, int]] = {
    "harmless": ("84a8d54390d4a3b75d58f9985a017d5b22581ed26ef710c2c3af440a61c440ce", 39806),
    "helpful": ("46b8e9f328a46862659daeb64c532d4f03cdc2fc377c228cf1211a09bcffd917", 72268),
    "honest": ("f3dd582a5025f67733fbfd541c9c1d8194ad03f5356c9c12e501b9d547c6d037", 80811),
    "other": ("fbcf3f2774ea9f809099cce57fe9403ada9e4e6179d46162a482dbec95f74bbb", 23648),
}
HHH_SOURCES: tuple[SourceFile, ...] = tuple(
    SourceFile(
        name=f"hhh_alignment/{part}",
        kind="github",
        repo=HHH_REPO,
        revision=HHH_REVISION,
        path=f"data/hhh/{part}.json",
        sha256=sha,
        license=HHH_LICENSE,
        citation="askell2021general",
        mirror_path=f"prior_sets/hhh_alignment/{part}.json",
        size=size,
    )
    for part, (sha, size) in HHH_FILES.items()
)

HH_REPO = "anthropics/hh-rlhf"
HH_REVISION = "354e5c3cb8960630860dd5774a6ac2a58313bf4d"


def _hh_source(part: str, sha256: str, size: int, kind: str) -> SourceFile:
    return SourceFile(
        name=f"hh-rlhf/{part}/test",
        kind=kind,  # type: ignore[arg-type]
        repo=HH_REPO,
        revision=HH_REVISION,
        path=f"{part}/test.jsonl.gz",
        sha256=sha256,
        license="MIT",
        citation="bai2022training",
        mirror_path=f"prior_sets/hh-rlhf/{part}/test.jsonl.gz",
        size=size,
    )


# harmless-base/test is a plain git blob at the pinned commit; the helpful test files are Git
# LFS objects (sha256 and size from their LFS pointers at that commit).
HH_HARMLESS = _hh_source(
    "harmless-base", "ebfaaed21162a4de120ae85366075b34425e2a6303fac59b99555002f7016f03", 742801, "github"
)
HH_HELPFUL: tuple[SourceFile, ...] = (
    _hh_source("helpful-base", "8be3fc1a13b27901631696f2be6f184c799f1baeaf145f53ac5db24960adc37b", 875191, "github-lfs"),
    _hh_source("helpful-online", "39a475cc7e0df972902f8e3a0972726fce826ac65369bda8c671de4330c60a10", 1053578, "github-lfs"),
    _hh_source(
        "helpful-rejection-sampled",
        "abc35dbc56015db1dae0faa484514ccbc3eee0133bfcd557fc69250619b028bb",
        1361231,
        "github-lfs",
    ),
)

# SHP test split as the Hub's parquet conversion (converter commit 73d7782 on refs/convert/parquet;
# the sha256 pins the bytes whatever the ref points to later). The dataset card states no licence,
# and the text is Reddit content, so the licence is recorded as unknown: rbkit builds and scores
# it but refuses to publish it until someone confirms the terms.
SHP_TEST = SourceFile(
    name="shp/test",
    kind="hub-dataset",
    repo="stanfordnlp/SHP",
    revision="refs/convert/parquet",
    path="default/test/0000.parquet",
    sha256="f49f8733ebeb952c0b7e4df95dc86e5158bf44e34dbac0ca8c885b09861cd1f8",
    license="unknown",
    citation="ethayarajh2022understanding",
    mirror_path="prior_sets/shp/test.parquet",
)

# summarize-from-feedback comparisons (validation, 86,086 rows) as converted to parquet on the Hub.
# No licence is stated on the Hub card; recorded as unknown for the same reason as SHP.
SUMMARIZE_VALIDATION = SourceFile(
    name="summarize_from_feedback/comparisons-validation",
    kind="hub-dataset",
    repo="openai/summarize_from_feedback",
    revision="1a515df9a84092e9370fa8594ac4252564e2136a",
    path="default/summarize_from_feedback_comparisons-validation.parquet",
    sha256="9991eceb6e044c677a8fbb4426dd778904a2f2a248a1599504c243f661fb6c31",
    license="unknown",
    citation="stiennon2020learning",
    mirror_path="prior_sets/summarize_from_feedback/comparisons-validation.parquet",
    size=22831889,
)

MTBENCH_HUMAN = SourceFile(
    name="mt_bench_human_judgments/human",
    kind="hub-dataset",
    repo="lmsys/mt_bench_human_judgments",
    revision="61a35fc4ccb7094b60562bf3d82341080ea68201",
    path="data/human-00000-of-00001-25f4910818759289.parquet",
    sha256="4877bc46a40929f4082c3c79593700fb897b1d6c7f4c473032694a01322f5769",
    license="CC-BY-4.0",
    citation="zheng2023judging",
    mirror_path="prior_sets/mt_bench_human_judgments/human.parquet",
    size=738612,
)
MTBENCH_GPT4 = SourceFile(
    name="mt_bench_human_judgments/gpt4_pair",
    kind="hub-dataset",
    repo="lmsys/mt_bench_human_judgments",
    revision="1b0755c6df92be037f5416bb8fcb5e9b8a539be5",
    path="lmsys--mt_bench_human_judgments/parquet-gpt4_pair.parquet",
    sha256="57068327ffb5f8fddb15fedbbfe40b26fe862da2326331e5cf64a42320a00e71",
    license="CC-BY-4.0",
    citation="zheng2023judging",
    mirror_path="prior_sets/mt_bench_human_judgments/gpt4_pair.parquet",
    size=649996,
)


# --- shared row construction -----------------------------------------------------------------


def make_row(
    subset: str,
    src: SourceFile,
    row_key: str,
    prompt: Sequence[Message],
    chosen: str,
    rejected: str,
    *,
    source: str,
    chosen_model: str = "unknown",
    rejected_model: str = "unknown",
    extra: Mapping[str, Any] | None = None,
) -> TrioRow:
    return TrioRow(
        prompt=tuple(dict(m) for m in prompt),
        chosen=chosen,
        chosen_model=chosen_model,
        rejected=rejected,
        rejected_model=rejected_model,
        subset=subset,
        id=stable_id(subset, row_key),
        provenance=Provenance.from_source(
            src,
            source=source,
            row_key=row_key,
            builder=BUILDER,
            builder_version=BUILDER_VERSION,
            extra=canonical_json(dict(extra or {})),
        ),
    )


def unusable(subset: str, label: str, row: int, reason: str, evidence: Mapping[str, Any] | None = None) -> DroppedRow:
    """A well-formed upstream row that cannot be a preference pair (kept in dropped.jsonl)."""
    return DroppedRow(
        subset=subset,
        step="source",
        reason=reason,
        location=f"{label}:{row}",
        evidence=canonical_json(dict(evidence or {})),
    )


# --- Anthropic dialogue text ("\n\nHuman: ... \n\nAssistant: ...") ----------------------------

_TURN = re.compile(r"\n\n(Human|Assistant):[ \t]?")
_ROLE = {"Human": "user", "Assistant": "assistant"}


def parse_dialogue(text: str, *, leading_role: str | None = None) -> list[Message]:
    """Split Anthropic-format dialogue text into {role, content} messages.

    hh-rlhf text starts with "\\n\\nHuman: "; hhh_alignment inputs start with the user's words and
    no marker (`leading_role="user"`). Contents are stripped of surrounding whitespace. Raises
    ValueError when the text has content before the first marker and no leading role is given.
    """
    parts = _TURN.split(text)
    head, rest = parts[0], parts[1:]
    messages: list[Message] = []
    if head.strip():
        if leading_role is None:
            raise ValueError(f"text before the first Human/Assistant marker: {head[:60]!r}")
        messages.append({"role": leading_role, "content": head.strip()})
    for marker, content in zip(rest[::2], rest[1::2], strict=True):
        messages.append({"role": _ROLE[marker], "content": content.strip()})
    return messages


def alternates(messages: Sequence[Message]) -> bool:
    """True when turns go user, assistant, user, ... as chat templates require."""
    return all(m["role"] == ("user", "assistant")[i % 2] for i, m in enumerate(messages))


def hh_pair(chosen_text: str, rejected_text: str) -> tuple[list[Message], str, str] | str:
    """(prompt, chosen, rejected) from two full hh-rlhf dialogues, or why they are not a pair."""
    try:
        chosen = parse_dialogue(chosen_text)
        rejected = parse_dialogue(rejected_text)
    except ValueError as exc:
        return f"unparseable dialogue: {exc}"
    if not chosen or not rejected:
        return "empty dialogue"
    if chosen[:-1] != rejected[:-1]:
        return "dialogues differ before the final turn"
    if chosen[-1]["role"] != "assistant" or rejected[-1]["role"] != "assistant":
        return "final turn is not the assistant's"
    if not alternates(chosen) or not alternates(rejected):
        return "turns do not alternate between user and assistant"
    if not chosen[-1]["content"] or not rejected[-1]["content"]:
        return "empty final response"
    if chosen[-1]["content"] == rejected[-1]["content"]:
        return "chosen and rejected responses are identical"
    return chosen[:-1], chosen[-1]["content"], rejected[-1]["content"]


def hh_rows(subset: str, src: SourceFile, path: Path, ctx: BuildContext) -> Iterator[Row]:
    """Rows of one hh-rlhf test file (JSON lines {chosen, rejected} with full dialogues)."""
    label = src.mirror_path
    part = src.path.split("/")[0]
    for line, rec in jsonl_rows(path, label):
        if isinstance(rec, SourceRowError):
            yield ctx.bad_row(rec)
            continue
        try:
            chosen_text = text_field(rec, "chosen", label, line)
            rejected_text = text_field(rec, "rejected", label, line)
        except SourceRowError as err:
            yield ctx.bad_row(err)
            continue
        pair = hh_pair(chosen_text, rejected_text)
        if isinstance(pair, str):
            yield unusable(subset, label, line, pair)
            continue
        prompt, chosen, rejected = pair
        yield make_row(
            subset,
            src,
            f"{part}/test.jsonl.gz#{line - 1}",
            prompt,
            chosen,
            rejected,
            source="hh-rlhf",
            extra={"split": part, "line": line, "turns": len(prompt) + 1},
        )


# --- hhh_alignment ---------------------------------------------------------------------------


def hhh_rows(subset: str, src: SourceFile, path: Path, ctx: BuildContext) -> Iterator[Row]:
    """hhh_alignment JSON lines: {input, targets: {choices: [a, b], labels: [1, 0]}}; label 1 is chosen."""
    label = src.mirror_path
    part = Path(src.path).stem
    for line, rec in jsonl_rows(path, label):
        if isinstance(rec, SourceRowError):
            yield ctx.bad_row(rec)
            continue
        try:
            yield hhh_pair(subset, src, part, label, line, rec)
        except SourceRowError as err:
            yield ctx.bad_row(err)


def hhh_pair(subset: str, src: SourceFile, part: str, label: str, line: int, rec: Mapping[str, Any]) -> TrioRow:
    text = text_field(rec, "input", label, line)
    targets = rec.get("targets")
    if not isinstance(targets, Mapping):
        raise SourceRowError(label, line, "targets", "expected an object with choices and labels")
    choices, labels = targets.get("choices"), targets.get("labels")
    if not isinstance(choices, list) or len(choices) != 2 or not all(isinstance(c, str) and c.strip() for c in choices):
        raise SourceRowError(label, line, "targets.choices", f"expected two non-empty strings, got {choices!r}"[:200])
    if labels not in ([1, 0], [0, 1]):
        raise SourceRowError(label, line, "targets.labels", f"expected [1, 0] or [0, 1], got {labels!r}")
    good = labels.index(1)
    prompt = parse_dialogue(text, leading_role="user")
    if not prompt or prompt[-1]["role"] != "user" or not alternates(prompt):
        raise SourceRowError(label, line, "input", "dialogue must alternate user/assistant and end with the user")
    return make_row(
        subset,
        src,
        f"{part}.json#{line - 1}",
        prompt,
        choices[good],
        choices[1 - good],
        source="hhh_alignment",
        extra={"category": part, "line": line, "labels": labels},
    )


# --- parquet sources (SHP, summarize, MT-Bench judgments) -------------------------------------


def parquet_rows(path: Path, label: str, required: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based row, record) from a parquet file, checking the columns a builder needs first."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise SourceRowError(label, 0, "<file>", f"not a readable parquet file: {exc}") from exc
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise SourceRowError(label, 0, missing[0], f"column missing (file has {table.column_names})")
    row = 0
    for batch in table.to_batches(max_chunksize=4096):
        for rec in batch.to_pylist():
            row += 1
            yield row, rec


def _number(rec: Mapping[str, Any], field: str, label: str, row: int) -> float:
    value = rec.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SourceRowError(label, row, field, f"expected a number, got {value!r}")
    return value


SHP_COLUMNS = ("post_id", "domain", "history", "human_ref_A", "human_ref_B", "labels", "score_A", "score_B", "score_ratio")
SHP_MIN_RATIO = 1.5
SHP_MIN_VOTES = 10


def shp_rows(subset: str, src: SourceFile, path: Path, ctx: BuildContext) -> Iterator[Row]:
    """SHP: the post is the prompt; `labels` == 1 means comment A is preferred."""
    label = src.mirror_path
    for row, rec in parquet_rows(path, label, SHP_COLUMNS):
        try:
            history = text_field(rec, "history", label, row)
            a = text_field(rec, "human_ref_A", label, row)
            b = text_field(rec, "human_ref_B", label, row)
            post = text_field(rec, "post_id", label, row)
            pick = rec.get("labels")
            if pick not in (0, 1) or isinstance(pick, bool):
                raise SourceRowError(label, row, "labels", f"expected 0 or 1, got {pick!r}")
            score_a = _number(rec, "score_A", label, row)
            score_b = _number(rec, "score_B", label, row)
            ratio = _number(rec, "score_ratio", label, row)
        except SourceRowError as err:
            yield ctx.bad_row(err)
            continue
        chosen, rejected = (a, b) if pick == 1 else (b, a)
        yield make_row(
            subset,
            src,
            f"test#{row - 1}",
            [{"role": "user", "content": history}],
            chosen,
            rejected,
            source="shp",
            chosen_model="human",
            rejected_model="human",
            extra={
                "post_id": post,
                "domain": rec.get("domain"),
                "score_chosen": score_a if pick == 1 else score_b,
                "score_rejected": score_b if pick == 1 else score_a,
                "score_ratio": ratio,
            },
        )


@row_filter("shp:score-ratio")
def shp_ratio(row: TrioRow) -> Keep | Drop:
    """preference-test-sets kept pairs whose score ratio is above 1.5 (a clear preference)."""
    ratio = row.provenance.extra_dict()["score_ratio"]
    return Keep() if ratio > SHP_MIN_RATIO else Drop(f"score ratio {ratio:.2f} <= {SHP_MIN_RATIO}", {"score_ratio": ratio})


@row_filter("shp:votes")
def shp_votes(row: TrioRow) -> Keep | Drop:
    """... and with more than 10 Reddit votes on the two comments together."""
    extra = row.provenance.extra_dict()
    votes = extra["score_chosen"] + extra["score_rejected"]
    return Keep() if votes > SHP_MIN_VOTES else Drop(f"{votes} votes <= {SHP_MIN_VOTES}", {"votes": votes})


@dataclass(frozen=True)
class OnePerPost:
    """Keep one pair per Reddit post: the highest score ratio, earliest upstream row on ties."""

    name: str = "shp:one-per-post"

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        best: dict[str, TrioRow] = {}
        for row in rows:
            post = row.provenance.extra_dict()["post_id"]
            current = best.get(post)
            if current is None or row.provenance.extra_dict()["score_ratio"] > current.provenance.extra_dict()["score_ratio"]:
                best[post] = row
        keep = {r.id for r in best.values()}
        kept = [r for r in rows if r.id in keep]
        dropped = [
            drop(r, self.name, "another pair of the same post has a higher score ratio", {"post_id": r.provenance.extra_dict()["post_id"]})
            for r in rows
            if r.id not in keep
        ]
        return StepResult(kept, dropped, {"posts": len(best)})


SUMMARIZE_COLUMNS = ("info", "summaries", "choice")


def summarize_rows(subset: str, src: SourceFile, path: Path, ctx: BuildContext) -> Iterator[Row]:
    """summarize-from-feedback comparisons: the post (or article) is the prompt; `choice` picks a summary."""
    label = src.mirror_path
    for row, rec in parquet_rows(path, label, SUMMARIZE_COLUMNS):
        try:
            info = rec.get("info")
            if not isinstance(info, Mapping):
                raise SourceRowError(label, row, "info", "expected an object")
            text = info.get("post") or info.get("article")
            if not isinstance(text, str) or not text.strip():
                raise SourceRowError(label, row, "info.post", "neither post nor article has text")
            summaries = rec.get("summaries")
            if not isinstance(summaries, list) or len(summaries) != 2:
                raise SourceRowError(label, row, "summaries", "expected exactly two summaries")
            pick = rec.get("choice")
            if pick not in (0, 1) or isinstance(pick, bool):
                raise SourceRowError(label, row, "choice", f"expected 0 or 1, got {pick!r}")
            chosen = text_field(summaries[pick], "text", label, row)
            rejected = text_field(summaries[1 - pick], "text", label, row)
        except SourceRowError as err:
            yield ctx.bad_row(err)
            continue
        if chosen.strip() == rejected.strip():
            yield unusable(subset, label, row, "chosen and rejected summaries are identical")
            continue
        yield make_row(
            subset,
            src,
            f"validation#{row - 1}",
            [{"role": "user", "content": text}],
            chosen,
            rejected,
            source="summarize_from_feedback",
            chosen_model=str(summaries[pick].get("policy") or "unknown"),
            rejected_model=str(summaries[1 - pick].get("policy") or "unknown"),
            extra={"info_id": info.get("id"), "batch": rec.get("batch"), "worker": rec.get("worker")},
        )


MTBENCH_COLUMNS = ("question_id", "model_a", "model_b", "winner", "judge", "conversation_a", "conversation_b", "turn")


def mtbench_rows(subset: str, src: SourceFile, path: Path, ctx: BuildContext) -> Iterator[Row]:
    """MT-Bench pairwise judgments. Each row is one judge's verdict on one turn of two answers.

    Turn-1 judgments become pairs. Ties carry no preference, and turn-2 judgments compare two
    conversations whose first answers differ (so no single prompt precedes both responses):
    both are dropped at the source with that reason.
    """
    label = src.mirror_path
    for row, rec in parquet_rows(path, label, MTBENCH_COLUMNS):
        try:
            winner = rec.get("winner")
            if not isinstance(winner, str):
                raise SourceRowError(label, row, "winner", f"expected a string, got {winner!r}")
            turn = rec.get("turn")
            if turn not in (1, 2):
                raise SourceRowError(label, row, "turn", f"expected 1 or 2, got {turn!r}")
            conv_a = _conversation(rec, "conversation_a", label, row)
            conv_b = _conversation(rec, "conversation_b", label, row)
        except SourceRowError as err:
            yield ctx.bad_row(err)
            continue
        facts = {"question_id": rec.get("question_id"), "judge": rec.get("judge"), "turn": turn, "winner": winner}
        if winner not in ("model_a", "model_b"):
            yield unusable(subset, label, row, f"no preference: winner is {winner!r}", facts)
            continue
        end = 2 * turn
        if len(conv_a) < end or len(conv_b) < end:
            yield ctx.bad_row(SourceRowError(label, row, "conversation_a", f"fewer than {end} messages for turn {turn}"))
            continue
        if conv_a[: end - 1] != conv_b[: end - 1]:
            yield unusable(subset, label, row, f"turn {turn}: the conversations differ before the judged answer", facts)
            continue
        a_wins = winner == "model_a"
        win, lose = (conv_a, conv_b) if a_wins else (conv_b, conv_a)
        chosen, rejected = win[end - 1]["content"], lose[end - 1]["content"]
        if not chosen.strip() or not rejected.strip():
            yield unusable(subset, label, row, "empty answer", facts)
            continue
        yield make_row(
            subset,
            src,
            f"{Path(src.path).stem}#{row - 1}",
            conv_a[: end - 1],
            chosen,
            rejected,
            source="mt_bench_human_judgments",
            chosen_model=str(rec["model_a"] if a_wins else rec["model_b"]),
            rejected_model=str(rec["model_b"] if a_wins else rec["model_a"]),
            extra=facts,
        )


def _conversation(rec: Mapping[str, Any], field: str, label: str, row: int) -> list[Message]:
    conv = rec.get(field)
    if not isinstance(conv, list) or not conv:
        raise SourceRowError(label, row, field, "expected a non-empty list of messages")
    out = []
    for i, msg in enumerate(conv):
        if not isinstance(msg, Mapping) or msg.get("role") not in ("user", "assistant") or not isinstance(msg.get("content"), str):
            raise SourceRowError(label, row, f"{field}[{i}]", f"expected {{role: user|assistant, content: str}}, got {msg!r}"[:200])
        out.append({"role": msg["role"], "content": msg["content"]})
    if not alternates(out):
        raise SourceRowError(label, row, field, "roles do not alternate user/assistant")
    return out


# --- registration ----------------------------------------------------------------------------


def _from_files(subset: str, sources: Sequence[SourceFile], read, ctx: BuildContext) -> Iterator[Row]:
    """Resolve every file first, so a missing one fails before any row is produced."""
    paths = [resolve(src) for src in sources]
    for src, path in zip(sources, paths, strict=True):
        yield from read(subset, src, path, ctx)


@register_subset(
    name="anthropic_hhh",
    section=SECTION,
    source="hhh_alignment",
    license=HHH_LICENSE,
    expected=221,
    sources=HHH_SOURCES,
    verification="label",
    description="BIG-bench HHH alignment (Askell et al.): 221 hand-written pairs, helpful/honest/harmless/other.",
)
def build_anthropic_hhh(ctx: BuildContext) -> Iterator[Row]:
    return _from_files("anthropic_hhh", HHH_SOURCES, hhh_rows, ctx)


@register_subset(
    name="anthropic_harmless",
    section=SECTION,
    source="hh-rlhf",
    license="MIT",
    expected=2266,
    sources=(HH_HARMLESS,),
    description="Anthropic HH-RLHF harmless-base test: final assistant turns of two dialogues, human-preferred chosen.",
)
def build_anthropic_harmless(ctx: BuildContext) -> Iterator[Row]:
    return _from_files("anthropic_harmless", (HH_HARMLESS,), hh_rows, ctx)


@register_subset(
    name="anthropic_helpful",
    section=SECTION,
    source="hh-rlhf",
    license="MIT",
    expected=6192,
    sources=HH_HELPFUL,
    description="Anthropic HH-RLHF helpful-base, helpful-online and helpful-rejection-sampled test sets.",
)
def build_anthropic_helpful(ctx: BuildContext) -> Iterator[Row]:
    return _from_files("anthropic_helpful", HH_HELPFUL, hh_rows, ctx)


@register_subset(
    name="shp",
    section=SECTION,
    source="shp",
    license="unknown",
    expected=1741,
    sources=(SHP_TEST,),
    steps=(shp_ratio, shp_votes, OnePerPost()),
    description="Stanford Human Preferences test: one pair per post, score ratio > 1.5, more than 10 votes.",
)
def build_shp(ctx: BuildContext) -> Iterator[Row]:
    return _from_files("shp", (SHP_TEST,), shp_rows, ctx)


@register_subset(
    name="summarize",
    section=SECTION,
    source="summarize_from_feedback",
    license="unknown",
    expected=9000,
    sources=(SUMMARIZE_VALIDATION,),
    steps=(SelectStep(9000),),
    description="Learning to Summarize from Human Feedback comparisons (validation), seeded sample of 9000.",
)
def build_summarize(ctx: BuildContext) -> Iterator[Row]:
    return _from_files("summarize", (SUMMARIZE_VALIDATION,), summarize_rows, ctx)


@register_subset(
    name="mtbench_human",
    section=SECTION,
    source="mt_bench_human_judgments",
    license="CC-BY-4.0",
    expected=3355,
    sources=(MTBENCH_HUMAN,),
    description="MT-Bench expert human pairwise judgments (turn 1, ties dropped).",
)
def build_mtbench_human(ctx: BuildContext) -> Iterator[Row]:
    return _from_files("mtbench_human", (MTBENCH_HUMAN,), mtbench_rows, ctx)


@register_subset(
    name="mtbench_gpt4",
    section=SECTION,
    source="mt_bench_human_judgments",
    license="CC-BY-4.0",
    expected=2400,
    sources=(MTBENCH_GPT4,),
    description="MT-Bench GPT-4 pairwise judgments (turn 1, ties dropped).",
)
def build_mtbench_gpt4(ctx: BuildContext) -> Iterator[Row]:
    return _from_files("mtbench_gpt4", (MTBENCH_GPT4,), mtbench_rows, ctx)
