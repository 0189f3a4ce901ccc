"""`rbkit decontam`: which prompts overlap a benchmark (a build folder) or a named dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def register(app: typer.Typer) -> None:
    app.command("decontam")(decontam)


def decontam(
    prompts: Path = typer.Option(..., "--prompts", help="The prompts to check: a .jsonl, .json, .csv or .parquet file."),
    field: str = typer.Option("prompt", "--field", help="The prompts file's field holding the prompt (a string or a list of {role, content})."),
    id_field: str | None = typer.Option(None, "--id-field", help="The prompts file's id field (default: the row number)."),
    against: list[str] = typer.Option(None, "--against", help="An `rbkit build` folder (every subset in it), a local file, or a Hub dataset id org/name[:config][@split]; repeatable."),
    against_file: list[Path] = typer.Option(None, "--against-file", help="A local .jsonl/.json/.csv/.parquet file of reference prompts; repeatable."),
    against_field: str = typer.Option("prompt", "--against-field", help="The field of --against-file files and Hub datasets holding the prompt."),
    n: int = typer.Option(13, "--n", help="Words per n-gram (13: lm-evaluation-harness; 8: the Tulu 3 decontamination)."),
    threshold: float = typer.Option(0.5, "--threshold", help="A pair matches when the share of words in shared n-grams (larger side) is above this; 0 = any shared n-gram."),
    report: Path = typer.Option(..., "--report", help="Where to write the JSON report (matches per subset, with evidence)."),
    out: Path | None = typer.Option(None, "--out", help="Write the prompts file's rows as JSONL: without the matching ones, or all of them flagged with --keep."),
    keep: bool = typer.Option(False, "--keep", help="With --out: keep matching rows, each with a `decontam` field holding its matches."),
    fail_on_match: bool = typer.Option(False, "--fail-on-match", help="Exit 1 when any prompt matches (for CI)."),
) -> None:
    """Check prompts for word n-gram overlap with benchmark subsets and named datasets.

    Normalisation: NFKC, case-folded, punctuation and symbols deleted, split on whitespace.
    Every match names the reference's subset (or file / Hub id) and id, the shared n-gram and
    the longest shared run of words.
    """
    from rbkit.curation import decontam as dc

    if not against and not against_file:
        raise dc.DecontamSourceError("nothing to check against: give --against OUT (a build folder) and/or --against-file FILE")
    settings = dc.Settings(n, threshold)
    checked = dc.file_prompts(prompts, field, id_field=id_field, source="prompts")
    refs: list[dc.Prompt] = []
    described: list[dict[str, Any]] = []
    not_built: list[str] = []
    for item in against or []:
        path = Path(item)
        if path.is_dir():
            got, subsets = dc.build_folder_prompts(path)
            refs += got
            described.append({"build": str(path), "subsets": subsets})
            not_built += [s for s in _registered_subsets() if s not in subsets]
        elif path.is_file():
            refs += dc.file_prompts(path, against_field)
            described.append({"file": str(path), "field": against_field})
        elif path.suffix or item.startswith((".", "/")) or item.count("/") != 1:
            raise dc.DecontamSourceError(f"--against {item}: no such build folder or file (a Hub id looks like org/name)")
        else:
            refs += dc.hub_prompts(item, against_field)
            described.append({"hub": item, "field": against_field})
    for path in against_file or []:
        refs += dc.file_prompts(path, against_field)
        described.append({"file": str(path), "field": against_field})
    if not refs:
        raise dc.DecontamSourceError("the reference sets hold no prompts")

    matches, below = _run(checked, refs, settings)
    result = dc.report([p.id for p in checked], refs, matches, below, settings)
    result["prompts_file"] = {"path": str(prompts), "field": field, "id_field": id_field}
    result["against"] = described
    result["registered_subsets_not_checked"] = sorted(set(not_built))
    result["policy"] = "keep (flagged)" if keep else "drop"
    from rbkit.core.files import atomic_write

    atomic_write(report, json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    if out is not None:
        _write_rows(prompts, out, dc.matches_by_prompt(matches), checked, keep)
    _summary(result, report, out)
    if fail_on_match and result["contaminated_prompts"]:
        raise typer.Exit(1)


def _registered_subsets() -> list[str]:
    from rbkit.curation.registry import load_all

    return sorted(load_all())


def _run(checked: list[Any], refs: list[Any], settings: Any) -> tuple[list[Any], Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rbkit.curation.decontam import find_matches

    with Progress(TextColumn("checking prompts"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, disable=len(checked) < 20_000) as bar:
        task = bar.add_task("check", total=len(checked))
        return find_matches([p.text for p in checked], refs, settings,
                            progress=lambda done, total: bar.update(task, completed=done))


def _write_rows(src: Path, out: Path, by_prompt: dict[int, list[Any]], checked: list[Any], keep: bool) -> None:
    from rbkit.core.files import atomic_write
    from rbkit.curation.decontam import source_rows

    lines = []
    for i, (_row, rec) in enumerate(source_rows(src, str(src))):
        found = by_prompt.get(i)
        if found and not keep:
            continue
        if keep:
            rec = {**rec, "decontam": [m.to_record(checked[i].id) for m in found] if found else []}  # type: ignore[dict-item]
        lines.append(json.dumps(rec, ensure_ascii=False, sort_keys=True, default=str) + "\n")
    atomic_write(out, "".join(lines))


def _summary(result: dict[str, Any], report: Path, out: Path | None) -> None:
    lines = [
        f"{result['prompts']} prompts checked against {result['references']} reference prompts "
        f"({result['settings']['n']}-grams, threshold {result['settings']['threshold']}): "
        f"{result['contaminated_prompts']} match"
    ]
    for source, entry in result["sources"].items():
        if entry["matched_prompts"]:
            lines.append(f"  {source}: {entry['matched_prompts']} prompt(s), e.g. \"{entry['matches'][0]['ngram']}\"")
    if result["registered_subsets_not_checked"]:
        lines.append(f"  not in the build folder (not checked): {', '.join(result['registered_subsets_not_checked'])}")
    lines.append(f"report: {report}" + (f"; rows: {out}" if out else ""))
    typer.echo("\n".join(lines))
