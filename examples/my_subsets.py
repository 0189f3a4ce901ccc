"""A subset in one file: everything rbkit needs to build, check and score `my-pairs`.

Build it from this file:

    RBKIT_SOURCES=examples/sources rbkit build my-pairs --plugin examples/my_subsets.py --out out
    rbkit validate out

or install it with a package that names this module in the `rbkit.subsets` entry-point group
(CONTRIBUTING.md, "Add a subset in one file"). The upstream file is pinned by its sha256; here it
is the tiny fixture in examples/sources/my-pairs/pairs.jsonl, laid out like an RBKIT_SOURCES mirror.
"""

from __future__ import annotations

from collections.abc import Iterator

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import KEEP, BuildContext, Decision, Drop, SelectStep, row_filter
from rbkit.curation.readers import jsonl_rows, text_field
from rbkit.curation.registry import register_subset
from rbkit.curation.rows import DroppedRow, Provenance, TrioRow, canonical_json, stable_id
from rbkit.curation.sources import SourceFile, resolve

PAIRS = SourceFile(
    name="my-pairs/pairs",
    kind="github",
    repo="your-org/my-pairs",  # where the file lives upstream, at a fixed commit
    revision="0123456789abcdef0123456789abcdef01234567",
    path="data/pairs.jsonl",
    sha256="f3b10aa8aa51afd2bbb02309703ea6cbd2be6bd886e1b2892de6e237f8e82b5f",
    license="CC0-1.0",
    citation="my-pairs",
    mirror_path="my-pairs/pairs.jsonl",  # its path under RBKIT_SOURCES
    size=653,
)


@row_filter("different")
def different(row: TrioRow) -> Decision:
    """A pair whose two answers are the same text teaches nothing."""
    return KEEP if row.chosen != row.rejected else Drop("chosen and rejected are identical")


@register_subset(
    name="my-pairs",
    section="Chat",
    source="my-pairs",
    license="CC0-1.0",
    expected=4,
    sources=(PAIRS,),
    steps=(different, SelectStep(4)),
    verification="label",
)
def build_my_pairs(ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
    """Hand-labelled pairs: the first answer is the correct one."""
    for row, rec in jsonl_rows(resolve(PAIRS), PAIRS.mirror_path):
        try:
            if isinstance(rec, SourceRowError):  # a line that is not JSON
                raise rec
            prompt, chosen, rejected = (text_field(rec, f, PAIRS.mirror_path, row) for f in ("prompt", "chosen", "rejected"))
        except SourceRowError as err:  # names file:row field; stops the build unless --keep-going
            yield ctx.bad_row(err)
            continue
        row_key = f"{PAIRS.mirror_path}#{row}"
        yield TrioRow(
            prompt=prompt,
            chosen=chosen,
            chosen_model="unknown",
            rejected=rejected,
            rejected_model="unknown",
            subset="my-pairs",
            id=stable_id("my-pairs", row_key),
            provenance=Provenance.from_source(
                PAIRS, source="my-pairs", row_key=row_key, builder="my_subsets", builder_version="1",
                extra=canonical_json({"line": row}),
            ),
        )
