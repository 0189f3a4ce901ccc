"""Prior Sets from Stanford Human Preferences (SHP), test split: Reddit comments people preferred.

The post is the prompt; `labels` == 1 means comment A is preferred. Like preference-test-sets,
the subset keeps clear preferences only (score ratio, vote count) and one pair per post.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext, Drop, Keep, StepResult, drop, row_filter
from rbkit.curation.readers import text_field
from rbkit.curation.registry import register_subset
from rbkit.curation.rows import TrioRow
from rbkit.curation.sources import SourceFile
from rbkit.subsets.prior_sets import SECTION, Row, from_files, make_row, number_field, parquet_rows

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
            score_a = number_field(rec, "score_A", label, row)
            score_b = number_field(rec, "score_B", label, row)
            ratio = number_field(rec, "score_ratio", label, row)
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
    return from_files("shp", (SHP_TEST,), shp_rows, ctx)
