"""Prior Sets from OpenAI's summarize-from-feedback comparisons (validation): a seeded sample of 9000.

The Reddit post (or CNN/DM article) is the prompt; `choice` picks the preferred of two summaries,
whose policies are recorded as the models.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext, SelectStep
from rbkit.curation.readers import text_field
from rbkit.curation.registry import register_subset
from rbkit.curation.sources import SourceFile
from rbkit.subsets.prior_sets import SECTION, Row, from_files, make_row, parquet_rows, unusable

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
    return from_files("summarize", (SUMMARIZE_VALIDATION,), summarize_rows, ctx)
