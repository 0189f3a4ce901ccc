"""Blind review against the real local Argilla: what the reviewer sees, and pull mapping back."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import pytest
from rbkit.curation.review.blind import blind_path
from rbkit.curation.review.decisions import read_decisions
from rbkit.curation.review.pull import pull
from rbkit.curation.review.push import push
from rbkit.curation.trio_io import read_rows

from tests.curation.review.conftest import Live, by_text, fixture_rows

pytestmark = [pytest.mark.argilla, pytest.mark.slow]

SIDE_WORDS = re.compile(r"chosen|rejected|labelled", re.IGNORECASE)
BLIND_METADATA = {"subset", "section", "review_status", "content_sha256", "row_key", "source"}


def letter_of(record: dict, text: str) -> str:
    """The letter under which a record shows `text` (what a reviewer would click)."""
    (name,) = [name for name, value in record["fields"].items() if name.startswith("answer_") and value == text]
    return name.removeprefix("answer_")


def test_blind_push_shows_answers_without_the_label(live_argilla: Live, build_dir: Path):
    import argilla as rg

    ws = live_argilla.workspace()
    push(build_dir, live_argilla.target(ws), subsets=["xstest-should-refuse"], blind=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = rg.Argilla(api_url=live_argilla.url, api_key=live_argilla.owner_key)
        dataset = client.datasets("xstest-should-refuse", workspace=ws)
    shown = [f"{f.name} {f.title}" for f in dataset.settings.fields]
    for question in dataset.settings.questions:
        shown += [question.name, question.title or "", *(getattr(question, "labels", None) or [])]
    shown += [m.name for m in dataset.settings.metadata] + [dataset.settings.guidelines]
    assert [f.name for f in dataset.settings.fields] == ["prompt", "answer_a", "answer_b"]
    assert [s for s in shown if SIDE_WORDS.search(s)] == []

    rows = {r.id: r for r in fixture_rows() if r.subset == "xstest-should-refuse"}
    records = live_argilla.records(ws, "xstest-should-refuse")
    assert len(records) == 2
    for record in records:
        row = rows[int(record["external_id"])]
        assert sorted(record["fields"]) == ["answer_a", "answer_b", "prompt"]
        assert {record["fields"]["answer_a"], record["fields"]["answer_b"]} == {row.chosen, row.rejected}
        assert set(record["metadata"]) <= BLIND_METADATA
        assert record["suggestions"] == []  # verification verdicts would point at the label


def test_blind_order_is_seeded_and_stable_across_pushes(live_argilla: Live, build_dir: Path, tmp_path: Path):
    subset = "llmbar-natural"
    ws = live_argilla.workspace()
    push(build_dir, live_argilla.target(ws), subsets=[subset], blind=True)
    first = {r["external_id"]: r["fields"] for r in live_argilla.records(ws, subset)}
    mapping = blind_path(build_dir).read_bytes()
    chosen_first = [fields["answer_a"] == by_text(fixture_rows(), fields["prompt"]).chosen for fields in first.values()]
    assert set(chosen_first) == {True, False}  # the order varies from row to row

    push(build_dir, live_argilla.target(ws), subsets=[subset], only="all", blind=True)
    assert {r["external_id"]: r["fields"] for r in live_argilla.records(ws, subset)} == first
    assert blind_path(build_dir).read_bytes() == mapping

    fresh = shutil.copytree(build_dir, tmp_path / "copy", ignore=shutil.ignore_patterns("review"))
    ws2 = live_argilla.workspace()
    push(fresh, live_argilla.target(ws2), subsets=[subset], blind=True)  # no recorded orders there
    assert {r["external_id"]: r["fields"] for r in live_argilla.records(ws2, subset)} == first


def test_blind_pull_maps_answers_back_and_reports_agreement_with_the_label(live_argilla: Live, build_dir: Path):
    subset = "llmbar-natural"
    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    push(build_dir, target, subsets=[subset], blind=True)
    rows = fixture_rows()
    tips, passive, capital, colour = (by_text(rows, t) for t in ("healthy", "passive", "Australia", "primary colour"))
    records = {int(r["external_id"]): r for r in live_argilla.records(ws, subset)}
    alice = live_argilla.reviewer("alice", ws)
    alice.answer(subset, tips.id, letter_of(records[tips.id], tips.chosen))
    alice.answer(subset, passive.id, letter_of(records[passive.id], passive.chosen))
    alice.answer(subset, capital.id, letter_of(records[capital.id], capital.rejected), "Canberra is the capital")
    alice.answer(subset, colour.id, "tie", "both are primary colours")

    report = pull(build_dir, target)
    decisions = read_decisions(build_dir)
    assert {i: (d.label, d.blind) for i, d in decisions.items()} == {
        tips.id: ("chosen", True), passive.id: ("chosen", True), capital.id: ("rejected", True), colour.id: ("tie", True),
    }
    kept = {r.id: r for r in read_rows(build_dir / "data" / f"{subset}.parquet")}
    assert kept[capital.id].chosen == capital.rejected and kept[capital.id].provenance.review.status == "edited"
    assert colour.id not in kept
    with_label = report.agreement["with_label"]
    assert (with_label["agree"], with_label["picked"], with_label["no_pick"], with_label["rate"]) == (2, 3, 1, 0.6667)
    assert with_label["ci95"][0] < 0.6667 < with_label["ci95"][1]
    assert json.loads((build_dir / "review" / "agreement.json").read_text())["with_label"] == with_label
