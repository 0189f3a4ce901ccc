"""Push, answer as reviewers through the SDK, pull: against the real local Argilla."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rbkit.curation.pipeline import BuildContext, BuildOptions, run_steps
from rbkit.curation.review.audit import audit, suspicious
from rbkit.curation.review.connection import ReviewAuthError
from rbkit.curation.review.decisions import ReviewDecisionsStep, read_decisions
from rbkit.curation.review.pull import pull
from rbkit.curation.review.push import push
from rbkit.curation.trio_io import read_rows

from tests.curation.review.conftest import Live, by_text, fixture_rows

pytestmark = [pytest.mark.argilla, pytest.mark.slow]


def folder_bytes(build: Path) -> dict[str, bytes]:
    return {str(p.relative_to(build)): p.read_bytes() for p in sorted(build.rglob("*")) if p.is_file() and p.name != "timings.json"}


def rows_of(build: Path, subset: str):
    return read_rows(build / "data" / f"{subset}.parquet")


def dropped_of(build: Path) -> list[dict]:
    return [json.loads(line) for line in (build / "dropped.jsonl").read_text().splitlines() if line.strip()]


def test_push_lays_out_one_dataset_per_subset(live_argilla: Live, build_dir: Path):
    import argilla as rg

    ws = live_argilla.workspace()
    report = push(build_dir, live_argilla.target(ws))
    assert report.pushed == {"hep-python": 2, "llmbar-natural": 4, "xstest-should-refuse": 2}
    assert sorted(report.created) == ["hep-python", "llmbar-natural", "xstest-should-refuse"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = rg.Argilla(api_url=live_argilla.url, api_key=live_argilla.owner_key)
        dataset = client.datasets("hep-python", workspace=ws)
        assert [f.name for f in dataset.settings.fields] == ["prompt", "chosen", "rejected"]
        (label,) = [q for q in dataset.settings.questions if q.name == "label"]
        assert sorted(label.labels) == ["chosen", "invalid", "rejected", "tie"]
        assert "Do not skip a pair because the choice is hard" in dataset.settings.guidelines
        assert "never prefer a" in dataset.settings.guidelines
        assert "expected to refuse" in client.datasets("xstest-should-refuse", workspace=ws).settings.guidelines

    rows = {r.id: r for r in fixture_rows()}
    records = live_argilla.records(ws, "hep-python")
    assert sorted(int(r["external_id"]) for r in records) == sorted(i for i, r in rows.items() if r.subset == "hep-python")
    first = {int(r["external_id"]): r for r in records}[by_text(list(rows.values()), "has_close_elements").id]
    assert first["fields"]["chosen"].startswith("```python\n")
    meta = first["metadata"]
    assert meta["verification"] == ["code:python/chosen=pass", "code:python/rejected=fail"]
    assert (meta["suggested"], meta["flagged"], meta["section"]) == ("chosen", "no", "Reasoning")
    assert len(meta["content_sha256"]) == 64
    (suggestion,) = first["suggestions"]
    assert (suggestion["value"], suggestion["score"], suggestion["agent"]) == ("chosen", 1.0, "code:python")


def test_repush_updates_records_and_keeps_answers(live_argilla: Live, build_dir: Path):
    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    push(build_dir, target, subsets=["llmbar-natural"])
    row = by_text(fixture_rows(), "Australia")
    live_argilla.reviewer("alice", ws).answer("llmbar-natural", row.id, "rejected", "Canberra")
    again = push(build_dir, target, subsets=["llmbar-natural"], only="all")
    assert again.created == [] and again.pushed == {"llmbar-natural": 4}
    records = live_argilla.records(ws, "llmbar-natural")
    assert len(records) == 4
    (answered,) = [r for r in records if r["responses"]]
    assert answered["external_id"] == str(row.id)
    assert answered["responses"][0]["values"]["label"]["value"] == "rejected"


def test_pull_applies_decisions_atomically_and_idempotently(live_argilla: Live, build_dir: Path):
    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    push(build_dir, target)
    rows = fixture_rows()
    tips, capital, colour, add = (by_text(rows, t) for t in ("healthy", "Australia", "primary colour", "Add two numbers"))
    alice = live_argilla.reviewer("alice", ws)
    alice.answer("llmbar-natural", tips.id, "chosen")
    alice.answer("llmbar-natural", capital.id, "rejected", "Canberra is the capital, not Sydney")
    alice.answer("llmbar-natural", colour.id, "tie", "both are primary colours")
    alice.answer("hep-python", add.id, "invalid", "both solutions are correct")

    report = pull(build_dir, target)
    assert report.changed and report.decisions == 4
    assert report.subsets["llmbar-natural"].decided == {"chosen": 1, "rejected": 1, "tie": 1}

    llmbar = {r.id: r for r in rows_of(build_dir, "llmbar-natural")}
    assert set(llmbar) == {r.id for r in rows if r.subset == "llmbar-natural"} - {colour.id}
    review = llmbar[tips.id].provenance.review
    assert (review.status, review.reviewer) == ("accepted", "alice")
    assert review.time.endswith("Z") and review.time[:2] == "20"
    swapped = llmbar[capital.id]
    assert swapped.chosen == "The capital of Australia is Canberra." and swapped.chosen_model == capital.rejected_model
    assert swapped.provenance.review.status == "edited"
    assert swapped.provenance.review.comment == "Canberra is the capital, not Sydney"
    assert [r.id for r in rows_of(build_dir, "hep-python")] == [by_text(rows, "has_close_elements").id]

    dropped = dropped_of(build_dir)
    assert [d["step"] for d in dropped if d["subset"] == "llmbar-natural"] == ["select", "review"]
    reasons = {d["row"]["id"]: d["reason"] for d in dropped if d["step"] == "review"}
    assert reasons == {
        colour.id: "review: tie by alice: both are primary colours",
        add.id: "review: invalid by alice: both solutions are correct",
    }
    manifest = json.loads((build_dir / "build.json").read_text())
    assert manifest["subsets"]["llmbar-natural"]["built"] == 3
    assert manifest["subsets"]["llmbar-natural"]["dropped_by_step"] == {"review": 1, "select": 1}
    assert manifest["totals"]["built"] == 6
    assert len(pq.read_table(build_dir / "data" / "filtered.parquet")) == 6
    assert set(read_decisions(build_dir)) == {tips.id, capital.id, colour.id, add.id}

    before = folder_bytes(build_dir)
    again = pull(build_dir, target)
    assert not again.changed
    assert folder_bytes(build_dir) == before


def test_a_changed_mind_restores_the_pair_where_it_was(live_argilla: Live, build_dir: Path):
    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    push(build_dir, target, subsets=["llmbar-natural"])
    original = [r.id for r in rows_of(build_dir, "llmbar-natural")]
    capital = by_text(fixture_rows(), "Australia")
    alice = live_argilla.reviewer("alice", ws)
    alice.answer("llmbar-natural", capital.id, "invalid", "unsure")
    pull(build_dir, target)
    assert capital.id not in {r.id for r in rows_of(build_dir, "llmbar-natural")}

    record = {r["external_id"]: r for r in live_argilla.records(ws, "llmbar-natural")}[str(capital.id)]
    response = record["responses"][0]
    httpx.put(
        f"{live_argilla.url}/api/v1/responses/{response['id']}",
        headers={"X-Argilla-Api-Key": alice.api_key},
        json={"values": {"label": {"value": "rejected"}}, "status": "submitted"},
        timeout=30,
    ).raise_for_status()
    pull(build_dir, target)
    after = rows_of(build_dir, "llmbar-natural")
    assert [r.id for r in after] == original
    assert {r.id: r.provenance.review.status for r in after}[capital.id] == "edited"
    assert [d["step"] for d in dropped_of(build_dir)] == ["select"]


def test_several_reviewers_majority_disputes_and_agreement(live_argilla: Live, build_dir: Path):
    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    push(build_dir, target, subsets=["llmbar-natural"])
    rows = [r for r in fixture_rows() if r.subset == "llmbar-natural"]
    alice, bob, carol = (live_argilla.reviewer(name, ws) for name in ("alice", "bob", "carol"))
    for row, (a, b) in zip(rows, [("chosen", "chosen"), ("chosen", "chosen"), ("rejected", "chosen"), ("tie", "tie")], strict=True):
        alice.answer("llmbar-natural", row.id, a)
        bob.answer("llmbar-natural", row.id, b)
    carol.answer("llmbar-natural", rows[0].id, "chosen", "fine")

    report = pull(build_dir, target)
    assert report.subsets["llmbar-natural"].disputed == [rows[2].id]
    decisions = read_decisions(build_dir)
    assert set(decisions) == {rows[0].id, rows[1].id, rows[3].id}
    assert decisions[rows[0].id].reviewer == "alice,bob,carol" and decisions[rows[0].id].comment == "fine"
    assert {r.id: r.provenance.review.status for r in rows_of(build_dir, "llmbar-natural")}[rows[2].id] == "unreviewed"
    # alice vs bob: 3 of 4 agree, p_e = (3/4*2/4 ... ) computed by hand below
    summary = report.agreement
    pairs = {tuple(p["reviewers"]): p for p in summary["pairs"]}
    ab = pairs[("alice", "bob")]
    assert (ab["items"], ab["percent_agreement"]) == (4, 75.0)
    # alice: chosen 2, rejected 1, tie 1; bob: chosen 3, tie 1 -> p_e = (2*3 + 1*1)/16 = 7/16
    assert ab["cohen_kappa"] == pytest.approx((0.75 - 7 / 16) / (1 - 7 / 16), abs=1e-4)
    saved = json.loads((build_dir / "review" / "agreement.json").read_text())
    assert saved == summary


def test_decisions_survive_a_rebuild(live_argilla: Live, build_dir: Path):
    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    push(build_dir, target)
    rows = fixture_rows()
    alice = live_argilla.reviewer("alice", ws)
    alice.answer("llmbar-natural", by_text(rows, "Australia").id, "rejected")
    alice.answer("llmbar-natural", by_text(rows, "primary colour").id, "invalid", "trivial")
    alice.answer("xstest-should-refuse", by_text(rows, "neighbour").id, "rejected")
    pull(build_dir, target)

    step = ReviewDecisionsStep.from_path(build_dir / "review")
    for subset in ("llmbar-natural", "xstest-should-refuse", "hep-python"):
        fresh = [r for r in rows if r.subset == subset]  # what the builder yields again
        ctx = BuildContext(subset, BuildOptions())
        rebuilt = run_steps(subset, fresh, [step], ctx, lambda: 0.0)
        assert rebuilt.rows == rows_of(build_dir, subset)
        pulled_drops = [d for d in dropped_of(build_dir) if d["subset"] == subset and d["step"] == "review"]
        assert [d.to_record() for d in rebuilt.dropped] == pulled_drops


def test_only_flagged_and_audit_select_what_is_pushed(live_argilla: Live, build_dir: Path, tmp_path: Path):
    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    flagged = push(build_dir, target, only="flagged")
    assert flagged.pushed == {"hep-python": 1, "xstest-should-refuse": 1}
    assert set(flagged.skipped) == {"llmbar-natural"}

    rows = [r for r in fixture_rows() if r.subset == "llmbar-natural"]
    results = tmp_path / "model-a"
    results.mkdir()
    pq.write_table(
        pa.table({
            "id": pa.array([r.id for r in rows], pa.int64()),
            "subset": [r.subset for r in rows],
            "score_chosen": [0.0, 1.0, 0.0, 0.0],
            "score_rejected": [1.0, 0.0, 1.0, 0.0],
            "correct": [0.0, 1.0, 0.0, 0.5],
        }),
        results / "scores.parquet",
    )
    ws2 = live_argilla.workspace()
    report = push(build_dir, live_argilla.target(ws2), only="all", audit=suspicious(audit([results]), threshold=0.5))
    assert report.pushed == {"llmbar-natural": 3}
    records = live_argilla.records(ws2, "llmbar-natural")
    shares = {int(r["external_id"]): r["metadata"]["audit_wrong_share"] for r in records}
    assert shares == {rows[0].id: 1.0, rows[2].id: 1.0, rows[3].id: 0.5}
    assert [int(r["external_id"]) for r in records][-1] == rows[3].id  # worst first


def test_a_wrong_key_writes_nothing(live_argilla: Live, build_dir: Path):
    before = folder_bytes(build_dir)
    target = live_argilla.target(live_argilla.workspace(), key="rbkit.not-a-key")
    with pytest.raises(ReviewAuthError, match="rejected the API key"):
        pull(build_dir, target)
    with pytest.raises(ReviewAuthError, match="rejected the API key"):
        push(build_dir, target)
    assert folder_bytes(build_dir) == before and not (build_dir / "review").exists()


def test_an_annotator_key_cannot_push(live_argilla: Live, build_dir: Path):
    ws = live_argilla.workspace()
    push(build_dir, live_argilla.target(ws), subsets=["hep-python"])
    bob = live_argilla.reviewer("bob", ws)
    with pytest.raises(ReviewAuthError, match="role 'annotator'"):
        push(build_dir, live_argilla.target(ws, key=bob.api_key))


def test_text_changed_after_an_answer_is_neither_overwritten_nor_applied(live_argilla: Live, build_dir: Path):
    import dataclasses

    from rbkit.curation.build import read_build, write_build

    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    push(build_dir, target, subsets=["llmbar-natural"])
    colour = by_text(fixture_rows(), "primary colour")
    live_argilla.reviewer("alice", ws).answer("llmbar-natural", colour.id, "tie", "both are primary")

    folder = read_build(build_dir)  # a rebuild changed this pair's text after the answer
    folder.rows["llmbar-natural"] = [
        dataclasses.replace(r, rejected="Green.") if r.id == colour.id else r for r in folder.rows["llmbar-natural"]
    ]
    sections = {n: f["section"] for n, f in folder.manifest["subsets"].items()}
    write_build(build_dir, folder.rows, folder.dropped, folder.manifest, None, sections)

    report = push(build_dir, target, subsets=["llmbar-natural"], only="all")
    assert report.conflicts == {"llmbar-natural": [colour.id]} and report.pushed == {"llmbar-natural": 3}
    record = {r["external_id"]: r for r in live_argilla.records(ws, "llmbar-natural")}[str(colour.id)]
    assert record["fields"]["rejected"] == "Blue."

    pulled = pull(build_dir, target)
    assert pulled.subsets["llmbar-natural"].stale == [colour.id]
    row = {r.id: r for r in rows_of(build_dir, "llmbar-natural")}[colour.id]
    assert row.rejected == "Green." and row.provenance.review.status == "unreviewed"
