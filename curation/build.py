"""Run subset builders through their pipelines and write a Hub-ready build folder.

One module, past 400 lines, on purpose: running the pipelines, the folder's layout and the
manifest that describes it change together (review pull re-derives the manifest with these same
functions), and splitting them would put one contract in three places.

Folder layout (everything but `timings.json` is byte-identical across builds of the same
sources with the same options):

    data/<subset>.parquet   one table per subset (published columns first, then provenance)
    data/filtered.parquet   all non-Prior-Sets subsets together, as RewardBench's `filtered` split
    build.json              rbkit version, options, sources with sha256, per-subset counts,
                            dropped counts per step and reason, per-subset reports (rulers, ...)
    dropped.jsonl           every dropped candidate with step, reason and evidence
    timings.json            seconds per subset and stage (kept apart: it differs run to run)

The folder is written under a temporary name next to the destination and swapped in with one
atomic exchange (curation.folder_swap), so a failed or killed build leaves the previous output
intact and `out` never goes missing. A missing source stops the build before anything is
written unless `allow_missing`; a partial build lists what is missing in build.json["missing"]
and on the card.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rbkit.curation.dedup import cross_subset_hook
from rbkit.curation.errors import SchemaViolationError, SourceMissingError
from rbkit.curation.folder_swap import new_temp, output_lock, swap_in, writing
from rbkit.curation.gates import GateConfig, gate_hook
from rbkit.curation.pipeline import BuildContext, BuildOptions, Step, SubsetOutcome, run_steps
from rbkit.curation.registry import SubsetSpec
from rbkit.curation.rows import DroppedRow, TrioRow
from rbkit.curation.sources import SourceFile, resolve, sha256_file
from rbkit.curation.trio_io import (
    DIR_MODE,
    read_rows,
    to_table,
    write_jsonl,
    write_parquet,
    write_text,
)
from rbkit.curation.validate import Violation, validate_records

BUILD_FORMAT = 1
FILTERED = "filtered"


def rbkit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rbkit")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class MissingSubset:
    subset: str
    error: str  # every missing file with its pin and the fetch command
    files: tuple[SourceFile, ...] = ()


@dataclass
class BuildResult:
    out: Path
    outcomes: list[SubsetOutcome]
    specs: dict[str, SubsetSpec]
    missing: list[MissingSubset]
    manifest: dict[str, Any]
    timings: dict[str, Any]


ProgressHook = Callable[[str, str], None]  # (subset, stage)


# --- sources ---------------------------------------------------------------------------------


def check_sources(specs: Sequence[SubsetSpec]) -> tuple[list[SubsetSpec], list[MissingSubset]]:
    """Split specs into buildable ones and those with a missing source (hash errors raise)."""
    ready, missing = [], []
    for spec in specs:
        errors, files = [], []
        for src in spec.sources:
            try:
                resolve(src)
            except SourceMissingError as exc:
                errors.append(str(exc))
                files.append(src)
        if errors:
            missing.append(MissingSubset(spec.name, "\n".join(errors), tuple(files)))
        else:
            ready.append(spec)
    return ready, missing


def source_record(src: SourceFile) -> dict[str, Any]:
    """What build.json says of a source: its pin, and the sha256 of the bytes actually read.

    Files pinned only by a git blob id or by their builder's content check get the sha256 of
    the local copy, so every build names the exact bytes it used.
    """
    sha256 = src.sha256
    if not sha256:
        try:
            sha256 = sha256_file(resolve(src))
        except SourceMissingError:
            sha256 = None
    return {
        "kind": src.kind,
        "repo": src.repo,
        "revision": src.revision,
        "path": src.path,
        "sha256": sha256,
        "git_sha1": src.git_sha1,
        "pinned_by": src.pinned_by,
        "license": src.license,
        "citation": src.citation,
        "size": src.size,
        "url": src.url,
    }


def missing_record(src: SourceFile) -> dict[str, Any]:
    """What build.json says of a missing source: enough to fetch it, nothing machine-specific."""
    return {
        "repo": src.repo,
        "revision": src.revision,
        "path": src.path,
        "mirror_path": src.mirror_path,
        "pin": src.pin,
        "fetch": f"rbkit sources fetch {src.name}",
    }


def missing_message(missing: Sequence[MissingSubset]) -> str:
    """The refusal the CLI prints and the API raises: every missing file, then one fetch command."""
    names = ", ".join(m.subset for m in missing)
    details = "\n\n".join(f"[{m.subset}]\n{m.error}" for m in missing)
    sources = sorted({src.name for m in missing for src in m.files})
    fetch = f"`rbkit sources fetch {' '.join(sources)}`" if sources else "`rbkit sources fetch`"
    return (
        f"cannot build {names}: source files are missing (nothing was written).\n\n{details}\n\n"
        f"Fetch them with {fetch}, or pass --allow-missing (Python: allow_missing=True) to build "
        "the other subsets and record these as missing in build.json and on the card."
    )


# --- one subset ------------------------------------------------------------------------------


def build_subset(
    spec: SubsetSpec,
    options: BuildOptions,
    *,
    post_steps: Sequence[Step] = (),
    progress: ProgressHook = lambda subset, stage: None,
) -> SubsetOutcome:
    ctx = BuildContext(subset=spec.name, options=options, progress=lambda stage: progress(spec.name, stage))
    progress(spec.name, "reading sources")
    outcome = run_steps(spec.name, spec.build(ctx), [*spec.steps, *post_steps], ctx, time.perf_counter)
    progress(spec.name, "schema check")
    t = time.perf_counter()
    check_schema(spec.name, outcome.rows)
    outcome.seconds["schema"] = time.perf_counter() - t
    return outcome


def check_schema(subset: str, rows: Iterable[TrioRow]) -> None:
    _, violations = validate_records(
        f"<built {subset}>", ((i, r.to_record()) for i, r in enumerate(rows, start=1))
    )
    if violations:
        raise SchemaViolationError(format_violations(violations))


def format_violations(violations: Sequence[Violation], limit: int = 50) -> str:
    lines = [str(v) for v in violations[:limit]]
    if len(violations) > limit:
        lines.append(f"... and {len(violations) - limit} more")
    return "\n".join(lines)


# --- the whole build -------------------------------------------------------------------------


# Everything below that reads rows (counts, totals, the finalize hooks) is also what
# `rbkit review pull` re-runs after it swaps or drops pairs (curation.review.buildio), so a
# pulled folder equals a rebuild with --review-decisions: one code path, not two.


def subset_counts(rows: Sequence[TrioRow], dropped: Iterable[DroppedRow | Mapping[str, Any]]) -> dict[str, Any]:
    """The per-subset counts in build.json, from the subset's rows and its drop records."""
    steps = [(d.step, d.reason) if isinstance(d, DroppedRow) else (d.get("step"), d.get("reason")) for d in dropped]
    by_step = Counter(step for step, _ in steps)
    by_reason = Counter(f"{step}: {reason}" for step, reason in steps)
    return {
        "built": len(rows),
        "dropped": sum(by_step.values()),
        "dropped_by_step": dict(sorted(by_step.items())),
        "dropped_by_reason": dict(sorted(by_reason.items())),
    }


