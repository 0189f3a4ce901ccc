"""A subset spec made buildable: a `SubsetSpec` (curation.registry) whose builder reads the
declared sources through the field mapping, so `curation.build.run_build` builds it exactly as
it builds rbkit's own subsets (same pipeline, folder, card and dropped.jsonl).

Every problem that a spec causes is a SpecError naming the spec's line: an unknown step, bad
step parameters, a source whose bytes are not the pinned ones (checked before anything is
written, `check_sources`), and a mapped field missing from a source row (that error names the
source file, row and field, and the mapping's line).

A trio mapping (prompt/chosen/rejected) yields rows directly. A candidate mapping yields
`CandidateGroup`s, runs the candidate-stage steps, then the registered pairing step
("pairing:<mode>") that turns groups into rows; each group's `meta` carries what a row needs:
`provenance` (Provenance keyword arguments), `extra` (the mapped extra fields), `location`
("file:row") and `subset`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

from rbkit.core.errors import RbkitError
from rbkit.curation.candidates import Candidate, CandidateGroup
from rbkit.curation.errors import SourceHashError, SourceMissingError, SourceRowError
from rbkit.curation.pipeline import BuildContext, SelectStep, StepResult
from rbkit.curation.readers import csv_rows, json_array_rows, jsonl_rows, parquet_rows
from rbkit.curation.registry import SubsetSpec
from rbkit.curation.rows import DroppedRow, Provenance, TrioRow, canonical_json, stable_id
from rbkit.curation.sources import SourceFile, fetch, resolve
from rbkit.curation.spec_file import KeyPath, SpecDocument, load_spec, spec_files
from rbkit.curation.steps_registry import GroupStepResult, get_step, make_step

BUILDER = "spec"
TRIO_FIELDS = ("chosen", "rejected")
CANDIDATE_FIELDS = ("candidates", "completion", "group_by")
VERIFIER_KINDS = {  # the build.json `verification` a spec gets from its first verifier step
    "verify:code": "code", "verify:math": "math", "verify:refusal": "refusal", "verify:label": "label",
    "verify:code-candidates": "code", "verify:math-candidates": "math", "verify:refusal-candidates": "refusal",
}
READERS: dict[str, Callable[[Path, str], Iterator[tuple[int, Any]]]] = {
    "jsonl": jsonl_rows,
    "json": json_array_rows,
    "csv": csv_rows,
    "parquet": parquet_rows,
}
EXTENSIONS = {".jsonl": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


@dataclass(frozen=True)
class DeclaredSource:
    key: str  # the name under `sources` in the spec
    file: SourceFile
    format: str
    label: str  # how errors name the file


@dataclass(frozen=True)
class DeclaredSubset:
    """One spec: the parsed document, its sources and the registry entry that builds it."""

    doc: SpecDocument
    sources: tuple[DeclaredSource, ...]
    subset: SubsetSpec

    def record(self) -> dict[str, Any]:
        """What build.json says of the spec: its file name, sha256 and whole text."""
        return {"file": self.doc.path.name, "sha256": self.doc.sha256, "content": self.doc.text}


def load_declared(paths: list[Path]) -> list[DeclaredSubset]:
    """Every spec in `paths` (files, or folders of *.toml/*.yaml), parsed and checked."""
    declared: list[DeclaredSubset] = []
    seen: dict[str, SpecDocument] = {}
    for given in paths:
        for path in spec_files(given):
            doc = load_spec(path)
            name = doc.data["name"]
            if name in seen:
                raise doc.error(("name",), f"subset {name!r} is also declared by {seen[name].label}")
            seen[name] = doc
            declared.append(declare(doc))
    return declared


# --- from document to subset ---------------------------------------------------------------------


def declare(doc: SpecDocument) -> DeclaredSubset:
    """Check what the schema cannot (mapping kind, pairing, steps) and build the registry entry."""
    data = doc.data
    mapping = data["mapping"]
    candidate_mode = _mapping_kind(doc, mapping)
    sources = declared_sources(doc)
    pairing = data.get("pairing")
    scores_key = (pairing or {}).get("scores")
    if scores_key is not None and scores_key not in data["sources"]:
        raise doc.error(("pairing", "scores"), f"names no source; declared sources: {', '.join(data['sources'])}")
    row_sources = tuple(s for s in sources if s.key != scores_key)
    candidate_steps, row_steps, kinds = [], [], []
    for i, step in enumerate(data.get("steps") or []):
        entry, built = _make(doc, ("steps", i), step["name"], step.get("params") or {})
        kinds.append(VERIFIER_KINDS.get(entry.name))
        if entry.stage == "pairing":
            raise doc.error(("steps", i, "name"), "a pairing step is chosen by `pairing.mode`, not listed in steps")
        if entry.stage == "candidates" and not candidate_mode:
            raise doc.error(("steps", i, "name"), f"step {entry.name!r} checks candidates; the mapping gives trio rows")
        (candidate_steps if entry.stage == "candidates" else row_steps).extend(built)
    pair_step = _pairing(doc, pairing, candidate_mode, {s.key: s.file for s in sources})
    selection = data.get("selection")
    if selection is not None:
        row_steps.append(SpecSelect(selection["size"], selection.get("seed", 0)))
    expected = data.get("expected")
    if expected is not None:
        _, built = _make(doc, ("expected",), "gate:expected_size", {"size": expected["size"], "on_short": expected.get("on_short", "fail")})
        row_steps.extend(built)
    verification = data.get("verification") or next((k for k in kinds if k), "none")
    subset = SubsetSpec(
        name=data["name"],
        section=data["section"],
        source=data["name"],
        license=data["license"],
        expected=(expected or {}).get("size"),
        sources=tuple(s.file for s in sources),
        build=SpecRows(doc, row_sources, candidate_mode, tuple(candidate_steps), pair_step),
        steps=tuple(row_steps),
        verification=verification,
        length_bias=data.get("length_bias", "none"),
        description=data["description"].strip(),
        substitute=data.get("substitute"),
        tags=("spec",),
    )
    return DeclaredSubset(doc, sources, subset)


def _mapping_kind(doc: SpecDocument, mapping: dict[str, Any]) -> bool:
    """True for a candidate mapping, False for a trio mapping; mixed or partial ones raise."""
    trio = [f for f in TRIO_FIELDS if f in mapping]
    cand = [f for f in CANDIDATE_FIELDS if f in mapping]
    if trio and cand:
        raise doc.error(("mapping", cand[0]), f"a mapping gives either chosen/rejected or candidates, not both ({', '.join(trio)} also set)")
    if trio:
        if len(trio) == 1:
            missing = next(f for f in TRIO_FIELDS if f not in mapping)
            raise doc.error(("mapping", missing), "required key missing (a trio mapping names prompt, chosen and rejected)")
        for key in ("model", "reference"):
            if key in mapping:
                raise doc.error(("mapping", key), "only for a candidate mapping; a trio mapping uses chosen_model/rejected_model")
        return False
    if not cand:
        raise doc.error(("mapping",), "name chosen + rejected (trio rows) or candidates / completion + group_by (candidates)")
    if "group_by" in mapping and "id" in mapping:
        raise doc.error(("mapping", "id"), "in long format group_by is the prompt's id; leave id out")
    if "candidates" in mapping and ("completion" in mapping or "group_by" in mapping):
        raise doc.error(("mapping", "candidates"), "a list column (candidates) or long format (completion + group_by), not both")
    for need, other in (("completion", "group_by"), ("group_by", "completion")):
        if need in mapping and other not in mapping:
            raise doc.error(("mapping", other), "required key missing (long format names completion and group_by)")
    for key in ("chosen_model", "rejected_model"):
        if key in mapping:
            raise doc.error(("mapping", key), "only for a trio mapping; a candidate mapping uses model")
    return True


def declared_sources(doc: SpecDocument) -> tuple[DeclaredSource, ...]:
    """The spec's sources as pinned `SourceFile`s, in declaration order."""
    return tuple(_source(doc, key, rec) for key, rec in doc.data["sources"].items())


def _source(doc: SpecDocument, key: str, rec: dict[str, Any]) -> DeclaredSource:
    name = f"{doc.data['name']}/{key}"
    common = {
        "name": name,
        "sha256": rec["sha256"],
        "license": rec.get("license") or doc.data["license"],
        "citation": doc.data["citation"],
    }
    if "path" in rec:
        rel = PurePosixPath(rec["path"])
        if rel.is_absolute() or ".." in rel.parts:
            raise doc.error(("sources", key, "path"), "give a path inside the spec's folder, relative to it")
        file = SourceFile(kind="local", repo="local", revision=f"sha256:{rec['sha256']}", path=str(rel), mirror_path=str(rel),
                          local_root=str(doc.folder), **common)
        label = str(doc.path.parent / rel)
        filename = rel.name
    elif "hub" in rec:
        filename = PurePosixPath(rec["file"]).name
        kind = "hub-space" if rec.get("repo_type") == "space" else "hub-dataset"
        file = SourceFile(kind=kind, repo=rec["hub"], revision=rec["revision"], path=rec["file"],
                          mirror_path=rec.get("mirror_path") or f"{doc.data['name']}/{filename}", **common)
        label = f"{rec['hub']}@{rec['revision'][:12]}/{rec['file']}"
    else:
        url = urlparse(rec["url"])
        filename = PurePosixPath(url.path).name or "download"
        file = SourceFile(kind="url", repo=url.netloc, revision=f"sha256:{rec['sha256']}", path=rec["url"],
                          mirror_path=rec.get("mirror_path") or f"{doc.data['name']}/{filename}", **common)
        label = rec["url"]
    fmt = rec.get("format") or doc.data.get("format") or _by_extension(filename)
    if fmt is None:
        raise doc.error(("sources", key), f"cannot tell the format of {filename!r}: set format (jsonl, json, csv, parquet)")
    return DeclaredSource(key, file, fmt, label)


def _by_extension(filename: str) -> str | None:
    name = filename[:-3] if filename.endswith(".gz") else filename
    return EXTENSIONS.get(PurePosixPath(name).suffix)


def _make(doc: SpecDocument, at: KeyPath, name: str, params: dict[str, Any]) -> tuple[Any, list[Any]]:
    """A registered step from the spec: the entry and its step(s); errors name the spec line."""
    from rbkit.curation.steps_registry import StepParamsError, UnknownStepError

    try:
        known = get_step(name)
        params = {k: (_relative_to(doc.folder, v) if k in known.path_params else v) for k, v in params.items()}
        entry, built = make_step(name, params)
    except UnknownStepError as exc:
        raise doc.error((*at, "name"), str(exc)) from None
    except StepParamsError as exc:
        raise doc.error((*at, "params"), str(exc)) from None
    return entry, list(built) if isinstance(built, (list, tuple)) else [built]


def _relative_to(folder: Path, value: Any) -> Any:
    """Paths in a step parameter, relative ones taken from the spec's folder: a string, a
    `{path: ...}` table, a `[path, field]` pair, or a list of these."""
    if isinstance(value, str):
        return value if Path(value).is_absolute() else str(folder / value)
    if isinstance(value, dict):
        return {k: (_relative_to(folder, v) if k == "path" else v) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) == 2 and all(isinstance(v, str) for v in value) and not Path(value[1]).suffix:
            return [_relative_to(folder, value[0]), value[1]]  # [path, field]
        return [_relative_to(folder, v) for v in value]
    return value


def _pairing(doc: SpecDocument, pairing: dict[str, Any] | None, candidate_mode: bool, files: dict[str, SourceFile]) -> Any:
    if not candidate_mode:
        if pairing is not None and (pairing.get("mode") != "pairwise" or len(pairing) > 1):
            raise doc.error(("pairing",), "a trio mapping gives pairs as they are: only mode = \"pairwise\" applies")
        return None
    if pairing is None:
        raise doc.error(("pairing",), "required with a candidate mapping: mode = \"pairwise\" or \"best-of-n\"")
    params = {k: v for k, v in pairing.items() if k != "mode"}
    chosen_from = params.get("chosen_from", "verified")
    if pairing["mode"] == "best-of-n" and "n" not in params:
        raise doc.error(("pairing", "n"), "required key missing (best-of-n names n: 1 chosen + n-1 rejected)")
    if pairing["mode"] == "pairwise" and "n" in params:
        raise doc.error(("pairing", "n"), "only for best-of-n")
    if chosen_from == "scores" and "scores" not in params:
        raise doc.error(("pairing", "scores"), "required key missing (chosen_from = \"scores\" names the scores source)")
    if chosen_from != "scores" and ("scores" in params or "min_margin" in params):
        raise doc.error(("pairing", "scores" if "scores" in params else "min_margin"), "only with chosen_from = \"scores\"")
    if chosen_from == "reference" and "reference" not in doc.data["mapping"]:
        raise doc.error(("mapping", "reference"), "required key missing (pairing.chosen_from = \"reference\")")
    if "scores" in params:
        params["scores"] = files[params["scores"]]
    _, built = _make(doc, ("pairing",), f"pairing:{pairing['mode']}", params)
    return built[0]


# --- sources ---------------------------------------------------------------------------------------


def check_sources(declared: list[DeclaredSubset], *, download: bool = False) -> None:
    """Resolve every source before the build writes anything; a wrong hash or a missing file
    names the spec line. With `download`, Hub and URL sources are fetched into the cache."""
    for item in declared:
        for src in item.sources:
            try:
                if download and src.file.kind != "local":
                    fetch(src.file)
                resolve(src.file)
            except SourceHashError as exc:
                actual = re.search(r"actual\s+([0-9a-f]{64})", str(exc))
                where = src.label if src.file.kind == "local" else f"{src.label} (as downloaded or cached)"
                raise item.doc.error(
                    ("sources", src.key, "sha256"),
                    f"the file's bytes are not the pinned ones (nothing was written): {where} has sha256 "
                    f"{actual.group(1) if actual else '?'}; restore the pinned file, or pin the new one "
                    "if the change is intended",
                ) from None
            except SourceMissingError as exc:
                detail = " ".join(str(exc).split())
                hint = "" if src.file.kind == "local" else f" Download it: rbkit build --spec {item.doc.label} --fetch"
                raise item.doc.error(("sources", src.key), f"{detail}{hint}") from None


# --- reading rows ----------------------------------------------------------------------------------


class MappedFieldError(SourceRowError):
    """A field the spec maps, missing or malformed in a source row: names both places."""


@dataclass(frozen=True)
class SpecRows:
    """The builder of a declared subset (a `Builder`: ctx -> rows and drops)."""

    doc: SpecDocument
    sources: tuple[DeclaredSource, ...]
    candidate_mode: bool
    candidate_steps: tuple[Any, ...]
    pair_step: Any

    def __call__(self, ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
        if not self.candidate_mode:
            yield from self._trio_rows(ctx)
            return
        groups: list[CandidateGroup] = []
        for item in self.groups(ctx):
            if isinstance(item, DroppedRow):
                yield item
            else:
                groups.append(item)
        for step in self.candidate_steps:
            ctx.progress(step.name)
            result: GroupStepResult = step(groups, ctx)
            groups = result.kept
            yield from result.dropped
            if result.report:
                ctx.report.setdefault("steps", {})[step.name] = result.report
        ctx.progress(self.pair_step.name)
        paired: StepResult = self.pair_step(groups, ctx)
        if paired.report:
            ctx.report.setdefault("steps", {})[self.pair_step.name] = paired.report
        yield from paired.dropped
        yield from paired.kept

    # -- shared -------------------------------------------------------------------------------------

    def _records(self, ctx: BuildContext) -> Iterator[tuple[DeclaredSource, int, dict[str, Any]] | DroppedRow]:
        for src in self.sources:
            path = resolve(src.file)
            for row, rec in READERS[src.format](path, src.label):
                if isinstance(rec, SourceRowError):
                    yield ctx.bad_row(rec)
                    continue
                yield src, row, rec

    def _field(self, src: DeclaredSource, row: int, rec: dict[str, Any], key: str, *, text: bool = True) -> Any:
        """The value of mapping[key] in `rec`; a missing or non-text value names both places."""
        field = self.doc.data["mapping"][key]
        where = f"mapped by {self.doc.label}:{self.doc.line_of(('mapping', key))} mapping.{key}"
        if field not in rec:
            raise MappedFieldError(src.label, row, field, f"missing field ({where}; the row has {', '.join(sorted(map(str, rec))) or 'no fields'})")
        value = rec[field]
        if text and (not isinstance(value, str) or not value.strip()):
            what = "empty text" if isinstance(value, str) else f"expected a string, got {type(value).__name__}"
            raise MappedFieldError(src.label, row, field, f"{what} ({where})")
        return value

    def _optional(self, src: DeclaredSource, row: int, rec: dict[str, Any], key: str, default: str) -> str:
        if key not in self.doc.data["mapping"]:
            return default
        value = self._field(src, row, rec, key, text=False)
        return default if value is None else str(value)

    def _extra(self, src: DeclaredSource, row: int, rec: dict[str, Any]) -> dict[str, Any]:
        mapping = self.doc.data["mapping"]
        where = f"{self.doc.label}:{self.doc.line_of(('mapping', 'extra'))} mapping.extra"
        out = {}
        for field in mapping.get("extra") or []:
            if field not in rec:
                raise MappedFieldError(src.label, row, field, f"missing field (listed in {where})")
            out[field] = rec[field]
        return out

    def _row_key(self, src: DeclaredSource, row: int, rec: dict[str, Any], seen: dict[str, int]) -> str:
        """`<source>:<id>` (or `<source>#<row>` without an id); a repeated id names both rows."""
        if "id" not in self.doc.data["mapping"]:
            return f"{src.key}#{row}"
        key = f"{src.key}:{self._field(src, row, rec, 'id', text=False)}"
        if key in seen:
            raise MappedFieldError(src.label, row, self.doc.data["mapping"]["id"],
                                   f"duplicate id (also at row {seen[key]}; mapped by {self.doc.label}:"
                                   f"{self.doc.line_of(('mapping', 'id'))} mapping.id)")
        seen[key] = row
        return key

    def _provenance(self, src: DeclaredSource, row_key: str) -> dict[str, Any]:
        return {
            "source": self.doc.data["name"],
            "upstream_file": src.file.path,
            "revision": src.file.revision,
            "sha256": src.file.sha256,
            "row_key": row_key,
            "builder": f"{BUILDER}:{self.doc.path.name}",
            "builder_version": self.doc.sha256[:16],
        }

    # -- trio mapping -------------------------------------------------------------------------------

    def _trio_rows(self, ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
        name = self.doc.data["name"]
        seen: dict[str, int] = {}
        for item in self._records(ctx):
            if isinstance(item, DroppedRow):
                yield item
                continue
            src, row, rec = item
            try:
                prompt = self._field(src, row, rec, "prompt")
                chosen = self._field(src, row, rec, "chosen")
                rejected = self._field(src, row, rec, "rejected")
                chosen_model = self._optional(src, row, rec, "chosen_model", "unknown")
                rejected_model = self._optional(src, row, rec, "rejected_model", "unknown")
                row_key = self._row_key(src, row, rec, seen)
                extra = self._extra(src, row, rec)
            except SourceRowError as err:
                yield ctx.bad_row(err)
                continue
            yield TrioRow(
                prompt=prompt,
                chosen=chosen,
                chosen_model=chosen_model,
                rejected=rejected,
                rejected_model=rejected_model,
                subset=name,
                id=stable_id(name, row_key),
                provenance=Provenance(**self._provenance(src, row_key), extra=canonical_json({"line": row, **extra})),
            )

    # -- candidate mapping --------------------------------------------------------------------------

    def groups(self, ctx: BuildContext) -> Iterator[CandidateGroup | DroppedRow]:
        """One group per row (a list column) or per group_by value (long format), in file order."""
        mapping = self.doc.data["mapping"]
        name = self.doc.data["name"]
        long_format = "group_by" in mapping
        open_groups: dict[tuple[str, str], CandidateGroup] = {}
        seen: dict[str, int] = {}
        for item in self._records(ctx):
            if isinstance(item, DroppedRow):
                yield item
                continue
            src, row, rec = item
            try:
                prompt = self._field(src, row, rec, "prompt")
                model = self._optional(src, row, rec, "model", "unknown")
                reference = self._field(src, row, rec, "reference") if "reference" in mapping else None
                extra = self._extra(src, row, rec)
                if long_format:
                    gid = str(self._field(src, row, rec, "group_by", text=False))
                    text = self._field(src, row, rec, "completion")
                    group = open_groups.get((src.key, gid))
                    if group is None:
                        row_key = f"{src.key}:{gid}"
                        group = CandidateGroup(row_key, prompt, [], reference, self._meta(src, row, row_key, extra, name))
                        open_groups[(src.key, gid)] = group
                    elif group.prompt != prompt:
                        raise MappedFieldError(src.label, row, mapping["prompt"],
                                               f"differs from the prompt of {mapping['group_by']}={gid!r} at {group.meta['location']}")
                    group.candidates.append(Candidate(len(group.candidates), text, model, {"location": f"{src.label}:{row}"}))
                    continue
                values = self._field(src, row, rec, "candidates", text=False)
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise MappedFieldError(src.label, row, mapping["candidates"], "expected a list of strings")
                models = rec.get(mapping["model"]) if "model" in mapping else None
                if isinstance(models, list):  # one model per candidate
                    if len(models) != len(values):
                        raise MappedFieldError(src.label, row, mapping["model"],
                                               f"{len(models)} models for {len(values)} candidates")
                    names = [str(m) for m in models]
                else:
                    names = [model] * len(values)
                row_key = self._row_key(src, row, rec, seen)
                yield CandidateGroup(
                    row_key, prompt, [Candidate(i, v, names[i]) for i, v in enumerate(values)], reference,
                    self._meta(src, row, row_key, extra, name),
                )
            except SourceRowError as err:
                yield ctx.bad_row(err)
        yield from open_groups.values()

    def _meta(self, src: DeclaredSource, row: int, row_key: str, extra: dict[str, Any], name: str) -> dict[str, Any]:
        """Verifier inputs (the mapped extra fields, also at the top level, where the candidate
        verifiers read them), and what pairing needs to make a row."""
        return {
            **extra,
            "subset": name,
            "id": stable_id(name, row_key),
            "location": f"{src.label}:{row}",
            "provenance": self._provenance(src, row_key),
            "extra": extra,
        }


# --- selection and the record ------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecSelect:
    """Seeded selection with the spec's seed (plus `--seed`), by the built-in SelectStep."""

    size: int
    seed: int = 0
    name: str = "select"

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        options = dataclasses.replace(ctx.options, seed=ctx.options.seed + self.seed)
        inner = BuildContext(ctx.subset, options, ctx.report, ctx.progress)
        return SelectStep(self.size)(rows, inner)


def spec_record_hook(declared: list[DeclaredSubset]) -> Callable[[Any], None]:
    """A `run_build` finalize hook: build.json's `subsets.<name>.spec` holds the spec's file
    name, sha256 and text, so the folder says exactly what declared it; `description` (with
    a shortfall under `expected.on_short = "label"`) is what the card shows."""
    by_name = {d.subset.name: d for d in declared}

    def hook(result: Any) -> None:
        for name, info in result.manifest["subsets"].items():
            if name not in by_name:
                continue
            info["spec"] = by_name[name].record()
            description = by_name[name].subset.description  # the card reads it from build.json
            gate = (info.get("report") or {}).get("steps", {}).get("gate:expected_size") or {}
            if gate.get("status") == "short":  # expected.on_short = "label": the card says so
                description += f" Short: {gate['built']} rows built, {gate['expected']} expected."
            info["description"] = description

    return hook


class SpecNameClash(RbkitError):
    """A spec's subset name that a registered subset already uses."""


def prepare(paths: list[Path], *, download: bool = False) -> list[DeclaredSubset]:
    """The specs in `paths` ready to build: parsed, checked, named apart from the registered
    subsets, and with every source verified (a wrong hash stops here, before anything is
    written). `rbkit build --spec` and the Python API both start here."""
    from rbkit.curation.registry import load_all

    declared = load_declared(paths)
    registered = load_all()
    for item in declared:
        known = registered.get(item.subset.name)
        if known is None:
            continue
        if not item.subset.substitute:
            err = item.doc.error(("name",), f"subset {item.subset.name!r} is already registered (`rbkit ls`); choose "
                                 "another name, or set `substitute` to rebuild it as a labelled stand-in")
            raise SpecNameClash(str(err))
        if known.section != item.subset.section:
            err = item.doc.error(("section",), f"a substitute for {known.name!r} belongs to its section "
                                 f"{known.section!r}, not {item.subset.section!r}")
            raise SpecNameClash(str(err))
    check_sources(declared, download=download)
    return declared


def combine(selected: list[SubsetSpec], declared: list[DeclaredSubset]) -> list[SubsetSpec]:
    """The subsets one build makes: the selected registered ones, except those a spec rebuilds
    as a labelled substitute (same name), then the declared ones."""
    replaced = {d.subset.name for d in declared}
    return [s for s in selected if s.name not in replaced] + [d.subset for d in declared]
