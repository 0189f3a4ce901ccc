"""AlpacaEval (Li et al., 2023): alpacaeval-easy, -length and -hard (section Chat).

Each subset pairs two models' outputs on the same AlpacaEval instruction (805 prompts), the
stronger model's output chosen: easy gpt4_turbo over alpaca-7b, length llama-2-70b-chat-hf over
guanaco-13b (similar mean lengths), hard tulu-2-dpo-70b over text_davinci_003. RewardBench
picked 100/95/95 of the 805 pairs by hand and never published how; rbkit replaces that step
with logged automatic filters (empty, broken encoding, non-English, truncated, chat-template
leaks, identical, a chosen refusal, near-duplicate prompts, and for -length a length-ratio
window) and a seeded, stable selection of the published size from the survivors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rbkit.curation.dedup import DedupStep
from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext, SelectStep, Step
from rbkit.curation.readers import json_array_rows, text_field
from rbkit.curation.registry import LengthBias, register_subset
from rbkit.curation.rows import DroppedRow, Provenance, TrioRow, canonical_json, stable_id
from rbkit.curation.sources import SourceFile, resolve
from rbkit.curation.text_filters import CHAT_ARTEFACT_FILTERS, length_window, no_refusal

if TYPE_CHECKING:
    import polars as pl  # loads when a builder runs, not when it registers

BUILDER = "subsets.alpacaeval"
BUILDER_VERSION = "1"
REPO = "tatsu-lab/alpaca_eval"
REVISION = "88eabca314b32d0e9de69b4fbb27625d07a1249f"  # main as of 2023-12-27, when RewardBench was built
LICENSE = "CC-BY-NC-4.0"  # the model outputs (the repository's code is Apache-2.0)
CITATION = "li2023alpacaeval"

# model -> (sha256, bytes) of results/<model>/model_outputs.json at REVISION
OUTPUTS: dict[str, tuple[str, int]] = {
    "gpt4_turbo": ("f26a3fc88b0266d65e5b1d28fc4c6f108c981156c602da2e40d3515fa89bbef6", 1894130),
    "alpaca-7b": ("21048628f20187affc7d9c9e756d9618e08c4991fc8a48184612eb484565c5db", 539271),
    "llama-2-70b-chat-hf": ("2bb64eec29900a97f29e50d99564bc01cf3beca494645169e87e0acf5e19eaea", 1685559),
    "guanaco-13b": ("e33bf6e3283c0dae5afad1a6406f012b9d327ddf9f741ed1e1c5515f9765eeff", 1684480),
    "tulu-2-dpo-70b": ("427b17006c828646cfc42ad71252b226b97f780da69c00a3d4186751f6d86add", 1400010),
    "text_davinci_003": ("af0bc112f08c88bf589bbfe6fc1036806d0a0f6fec9c4d5a4db860f5afe73b4b", 474865),
}

# alpacaeval-length keeps pairs whose lengths are within 25% of each other (ratio in [0.8, 1.25],
# symmetric in log scale): on the 805 raw pairs "pick the longer" is right 67% of the time, in
# this window about 55%, and ~140 candidates survive the window, enough for the 95 published.
LENGTH_WINDOW = (0.8, 1.25)
DEDUP_THRESHOLD = 0.8


def output_source(model: str) -> SourceFile:
    sha256, size = OUTPUTS[model]
    return SourceFile(
        name=f"alpacaeval/{model}",
        kind="github",
        repo=REPO,
        revision=REVISION,
        path=f"results/{model}/model_outputs.json",
        sha256=sha256,
        license=LICENSE,
        citation=CITATION,
        mirror_path=f"alpacaeval/results/{model}/model_outputs.json",
        size=size,
    )


@dataclass(frozen=True)
class Pairing:
    """One subset: which model's output is chosen and which rejected."""

    subset: str
    chosen: str
    rejected: str
    expected: int
    section: str = "Chat"
    length_bias: LengthBias = "none"


PAIRINGS: tuple[Pairing, ...] = (
    Pairing("alpacaeval-easy", "gpt4_turbo", "alpaca-7b", 100, length_bias="longer"),
    Pairing("alpacaeval-length", "llama-2-70b-chat-hf", "guanaco-13b", 95),
    Pairing("alpacaeval-hard", "tulu-2-dpo-70b", "text_davinci_003", 95, length_bias="longer"),
)


# --- reading ---------------------------------------------------------------------------------


