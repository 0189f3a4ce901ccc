"""`--device-map auto`: a model split between the CPU and a disk offload folder scores like an ordinary load."""

from __future__ import annotations

from pathlib import Path

import pytest
from rbkit.eval.runner import EvalConfig, run

pytestmark = pytest.mark.model


def weight_bytes(model: Path) -> int:
    return sum(f.stat().st_size for f in model.glob("*.safetensors"))


def test_cpu_and_disk_split_scores_like_an_ordinary_load(tiny_rm, rows_70, tmp_path):
    common = dict(model=str(tiny_rm), dataset=str(rows_70), bootstrap=0, cache=False, progress=False)
    plain = run(EvalConfig(**common))
    # room on the CPU for the embedding only: the layers and the head go to the offload folder
    cap = int(0.7 * weight_bytes(tiny_rm))
    split = run(EvalConfig(**common, device_map="auto", max_memory=f"cpu={cap}", offload_folder=tmp_path / "offload"))
    where = split.results["scorer"]["device_map"]
    assert set(where.values()) == {"cpu", "disk"}, where
    assert split.results["config"]["device_map"] == "auto"
    a = {r.id: r for r in plain.rows}
    b = {r.id: r for r in split.rows}
    assert a.keys() == b.keys() and len(a) == 70
    for key in a:
        assert a[key].credit == b[key].credit
        assert all(abs(x - y) <= 1e-5 for x, y in zip(a[key].scores, b[key].scores, strict=True))


def test_max_memory_without_a_device_map_is_refused(tiny_rm, rows_70):
    from rbkit.eval.errors import ModelError

    with pytest.raises(ModelError, match="--max-memory and --offload-folder only apply with --device-map"):
        run(EvalConfig(model=str(tiny_rm), dataset=str(rows_70), max_memory="cpu=1GiB", bootstrap=0, cache=False,
                       progress=False))
