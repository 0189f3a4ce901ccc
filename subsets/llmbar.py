"""LLMBar (Zeng et al., 2023): the five Chat Hard subsets, every upstream row used.

Each upstream row has `input`, `output_1`, `output_2` and a gold `label` (1 or 2) naming the
output that follows the instruction. RewardBench keeps all rows; models are `unknown`.
"""

from __future__ import annotations

from collections.abc import Iterator

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext
from rbkit.curation.readers import choice_field, json_array_rows, text_field
from rbkit.curation.registry import register_subset
from rbkit.curation.rows import (
    DroppedRow,
    Provenance,
    TrioRow,
    Verification,
    canonical_json,
    stable_id,
)
from rbkit.curation.sources import SourceFile, resolve

BUILDER = "subsets.llmbar"
BUILDER_VERSION = "1"
REPO = "princeton-nlp/LLMBar"
REVISION = "900616bff90b6c6c8e1681f7d079250637c55992"
CITATION = "zeng2024llmbar"

# subset -> (upstream folder, sha256, bytes, published size)
SPLITS: dict[str, tuple[str, str, int, int]] = {
    "llmbar-natural": ("Natural", "f7127b7aa78104cb8e03a2b1b3ac0077e95b125714dd441a8ee63666145a3375", 91269, 100),
    "llmbar-adver-neighbor": ("Adversarial/Neighbor", "6712c7eda6342602e0bc7c06c282fa95e2110d4e741a284026a62d937f9780a0", 131988, 134),
    "llmbar-adver-GPTInst": ("Adversarial/GPTInst", "1002425f73c2cf54b6e6de99bce3f6c60fa2a17d13194772e37d7481c1351d42", 211768, 92),
    "llmbar-adver-GPTOut": ("Adversarial/GPTOut", "1ff56e520d7607750a9866a3be0f5b850392ca4477a1f69d80f32bd3e310f561", 32640, 47),
    "llmbar-adver-manual": ("Adversarial/Manual", "0d9598769a39cdbbd265778c37e49939d41d5f76dcfb17bd75dcfa07516d3837", 79050, 46),
}


def source_for(folder: str, sha256: str, size: int) -> SourceFile:
    return SourceFile(
        name=f"llmbar/{folder}",
        kind="github",
        repo=REPO,
        revision=REVISION,
        path=f"Dataset/LLMBar/{folder}/dataset.json",
        sha256=sha256,
        license="MIT",
        citation=CITATION,
        mirror_path=f"llmbar/{folder}/dataset.json",
        size=size,
    )


def pair_from_row(subset: str, src: SourceFile, rec: dict, row: int) -> TrioRow:
    """One LLMBar row as a trio row; raises SourceRowError naming the bad field."""
    label = src.mirror_path
    prompt = text_field(rec, "input", label, row)
    out1 = text_field(rec, "output_1", label, row)
    out2 = text_field(rec, "output_2", label, row)
    gold = choice_field(rec, "label", (1, 2), label, row)
    chosen, rejected = (out1, out2) if gold == 1 else (out2, out1)
    row_key = f"{src.mirror_path}#{row - 1}"
    return TrioRow(
        prompt=prompt,
        chosen=chosen,
        chosen_model="unknown",
        rejected=rejected,
        rejected_model="unknown",
        subset=subset,
        id=stable_id(subset, row_key),
        provenance=Provenance.from_source(
            src,
            source="llmbar",
            row_key=row_key,
            builder=BUILDER,
            builder_version=BUILDER_VERSION,
            verification=(
                Verification("label:gold", "pair", "chosen", canonical_json({"label": gold})),
            ),
            extra=canonical_json({"label": gold, "index": row - 1}),
        ),
    )


def rows_from(subset: str, src: SourceFile, ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
    path = resolve(src)
    for row, rec in json_array_rows(path, src.mirror_path):
        if isinstance(rec, SourceRowError):
            yield ctx.bad_row(rec)
            continue
        try:
            yield pair_from_row(subset, src, rec, row)
        except SourceRowError as err:
            yield ctx.bad_row(err)


def _register(subset: str, folder: str, sha256: str, size: int, expected: int) -> None:
    src = source_for(folder, sha256, size)

    @register_subset(
        name=subset,
        section="Chat Hard",
        source="llmbar",
        license="MIT",
        expected=expected,
        sources=(src,),
        verification="label",
        description=f"LLMBar {folder.replace('/', ' ')}: instruction-following pairs with a gold label.",
    )
    def build(ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
        return rows_from(subset, src, ctx)


for _name, (_folder, _sha, _size, _n) in SPLITS.items():
    _register(_name, _folder, _sha, _size, _n)