def read_outputs(src: SourceFile, model: str, path: Path, ctx: BuildContext) -> tuple[pl.DataFrame, list[DroppedRow]]:
    """One model_outputs.json as a frame (index, instruction, output, dataset).

    A row without a string instruction/output, with a `generator` other than `model`, or
    repeating an earlier instruction (the join key) is a malformed source row.
    """
    import polars as pl

    records: list[dict[str, object]] = []
    bad: list[DroppedRow] = []
    seen: dict[str, int] = {}
    label = src.mirror_path
    for row, rec in json_array_rows(path, label):
        try:
            if isinstance(rec, SourceRowError):
                raise rec
            instruction = text_field(rec, "instruction", label, row)
            output = text_field(rec, "output", label, row, allow_empty=True)  # empty: a logged filter drop
            generator = rec.get("generator", model)
            if generator != model:
                raise SourceRowError(label, row, "generator", f"expected {model!r}, got {generator!r}")
            if instruction in seen:
                raise SourceRowError(label, row, "instruction", f"repeats the instruction of row {seen[instruction]}")
        except SourceRowError as err:
            bad.append(ctx.bad_row(err))
            continue
        seen[instruction] = row
        dataset = rec.get("dataset")
        records.append(
            {"index": row - 1, "instruction": instruction, "output": output, "dataset": dataset if isinstance(dataset, str) else None}
        )
    schema = {"index": pl.Int64, "instruction": pl.String, "output": pl.String, "dataset": pl.String}
    return pl.DataFrame(records, schema=schema, orient="row"), bad


def join_outputs(chosen: pl.DataFrame, rejected: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(pairs, chosen-only, rejected-only): an inner join on the instruction, in chosen-file order."""
    pairs = chosen.join(rejected, on="instruction", how="inner", suffix="_rejected", validate="1:1", maintain_order="left")
    only_chosen = chosen.join(rejected, on="instruction", how="anti", maintain_order="left")
    only_rejected = rejected.join(chosen, on="instruction", how="anti", maintain_order="left")
    return pairs, only_chosen, only_rejected


def build_pairs(
    pairing: Pairing,
    ctx: BuildContext,
    sources: tuple[SourceFile, SourceFile] | None = None,
) -> Iterator[TrioRow | DroppedRow]:
    """Every instruction both models answered, as a candidate pair (805 with the pinned files).

    `sources` (chosen file, rejected file) defaults to the pinned upstream files; tests pass
    fixture files in the same format.
    """
    src_c, src_r = sources or (output_source(pairing.chosen), output_source(pairing.rejected))
    frame_c, bad_c = read_outputs(src_c, pairing.chosen, resolve(src_c), ctx)
    frame_r, bad_r = read_outputs(src_r, pairing.rejected, resolve(src_r), ctx)
    yield from bad_c
    yield from bad_r
    pairs, only_c, only_r = join_outputs(frame_c, frame_r)
    for model, src, frame in ((pairing.rejected, src_c, only_c), (pairing.chosen, src_r, only_r)):
        for rec in frame.iter_rows(named=True):
            yield DroppedRow(
                subset=pairing.subset,
                step="join",
                reason=f"no output from {model} for this instruction",
                location=f"{src.mirror_path}:{rec['index'] + 1} instruction",
                evidence=canonical_json({"instruction": rec["instruction"][:200]}),
            )
    for rec in pairs.iter_rows(named=True):
        row_key = f"alpaca_eval#{rec['index']}"
        yield TrioRow(
            prompt=rec["instruction"],
            chosen=rec["output"],
            chosen_model=pairing.chosen,
            rejected=rec["output_rejected"],
            rejected_model=pairing.rejected,
            subset=pairing.subset,
            id=stable_id(pairing.subset, row_key),
            provenance=Provenance.from_source(
                src_c,
                source="alpacaeval",
                row_key=row_key,
                builder=BUILDER,
                builder_version=BUILDER_VERSION,
                extra=canonical_json(
                    {
                        "dataset": rec["dataset"],
                        "chosen_index": rec["index"],
                        "rejected_file": src_r.path,
                        "rejected_sha256": src_r.sha256,
                        "rejected_index": rec["index_rejected"],
                    }
                ),
            ),
        )


# --- registration ----------------------------------------------------------------------------


def steps_for(pairing: Pairing) -> tuple[Step, ...]:
    """Artefact filters, no chosen refusal, (length window), prompt dedup, seeded selection."""
    steps: list[Step] = [*CHAT_ARTEFACT_FILTERS, no_refusal(("chosen",))]
    if pairing.subset == "alpacaeval-length":
        steps.append(length_window(*LENGTH_WINDOW))
    steps += [DedupStep(DEDUP_THRESHOLD), SelectStep(pairing.expected)]
    return tuple(steps)


def _register(pairing: Pairing) -> None:
    @register_subset(
        name=pairing.subset,
        section=pairing.section,
        source="alpacaeval",
        license=LICENSE,
        expected=pairing.expected,
        sources=(output_source(pairing.chosen), output_source(pairing.rejected)),
        steps=steps_for(pairing),
        length_bias=pairing.length_bias,
        description=f"AlpacaEval instructions: {pairing.chosen} (chosen) vs {pairing.rejected} (rejected).",
    )
    def build(ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
        return build_pairs(pairing, ctx)


for _pairing in PAIRINGS:
    _register(_pairing)
