"""Prior Sets: the preference test sets RewardBench v1 scores next to its core set.

RewardBench takes these from `allenai/preference-test-sets`, where the prompt is the list of
messages before the judged response and chosen/rejected are that response's two versions.
rbkit rebuilds each one from its original upstream file instead, one module per source:

| subset             | upstream                                              | rows upstream | module            |
|--------------------|-------------------------------------------------------|---------------|-------------------|
| anthropic_hhh      | BIG-bench hhh_alignment (4 JSON-lines files)          | 221           | hhh_alignment     |
| anthropic_harmless | Anthropic hh-rlhf `harmless-base/test.jsonl.gz`       | 2266          | hh_rlhf           |
| anthropic_helpful  | hh-rlhf `helpful-{base,online,rejection-sampled}` test| 6192          | hh_rlhf           |
| shp                | Stanford Human Preferences, test split                | 1741          | shp               |
| summarize          | OpenAI summarize-from-feedback comparisons, validation| 9000          | summarize         |
| mtbench_human      | lmsys/mt_bench_human_judgments `human`                | 3355          | mtbench_judgments |
| mtbench_gpt4       | lmsys/mt_bench_human_judgments `gpt4_pair`            | 2400          | mtbench_judgments |

Only the Prior Sets score (anthropic_helpful, anthropic_hhh, shp, summarize; DESIGN.md §2)
uses the first four scored ones; the others are built for completeness. Rows that cannot form
a pair (dialogues that differ before the last turn, empty responses, ties, multi-turn MT-Bench
judgments whose earlier answers differ) are dropped at the source with the reason recorded,
never silently.

This module holds what the five source modules share: the section's row construction (one
builder name and version for all of them), source-level drops, the Anthropic dialogue format
(hh-rlhf and hhh_alignment) and the parquet reader (SHP, summarize, MT-Bench judgments).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext
from rbkit.curation.rows import DroppedRow, Provenance, TrioRow, canonical_json, stable_id
from rbkit.curation.sources import SourceFile, resolve

# Every Prior Sets row records this builder name and version in its provenance, whichever of
# the five source modules built it: the names are part of the build bytes (row provenance),
# so they stay as they were when the section was one module.
BUILDER = "subsets.prior_sets"
BUILDER_VERSION = "1"
SECTION = "Prior Sets"

Message = dict[str, str]
Row = TrioRow | DroppedRow
RowReader = Callable[[str, SourceFile, Path, BuildContext], Iterator[Row]]

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


def from_files(subset: str, sources: Sequence[SourceFile], read: RowReader, ctx: BuildContext) -> Iterator[Row]:
    """Resolve every file first, so a missing one fails before any row is produced."""
    paths = [resolve(src) for src in sources]
    for src, path in zip(sources, paths, strict=True):
        yield from read(subset, src, path, ctx)


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


def number_field(rec: Mapping[str, Any], field: str, label: str, row: int) -> float:
    """A numeric column's value (not a bool), else a row error naming the field."""
    value = rec.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SourceRowError(label, row, field, f"expected a number, got {value!r}")
    return value
