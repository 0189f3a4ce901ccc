"""Prior Sets from Anthropic hh-rlhf test files: anthropic_harmless and anthropic_helpful.

Each JSON line holds two full dialogues ({chosen, rejected}); the pair is their final assistant
turns, and the turns before it (identical in both) are the prompt.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext
from rbkit.curation.readers import jsonl_rows, text_field
from rbkit.curation.registry import register_subset
from rbkit.curation.sources import SourceFile
from rbkit.subsets.prior_sets import (
    SECTION,
    Message,
    Row,
    alternates,
    from_files,
    make_row,
    parse_dialogue,
    unusable,
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
    return from_files("anthropic_harmless", (HH_HARMLESS,), hh_rows, ctx)


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
    return from_files("anthropic_helpful", HH_HELPFUL, hh_rows, ctx)
