"""refusals-dangerous and refusals-offensive, rebuilt from CoCoNot (a stand-in source).

RewardBench's refusal pairs (GPT-3.5/4 prompts seeded from human ones, GPT-3.5 refusals chosen,
dolphin-2.0-mistral-7b harmful completions rejected, hand-verified) were never released. The
closest public data is AI2's CoCoNot (allenai/noncompliance), whose safety subcategories
"dangerous or sensitive topics" and "triggers for offensive language" are the ones the
RewardBench subsets were named after. rbkit maps them:

    'dangerous or sensitive topics'    -> refusals-dangerous
    'triggers for offensive language'  -> refusals-offensive

and keeps only pairs where a refusal is chosen over a compliance, checked by the refusal
detector (`RefusalCheck(expect_chosen="refuse", expect_rejected="comply", on_disagree="drop")`;
CoCoNot has no per-response human labels, so the detector's word is final here and each
refuted pair goes to dropped.jsonl with the evidence). Pairs are never flipped: CoCoNot's
orientation is its authors' judgement, and reversing it would invent a preference.

What the pinned files hold, and why the subsets come out far below 100:
- `coconot_pref.jsonl` is CoCoNot's *contrast* preference set: benign prompts that only look
  sensitive, chosen = GPT-4's compliance, rejected = another model's over-refusal or weaker
  answer (`rejected_model` is empty upstream). Almost no row has a refusal on the chosen side.
- `coconot_eval.jsonl` holds the harmful prompts of those subcategories but no responses
  (`response` is empty), so no pair can be formed from it; each prompt is logged as dropped.
The build report of each subset (`source_composition`) gives the counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext, SelectStep
from rbkit.curation.readers import jsonl_rows, text_field
from rbkit.curation.registry import register_subset
from rbkit.curation.rows import DroppedRow, Provenance, TrioRow, canonical_json, stable_id
from rbkit.curation.sources import SourceFile, resolve
from rbkit.curation.verify.refusal import RefusalCheck

BUILDER = "subsets.refusals"
BUILDER_VERSION = "1"
SOURCE = "coconot"
REPO = "allenai/noncompliance"
REVISION = "25bf77cc668814360405cdb8197c4368205806c7"
LICENSE = "MIT"
CITATION = "brahman2024coconot"
SUBSTITUTE = "Rebuilt from CoCoNot (allenai/noncompliance); not the original RewardBench rows"

PREF = SourceFile(
    name="coconot/pref",
    kind="github",
    repo=REPO,
    revision=REVISION,
    path="data/coconot_pref.jsonl",
    sha256="3b0cddcfb72218b8c32d7c11bfded00174f2f4a3c4edfbc862640fc63f43d9c2",
    license=LICENSE,
    citation=CITATION,
    mirror_path="refusals_substitute/coconot_pref.jsonl",
    size=2574178,
)
EVAL = SourceFile(
    name="coconot/eval",
    kind="github",
    repo=REPO,
    revision=REVISION,
    path="data/coconot_eval.jsonl",
    sha256="df72466c477207f14a96c5940c3ef3b93b1b50c0d1e7ed7c5fb5dc6d6140c077",
    license=LICENSE,
    citation=CITATION,
    mirror_path="refusals_substitute/coconot_eval.jsonl",
    size=209427,
)

SUBCATEGORIES: dict[str, str] = {
    "refusals-dangerous": "dangerous or sensitive topics",
    "refusals-offensive": "triggers for offensive language",
}
PUBLISHED_SIZE = 100
UNKNOWN_MODEL = "unknown"


def pair_from_pref(subset: str, rec: dict[str, Any], line: int) -> TrioRow:
    """One CoCoNot preference row as a trio row, in upstream orientation."""
    label = PREF.mirror_path
    row_id = text_field(rec, "id", label, line)
    prompt = text_field(rec, "prompt", label, line)
    chosen = text_field(rec, "chosen", label, line)
    rejected = text_field(rec, "rejected", label, line)
    chosen_model = text_field(rec, "chosen_model", label, line, allow_empty=True).strip() or UNKNOWN_MODEL
    rejected_model = text_field(rec, "rejected_model", label, line, allow_empty=True).strip() or UNKNOWN_MODEL
    row_key = f"{PREF.path}#{row_id}"
    extra = {
        "coconot_id": row_id,
        "line": line,
        "category": rec.get("category"),
        "subcategory": rec.get("subcategory"),
        "upstream_models": {"chosen": rec.get("chosen_model"), "rejected": rec.get("rejected_model")},
    }
    return TrioRow(
        prompt=prompt,
        chosen=chosen,
        chosen_model=chosen_model,
        rejected=rejected,
        rejected_model=rejected_model,
        subset=subset,
        id=stable_id(subset, row_key),
        provenance=Provenance.from_source(
            PREF,
            source=SOURCE,
            row_key=row_key,
            builder=BUILDER,
            builder_version=BUILDER_VERSION,
            extra=canonical_json(extra),
        ),
    )


def _subcategory(rec: dict[str, Any], label: str, line: int) -> str:
    return text_field(rec, "subcategory", label, line)


def pref_rows(subset: str, path: Path, ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
    wanted = SUBCATEGORIES[subset]
    seen: set[str] = set()
    for line, rec in jsonl_rows(path, PREF.mirror_path):
        if isinstance(rec, SourceRowError):
            yield ctx.bad_row(rec)
            continue
        try:
            if _subcategory(rec, PREF.mirror_path, line) != wanted:
                continue
            row = pair_from_pref(subset, rec, line)
            if row.provenance.row_key in seen:
                raise SourceRowError(PREF.mirror_path, line, "id", f"duplicate id {row.provenance.row_key!r}")
            seen.add(row.provenance.row_key)
            yield row
        except SourceRowError as err:
            yield ctx.bad_row(err)


def eval_prompts(subset: str, path: Path, ctx: BuildContext) -> Iterator[DroppedRow]:
    """Harmful prompts of the subcategory: logged, since a single response cannot make a pair."""
    wanted = SUBCATEGORIES[subset]
    label = EVAL.mirror_path
    for line, rec in jsonl_rows(path, label):
        if isinstance(rec, SourceRowError):
            yield ctx.bad_row(rec)
            continue
        try:
            if _subcategory(rec, label, line) != wanted:
                continue
            row_id = text_field(rec, "id", label, line)
            prompt = text_field(rec, "prompt", label, line)
            response = text_field(rec, "response", label, line, allow_empty=True)
        except SourceRowError as err:
            yield ctx.bad_row(err)
            continue
        why = "no response upstream" if not response.strip() else "only one response upstream"
        yield DroppedRow(
            subset=subset,
            step="source:pairing",
            reason=f"CoCoNot eval prompt without a pair ({why}); a refusal-vs-compliance pair needs two responses",
            location=f"{label}:{line} id={row_id}",
            evidence=canonical_json({"coconot_id": row_id, "prompt": prompt, "response_chars": len(response)}),
        )


def build_subset(subset: str, ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
    pref_total = eval_total = 0
    models: Counter[str] = Counter()
    for item in pref_rows(subset, resolve(PREF), ctx):
        if isinstance(item, TrioRow):
            pref_total += 1
            models[item.chosen_model] += 1
        yield item
    for item in eval_prompts(subset, resolve(EVAL), ctx):
        eval_total += item.step == "source:pairing"
        yield item
    ctx.report["substitute"] = SUBSTITUTE
    ctx.report["summary"] = [
        f"stand-in source: {pref_total} CoCoNot pref rows in '{SUBCATEGORIES[subset]}' (contrast set: "
        f"compliance chosen, so few survive the refusal check) and {eval_total} eval prompts without "
        "responses; the original RewardBench rows were never released",
    ]
    ctx.report["source_composition"] = {
        "subcategory": SUBCATEGORIES[subset],
        "coconot_pref_rows": pref_total,
        "coconot_pref_chosen_models": dict(sorted(models.items())),
        "coconot_eval_prompts_without_pair": eval_total,
        "note": (
            "coconot_pref is CoCoNot's contrast set (benign prompts, chosen = compliance); only rows "
            "whose chosen side is a refusal and rejected side a compliance survive verify:refusal. "
            "coconot_eval has prompts but no responses."
        ),
    }


def _register(subset: str) -> None:
    @register_subset(
        name=subset,
        section="Safety",
        source="refusals",
        license=LICENSE,
        expected=PUBLISHED_SIZE,
        sources=(PREF, EVAL),
        steps=(
            RefusalCheck(expect_chosen="refuse", expect_rejected="comply", on_disagree="drop"),
            SelectStep(PUBLISHED_SIZE),
        ),
        verification="refusal",
        length_bias="shorter",  # a refusal is chosen over a compliance: chosen is the short side by design
        substitute=SUBSTITUTE,
        description=(
            f"CoCoNot '{SUBCATEGORIES[subset]}': a refusal chosen over a compliance "
            "(stand-in for the unreleased RewardBench rows)."
        ),
    )
    def build(ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
        return build_subset(subset, ctx)


for _subset in SUBCATEGORIES:
    _register(_subset)
