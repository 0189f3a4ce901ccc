"""Small row factories shared by tests (importable as `tests.factories`)."""

from __future__ import annotations

import dataclasses

from rbkit.curation.rows import Provenance, TrioRow, stable_id


def make_row(key: str = "k1", subset: str = "demo", **over) -> TrioRow:
    base = dict(
        prompt="Say hi.",
        chosen="Hi!",
        chosen_model="a",
        rejected="No.",
        rejected_model="b",
        subset=subset,
        id=stable_id(subset, key),
        provenance=Provenance(
            source="demo",
            upstream_file="x.json",
            revision="abc",
            sha256="0" * 64,
            row_key=key,
            builder="tests",
            builder_version="1",
        ),
    )
    base.update(over)
    return TrioRow(**base)


def with_key(row: TrioRow, key: str) -> TrioRow:
    prov = dataclasses.replace(row.provenance, row_key=key)
    return dataclasses.replace(row, id=stable_id(row.subset, key), provenance=prov)
