"""Prior Sets from BIG-bench hhh_alignment: 221 hand-written pairs (helpful, honest, harmless, other).

Each JSON line is {input, targets: {choices: [a, b], labels: [1, 0]}}; the input is Anthropic
dialogue text without a leading marker, and label 1 marks the chosen answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext
from rbkit.curation.readers import jsonl_rows, text_field
from rbkit.curation.registry import register_subset
from rbkit.curation.rows import TrioRow
from rbkit.curation.sources import SourceFile
from rbkit.subsets.prior_sets import SECTION, Row, alternates, from_files, make_row, parse_dialogue

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
    return from_files("anthropic_hhh", HHH_SOURCES, hhh_rows, ctx)
