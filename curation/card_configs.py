"""Hub configs of a dataset card: each config's data files and the `dataset_info` `datasets` checks.

Measured from parquet files (rows, in-memory and on-disk bytes, `datasets`' own feature YAML),
so the card's YAML matches what `push_to_hub` would write. Rendering lives in `curation.card`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ConfigInfo:
    """One Hub config: its data files and the `dataset_info` entry `datasets` checks on load."""

    name: str
    split: str
    paths: tuple[str, ...]  # repo-relative data file paths (or globs)
    features: list[Any]  # datasets' YAML feature list
    num_examples: int
    num_bytes: int  # in-memory arrow size, as push_to_hub reports it
    download_size: int  # bytes of the parquet files
    default: bool = False

    def to_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "split": self.split,
            "paths": list(self.paths),
            "features": self.features,
            "num_examples": self.num_examples,
            "num_bytes": self.num_bytes,
            "download_size": self.download_size,
            "default": self.default,
        }

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> ConfigInfo:
        return cls(
            name=rec["name"],
            split=rec["split"],
            paths=tuple(rec["paths"]),
            features=list(rec["features"]),
            num_examples=int(rec["num_examples"]),
            num_bytes=int(rec["num_bytes"]),
            download_size=int(rec["download_size"]),
            default=bool(rec.get("default", False)),
        )

    def yaml_config(self) -> dict[str, Any]:
        paths: Any = self.paths[0] if len(self.paths) == 1 else list(self.paths)
        entry: dict[str, Any] = {"config_name": self.name}
        if self.default:
            entry["default"] = True
        entry["data_files"] = [{"split": self.split, "path": paths}]
        return entry

    def yaml_info(self) -> dict[str, Any]:
        return {
            "config_name": self.name,
            "features": self.features,
            "splits": [{"name": self.split, "num_bytes": self.num_bytes, "num_examples": self.num_examples}],
            "download_size": self.download_size,
            "dataset_size": self.num_bytes,
        }


def features_yaml(schema: Any) -> list[Any]:
    """`datasets`' own YAML rendering of an arrow schema's features (what push_to_hub writes)."""
    from datasets import DatasetInfo, Features
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    card = DatasetCardData()
    DatasetInfosDict({"x": DatasetInfo(features=Features.from_arrow_schema(schema))}).to_dataset_card_data(card)
    info = card["dataset_info"]
    return info["features"]


def config_from_files(name: str, split: str, files: Sequence[Path], paths: Sequence[str], *, default: bool = False) -> ConfigInfo:
    """A config's metadata measured from its parquet files."""
    import pyarrow.parquet as pq

    if not files:
        raise ValueError(f"config {name!r} has no data files")
    schema = pq.read_schema(files[0])
    rows = nbytes = size = 0
    for f in files:
        table = pq.read_table(f)
        if not table.schema.equals(schema, check_metadata=False):
            raise ValueError(f"{f}: schema differs from {files[0]}; one config needs one schema")
        rows += table.num_rows
        nbytes += table.nbytes
        size += f.stat().st_size
    return ConfigInfo(name, split, tuple(paths), features_yaml(schema), rows, nbytes, size, default)


def union_config(name: str, split: str, parts: Sequence[ConfigInfo], *, default: bool = False) -> ConfigInfo:
    """A config that reads the data files of several same-schema configs as one split."""
    if not parts:
        raise ValueError(f"config {name!r} would be empty")
    features = parts[0].features
    for p in parts[1:]:
        if p.features != features:
            raise ValueError(f"config {name!r}: {p.name} has other features than {parts[0].name}")
    return ConfigInfo(
        name,
        split,
        tuple(path for p in parts for path in p.paths),
        features,
        sum(p.num_examples for p in parts),
        sum(p.num_bytes for p in parts),
        sum(p.download_size for p in parts),
        default,
    )