def build_totals(rows_by_subset: Mapping[str, Sequence[TrioRow]], dropped: int, sections: Mapping[str, str]) -> dict[str, int]:
    """build.json's `totals`; `filtered` counts the subsets outside Prior Sets."""
    return {
        "built": sum(len(rows) for rows in rows_by_subset.values()),
        "dropped": dropped,
        "filtered": sum(len(rows) for name, rows in rows_by_subset.items() if sections.get(name) != "Prior Sets"),
    }


def finalize_hooks(gate: GateConfig | None = None) -> list[Callable[[BuildResult], None]]:
    """The manifest facts derived from all rows at once: rulers and gate verdicts, cross-subset
    duplicate prompts. Hooks read `result.outcomes` (rows) and `result.manifest` only."""
    return [gate_hook(gate or GateConfig()), cross_subset_hook()]


def subset_summary(spec: SubsetSpec, outcome: SubsetOutcome) -> dict[str, Any]:
    return {
        "section": spec.section,
        "source": spec.source,
        "license": spec.license,
        "verification": spec.verification,
        "length_bias": spec.length_bias,
        "substitute": spec.substitute,
        "weight": spec.weight,
        "expected": spec.expected,
        **subset_counts(outcome.rows, outcome.dropped),
        "candidates": outcome.report.get("candidates", len(outcome.rows) + len(outcome.dropped)),
        "sources": sorted(src.name for src in spec.sources),
        "report": outcome.report,
    }


