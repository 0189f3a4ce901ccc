"""The walkthrough every worked example follows, as steps the example tests share.

    build (twice: byte-identical) -> validate -> review push --blind / answer / pull
    -> publish --dry-run (loaded back with datasets.load_dataset) -> eval
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.examples.conftest import EXAMPLES, folder_bytes, load_example_module, rbkit


def write_example_prompts(example: str, path: Path, limit: int, **options: Any) -> list[dict[str, Any]]:
    """What `python examples/<example>/prompts.py --limit N --out PATH` writes."""
    module = load_example_module(example, "prompts")
    records = module.select(limit, **options)
    sys.modules["prompt_files"].write_prompts(path, records)
    return records


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def parquet_records(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def check_accounted(out: Path, subset: str, candidates: Path, *, used_per_row: int) -> None:
    """Every candidate ends in a row or in dropped.jsonl (with its reason): none disappears."""
    total = len(parquet_records(candidates))
    rows = parquet_records(out / "data" / f"{subset}.parquet") if (out / "data" / f"{subset}.parquet").is_file() else []
    dropped = [d for d in read_jsonl(out / "dropped.jsonl") if d["subset"] == subset]
    dropped_candidates = [d for d in dropped if (d.get("row") or {}).get("candidate") is not None]
    assert all(d["reason"] for d in dropped_candidates)
    assert len(rows) * used_per_row + len(dropped_candidates) == total, (len(rows), len(dropped_candidates), total)


def build_twice(build_args: list[Any], tmp: Path) -> Path:
    """Build into two folders; every file but timings.json must be byte-identical."""
    first, second = tmp / "out", tmp / "out-again"
    rbkit("build", *build_args, "--out", first)
    rbkit("build", *build_args, "--out", second)
    a, b = folder_bytes(first), folder_bytes(second)
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []
    return first


def review_blind(out: Path, subsets: list[str], argilla_env: tuple[Any, str]) -> str:
    """Push blind, answer one row per subset as a reviewer who agrees with the label, pull."""
    from rbkit.curation.review.blind import read_blind
    from rbkit.curation.review.layout import letter

    live, workspace = argilla_env
    pushed = rbkit("review", "push", out, "--blind", "--workspace", workspace)
    for subset in subsets:
        assert f"annotate {subset}" in " ".join(pushed.output.split())
    blind = read_blind(out)
    reviewer = live.reviewer("curator", workspace)
    for subset in subsets:
        (subset_name, row_id), entry = min((k, v) for k, v in blind.items() if k[0] == subset)
        reviewer.answer(subset_name, row_id, letter(entry.order.index(("chosen", 0))))
    pulled = rbkit("review", "pull", out, "--workspace", workspace)
    text = " ".join(pulled.output.split())
    assert f"blind picks that agree with the build's label: {len(subsets)} of {len(subsets)}" in text
    return text


def publish_and_load(out: Path, subsets: list[str], tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """`rbkit publish --dry-run`, then each subset's config loaded with datasets.load_dataset."""
    import datasets

    hub = tmp / "hub"
    rbkit("publish", out, "--repo", "examples/rbkit-worked-examples", "--dry-run", "--out", hub)
    loaded: dict[str, list[dict[str, Any]]] = {}
    for subset in subsets:
        ds = datasets.load_dataset(str(hub), name=subset, cache_dir=str(tmp / "hf-cache"))
        (split,) = ds.values()
        loaded[subset] = list(split)
        assert len(loaded[subset]) == len(parquet_records(out / "data" / f"{subset}.parquet"))
    card = (hub / "README.md").read_text(encoding="utf-8")
    for subset in subsets:
        assert subset in card
    return loaded


def evaluate(out: Path, subsets: list[str], tmp: Path) -> dict[str, Any]:
    """`rbkit eval` with the default model (SmolLM2 as a reference-free DPO scorer)."""
    res = tmp / "eval"
    rbkit("eval", "--dataset", out, "--out", res, "--bootstrap", "0", "--quiet")
    results = json.loads((res / "results.json").read_text(encoding="utf-8"))
    text = json.dumps(results)
    for subset in subsets:
        assert subset in text
    return results


def shipped_end_to_end(build_args: list[Any], subsets: list[str], tmp: Path, argilla_env: tuple[Any, str]) -> dict[str, list[dict[str, Any]]]:
    """The committed example through the whole walkthrough; returns the published rows."""
    out = build_twice(build_args, tmp)
    validated = rbkit("validate", out)
    assert validated.output.startswith("ok")
    for subset in subsets:
        assert parquet_records(out / "data" / f"{subset}.parquet"), f"{subset}: the shipped example built no row"
    review_blind(out, subsets, argilla_env)
    loaded = publish_and_load(out, subsets, tmp)
    evaluate(out, subsets, tmp)
    return loaded


__all__ = ["EXAMPLES", "check_accounted", "shipped_end_to_end", "write_example_prompts"]
