"""HumanEvalPack (Muennighoff et al., 2023): hep-{cpp,go,java,js,python,rust}, 164 pairs each.

Every upstream row gives one pair, in RewardBench's published format: the natural-language
`instruction` is the prompt, chosen is `canonical_solution` and rejected is `buggy_solution`
(HumanEvalFix's human-written bug), each byte for byte as upstream: the solution code alone,
without the row's signature and docstring. The published dataset card's token statistics
confirm that format (see CONTRIBUTING, "Checking a subset's format against the card").
Models are `human` / `human (buggy)`.

RewardBench took these pairs on trust. rbkit runs them: the `verify:code` step compiles and
tests both complete programs (the row's `prompt`, i.e. signature and docstring, followed by
the solution, plus the upstream tests) and keeps a pair only when the chosen program passes
and the rejected one does not (see curation/verify/code.py). Each row's provenance names
that assembly (`verified_program`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext, SelectStep
from rbkit.curation.readers import jsonl_rows, text_field
from rbkit.curation.registry import register_subset
from rbkit.curation.rows import DroppedRow, Provenance, TrioRow, canonical_json, stable_id
from rbkit.curation.sources import SourceFile, resolve
from rbkit.curation.verify.code import Candidate, CodeVerifyStep

BUILDER = "subsets.humanevalpack"
BUILDER_VERSION = "2"  # 2: chosen/rejected are the solution code alone (as published)
REPO = "bigcode-project/octopack"
REVISION = "e885822b910099a96fc1611f51e6479e8ae81578"
CITATION = "muennighoff2023octopack"
EXPECTED = 164

# language -> (sha256, bytes) of evaluation/create/humaneval-x/data/<lang>/data/humanevalpack.jsonl
FILES: dict[str, tuple[str, int]] = {
    "cpp": ("891a390c1b9d2cb85dd8fbebcf1d88dbdd565734a6b2b3259f9ddb3fe95e33d7", 519422),
    "go": ("0ee2cdca46d70afb33d913a0d4b205624fe4ded2f28c2efdb241727221837993", 520781),
    "java": ("a8d077d300bbdc2eda91e1a733deb2944678bce8fcc7eb272214626516768cc1", 710974),
    "js": ("04c86c1fac5f33818d9187cba278ed1dfc66cc259372dd8342126aa580fb7569", 479665),
    "python": ("8f029b21309ad85e50a64115e081872818d0dc450a3639daa2e32fb918191fda", 537917),
    "rust": ("01ece28eaf490d7af037ce53095083dacfd38022cf5b82662ccb78024dc269a1", 497152),
}
# Fields every row must have; Go rows also carry their import block and test file header.
REQUIRED = ("task_id", "instruction", "prompt", "canonical_solution", "buggy_solution", "test")
GO_REQUIRED = ("import", "test_setup")
# How `HepMaterial` assembles the program each side's verdict is about (recorded per row).
VERIFIED_PROGRAM: dict[str, str] = {
    lang: "prompt + solution, then test" for lang in ("cpp", "java", "js", "python", "rust")
} | {"go": "import (when prompt lacks it) + prompt + solution; test_setup + test"}


def source_for(language: str, sha256: str, size: int) -> SourceFile:
    return SourceFile(
        name=f"humanevalpack/{language}",
        kind="github",
        repo=REPO,
        revision=REVISION,
        path=f"evaluation/create/humaneval-x/data/{language}/data/humanevalpack.jsonl",
        sha256=sha256,
        license="MIT",
        citation=CITATION,
        mirror_path=f"humanevalpack/{language}/humanevalpack.jsonl",
        size=size,
    )


def read_row(rec: dict, language: str, label: str, row: int) -> dict[str, str]:
    """The fields a pair and its verification need; raises SourceRowError naming the bad one."""
    fields = {name: text_field(rec, name, label, row) for name in REQUIRED}
    if language == "go":  # a task that imports nothing has an empty import block
        fields.update({name: text_field(rec, name, label, row, allow_empty=True) for name in GO_REQUIRED})
    for name in ("bug_type", "failure_symptoms"):
        value = rec.get(name, "")
        if not isinstance(value, str):
            raise SourceRowError(label, row, name, f"expected a string, got {type(value).__name__}")
        fields[name] = value
    return fields


def pair_from_row(subset: str, language: str, src: SourceFile, fields: dict[str, str]) -> TrioRow:
    row_key = fields["task_id"]
    return TrioRow(
        prompt=fields["instruction"],
        chosen=fields["canonical_solution"],
        chosen_model="human",
        rejected=fields["buggy_solution"],
        rejected_model="human (buggy)",
        subset=subset,
        id=stable_id(subset, row_key),
        provenance=Provenance.from_source(
            src,
            source="humanevalpack",
            row_key=row_key,
            builder=BUILDER,
            builder_version=BUILDER_VERSION,
            extra=canonical_json(
                {
                    "task_id": fields["task_id"],
                    "bug_type": fields["bug_type"],
                    "failure_symptoms": fields["failure_symptoms"],
                    "verified_program": VERIFIED_PROGRAM[language],
                }
            ),
        ),
    )


def rows_from(subset: str, language: str, src: SourceFile, ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
    for row, rec in jsonl_rows(resolve(src), src.mirror_path):
        try:
            if isinstance(rec, SourceRowError):
                raise rec
            yield pair_from_row(subset, language, src, read_row(rec, language, src.mirror_path, row))
        except SourceRowError as err:
            yield ctx.bad_row(err)


@cache
def _upstream(path: Path, sha256: str) -> dict[str, dict]:
    """task_id -> upstream row (keyed by the file's hash: a changed file is read again)."""
    rows: dict[str, dict] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                rows[rec["task_id"]] = rec
    return rows


class HepMaterial:
    """Gives the verifier a row's two complete programs and the upstream tests they must (not) pass.

    A row's chosen/rejected hold the solution code alone (as published), which does not
    compile on its own: each program is the upstream row's `prompt` (signature and
    docstring) followed by the solution, exactly as rbkit verified it before the rows took
    the published format, so the verdict cache keys did not change. Go only: the candidate
    file needs the row's import block, which one upstream prompt (Go/65) leaves out, so it is
    prepended when the program does not start with it.
    """

    def __init__(self, language: str, src: SourceFile):
        self.language, self.src = language, src

    def __call__(self, row: TrioRow) -> tuple[Candidate, Candidate]:
        upstream = _upstream(resolve(self.src), self.src.sha256)
        rec = upstream.get(row.provenance.row_key)
        if rec is None:
            raise SourceRowError(self.src.mirror_path, row.provenance.row_key, "task_id", "no upstream row with this task_id")
        return self._candidate(rec["prompt"] + str(row.chosen), rec), self._candidate(rec["prompt"] + str(row.rejected), rec)

    def _candidate(self, code: str, rec: dict) -> Candidate:
        if self.language == "go":
            if not code.startswith(rec["import"]):
                code = f"{rec['import']}\n{code}"
            return Candidate("go", code, rec["test"], rec["test_setup"])
        return Candidate(self.language, code, rec["test"])


def _register(language: str, sha256: str, size: int) -> None:
    subset = f"hep-{language}"
    src = source_for(language, sha256, size)

    @register_subset(
        name=subset,
        section="Reasoning",
        source="humanevalpack",
        license="MIT",
        expected=EXPECTED,
        sources=(src,),
        steps=(CodeVerifyStep(language, HepMaterial(language, src)), SelectStep(EXPECTED)),
        verification="code",
        description=(
            f"HumanEvalPack {language}: canonical solution over the human-written buggy one, "
            "solution code only, as in RewardBench; both executed as complete programs."
        ),
    )
    def build(ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
        return rows_from(subset, language, src, ctx)


for _language, (_sha, _size) in FILES.items():
    _register(_language, _sha, _size)