def make_manifest(
    specs: dict[str, SubsetSpec],
    outcomes: Sequence[SubsetOutcome],
    missing: Sequence[MissingSubset],
    options: BuildOptions,
) -> dict[str, Any]:
    sources: dict[str, Any] = {}
    for outcome in outcomes:
        for src in specs[outcome.subset].sources:
            sources[src.name] = source_record(src)
    return {
        "format": BUILD_FORMAT,
        "rbkit_version": rbkit_version(),
        "options": options.to_record(),
        "subsets": {o.subset: subset_summary(specs[o.subset], o) for o in outcomes},
        "missing": {m.subset: {s.name: missing_record(s) for s in m.files} for m in missing},
        "sources": dict(sorted(sources.items())),
        "totals": build_totals(
            {o.subset: o.rows for o in outcomes},
            sum(len(o.dropped) for o in outcomes),
            {o.subset: specs[o.subset].section for o in outcomes},
        ),
    }


def run_build(
    specs: Sequence[SubsetSpec],
    out: Path,
    options: BuildOptions,
    *,
    allow_missing: bool = False,
    post_steps: Sequence[Step] = (),
    progress: ProgressHook = lambda subset, stage: None,
    finalize: Sequence[Callable[[BuildResult], None]] = (),
    gate: GateConfig | None = None,
) -> BuildResult:
    """Build `specs` into `out`, replacing it in one step only when everything succeeded.

    A missing source raises SourceMissingError before anything is written (`out` stays as it
    was) unless `allow_missing`: then the other subsets are built and the missing ones are
    listed in build.json["missing"] and on the card. `.<out>.lock` is held throughout, so a
    second build of the same `out` fails at once (curation.folder_swap).

    Every build records trivial-baseline rulers per subset and applies `gate` (default: warn
    above 90%), and reports prompts shared across subsets (curation.gates, curation.dedup).
    """
    with output_lock(out):
        return _run_build(specs, out, options, allow_missing, post_steps, progress, finalize, gate)


def _run_build(
    specs: Sequence[SubsetSpec],
    out: Path,
    options: BuildOptions,
    allow_missing: bool,
    post_steps: Sequence[Step],
    progress: ProgressHook,
    finalize: Sequence[Callable[[BuildResult], None]],
    gate: GateConfig | None,
) -> BuildResult:
    started = time.perf_counter()
    ready, missing = check_sources(specs)
    if missing and not allow_missing:
        raise SourceMissingError(missing_message(missing))
    if options.review_dir is not None:  # pulled review decisions apply last (curation.review)
        from rbkit.curation.review.decisions import ReviewDecisionsStep

        post_steps = [*post_steps, ReviewDecisionsStep.from_path(options.review_dir)]
    by_name = {s.name: s for s in specs}
    outcomes = [build_subset(spec, options, post_steps=post_steps, progress=progress) for spec in ready]
    # Run-dependent step facts (ctx.report["runtime"]: seconds, cache hits) go to timings.json.
    runtime = {o.subset: o.report.pop("runtime") for o in outcomes if "runtime" in o.report}
    manifest = make_manifest(by_name, outcomes, missing, options)
    timings = {
        "total_seconds": round(time.perf_counter() - started, 3),
        "subsets": {o.subset: {k: round(v, 3) for k, v in o.seconds.items()} for o in outcomes},
        "runtime": runtime,
    }
    result = BuildResult(out, outcomes, by_name, missing, manifest, timings)
    for hook in (*finalize_hooks(gate), *finalize):  # may add to the manifest
        hook(result)
    write_build(out, {o.subset: o.rows for o in outcomes}, [d for o in outcomes for d in o.dropped], result.manifest, result.timings, by_name)
    return result


# --- the folder ------------------------------------------------------------------------------


def write_folder(
    dest: Path,
    rows_by_subset: dict[str, list[TrioRow]],
    dropped: Sequence[DroppedRow | dict[str, Any]],
    manifest: dict[str, Any],
    timings: dict[str, Any] | None,
    sections: dict[str, str],
    shown: Path | None = None,
) -> None:
    """Write a complete build folder into `dest` (which should be empty).

    A refused write (no space, quota, read-only) raises OutputWriteError naming the file as
    `shown / <file>`: the folder the user asked for, not the temporary one.
    """
    shown = shown or dest
    data = dest / "data"
    with writing(shown / "data"):
        data.mkdir(parents=True, exist_ok=True)
    filtered: list[TrioRow] = []
    for name in sorted(rows_by_subset):
        rows = rows_by_subset[name]
        with writing(shown / "data" / f"{name}.parquet"):
            write_parquet(to_table(rows), data / f"{name}.parquet")
        if sections.get(name) != "Prior Sets" and (not rows or isinstance(rows[0].chosen, str)):
            filtered.extend(rows)
    if filtered or not rows_by_subset:
        with writing(shown / "data" / f"{FILTERED}.parquet"):
            write_parquet(to_table(filtered), data / f"{FILTERED}.parquet")
    with writing(shown / "dropped.jsonl"):
        write_jsonl(dest / "dropped.jsonl", (d if isinstance(d, dict) else d.to_record() for d in dropped))
    with writing(shown / "build.json"):
        write_text(dest / "build.json", json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    if timings is not None:
        with writing(shown / "timings.json"):
            write_text(dest / "timings.json", json.dumps(timings, indent=2, sort_keys=True) + "\n")
    with writing(shown / "README.md"):
        write_build_card(dest, manifest, rows_by_subset)


LOCAL_REPO_ID = "local/rbkit-build"  # a constant, so the card is byte-identical across builds


def write_build_card(dest: Path, manifest: dict[str, Any], rows_by_subset: dict[str, list[TrioRow]]) -> None:
    """A dataset card in the build folder, so `datasets.load_dataset(out, name=subset)` works as is."""
    from rbkit.curation.card import build_card

    folder = BuildFolder(dest, manifest, dict(rows_by_subset))
    write_text(dest / "README.md", build_card(folder, LOCAL_REPO_ID))


def write_build(
    out: Path,
    rows_by_subset: dict[str, list[TrioRow]],
    dropped: Sequence[DroppedRow | dict[str, Any]],
    manifest: dict[str, Any],
    timings: dict[str, Any] | None,
    specs_or_sections: dict[str, SubsetSpec] | dict[str, str],
) -> None:
    """Write the folder beside `out` and swap it in; on any failure `out` is left as it was."""
    out = out.resolve()
    sections = {k: (v if isinstance(v, str) else v.section) for k, v in specs_or_sections.items()}
    with output_lock(out):
        tmp = new_temp(out, DIR_MODE)
        try:
            write_folder(tmp, rows_by_subset, dropped, manifest, timings, sections, shown=out)
            extra = out / "review"  # review decisions live beside the data and survive rewrites
            if extra.is_dir() and not (tmp / "review").exists():
                with writing(out / "review"):
                    shutil.copytree(extra, tmp / "review")
            with writing(out):
                swap_in(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


# --- reading a folder back -------------------------------------------------------------------


@dataclass
class BuildFolder:
    path: Path
    manifest: dict[str, Any]
    rows: dict[str, list[TrioRow]] = field(default_factory=dict)
    dropped: list[dict[str, Any]] = field(default_factory=list)

    @property
    def subsets(self) -> list[str]:
        return sorted(self.manifest.get("subsets", {}))

    def section_of(self, subset: str) -> str:
        return self.manifest["subsets"][subset]["section"]


def read_build(path: Path, *, with_rows: bool = True) -> BuildFolder:
    manifest_path = path / "build.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{path}: not a build folder (no build.json); run `rbkit build --out {path}`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    folder = BuildFolder(path, manifest)
    if with_rows:
        for name in manifest.get("subsets", {}):
            file = path / "data" / f"{name}.parquet"
            if not file.is_file():
                raise FileNotFoundError(f"{file}: listed in build.json but missing")
            folder.rows[name] = read_rows(file)
        dropped_path = path / "dropped.jsonl"
        if dropped_path.is_file():
            with open(dropped_path, encoding="utf-8") as fh:
                folder.dropped = [json.loads(line) for line in fh if line.strip()]
    return folder
