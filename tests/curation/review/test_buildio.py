"""A pull's folder rewrite equals a rebuild with --review-decisions, every file (no server needed).

The pull's own steps after reading Argilla (`reapply`, `updated_manifest`, `rewrite`) run on a
folder built from two tiny in-memory subsets; a swap moves the "pick the longer" ruler and the
gate verdict, a drop removes a prompt that another subset shares, so rulers, counts, the
cross-subset dedup report and the card must all be re-derived for the bytes to match.
"""

from __future__ import annotations

import json
from pathlib import Path

from rbkit.curation.build import read_build, run_build
from rbkit.curation.pipeline import BuildOptions
from rbkit.curation.registry import SubsetSpec
from rbkit.curation.review.buildio import REVIEW_DIR, rewrite, updated_manifest
from rbkit.curation.review.decisions import DECISIONS_FILE, Decision, write_decisions
from rbkit.curation.review.pairs import content_sha256
from rbkit.curation.review.pull import reapply
from rbkit.curation.rows import Provenance, TrioRow, stable_id

SHARED_PROMPT = "Name three prime numbers between ten and twenty."


def row(subset: str, i: int, prompt: str) -> TrioRow:
    key = f"{subset}#{i}"
    return TrioRow(
        prompt=prompt,
        chosen=f"A careful and complete answer number {i}, longer than the other one.",
        chosen_model="a",
        rejected=f"Short {i}.",
        rejected_model="b",
        subset=subset,
        id=stable_id(subset, key),
        provenance=Provenance("toy", "toy.json", "rev", "0" * 64, key, "tests", "1"),
    )


ROWS = {
    "toy-chat": [row("toy-chat", i, SHARED_PROMPT if i == 2 else f"Question {i} about apples?") for i in range(6)],
    "toy-hard": [row("toy-hard", i, SHARED_PROMPT if i == 0 else f"Hard question {i} on pears?") for i in range(3)],
}


def spec(name: str, section: str) -> SubsetSpec:
    return SubsetSpec(
        name=name, section=section, source="toy", license="MIT", expected=None, sources=(), build=lambda ctx: iter(ROWS[name])
    )


SPECS = [spec("toy-chat", "Chat"), spec("toy-hard", "Chat Hard")]


def decision(target: TrioRow, label: str, comment: str | None = None) -> Decision:
    return Decision(target.id, target.subset, content_sha256(target), label, "alice", "2024-05-01T10:00:00Z", comment, {"alice": label})


def folder_files(build: Path) -> dict[str, bytes]:
    """Every file but timings.json and review/ (the decisions: the rebuild's input)."""
    return {
        name: p.read_bytes()
        for p in sorted(build.rglob("*"))
        if p.is_file() and (name := p.relative_to(build).as_posix()) != "timings.json" and not name.startswith(f"{REVIEW_DIR}/")
    }


def test_a_pulled_folder_equals_a_rebuild_with_the_decisions_in_every_file(tmp_path: Path):
    reviewed, rebuilt = tmp_path / "reviewed", tmp_path / "rebuilt"
    run_build(SPECS, reviewed, BuildOptions())
    before = json.loads((reviewed / "build.json").read_text())
    chat = ROWS["toy-chat"]
    decisions = {
        d.id: d
        for d in (
            decision(chat[0], "chosen"),
            decision(chat[1], "rejected", "the short one is right"),
            decision(chat[2], "invalid", "ambiguous"),
        )
    }
    write_decisions(reviewed / REVIEW_DIR / DECISIONS_FILE, decisions.values())

    pull_rewrite(reviewed, decisions)
    after = json.loads((reviewed / "build.json").read_text())

    # What the rewrite must have re-derived (each differs from the pre-review build).
    facts = after["subsets"]["toy-chat"]
    assert facts["rulers"]["n"] == 5 and facts["rulers"]["longer"]["accuracy"] == 0.8
    assert before["subsets"]["toy-chat"]["rulers"]["longer"]["accuracy"] == 1.0
    assert (before["subsets"]["toy-chat"]["gate"]["status"], facts["gate"]["status"]) == ("warn", "ok")
    assert facts["built"] == 5 and facts["dropped_by_step"] == {"review": 1}
    assert after["totals"]["built"] == before["totals"]["built"] - 1
    assert before["dedup"]["rows"] == 9 and after["dedup"]["rows"] == 8
    assert before["dedup"]["pairs"] and not after["dedup"]["pairs"]
    assert "80.0%" in (reviewed / "README.md").read_text()

    run_build(SPECS, rebuilt, BuildOptions(review_dir=reviewed / REVIEW_DIR))
    pulled_files, rebuilt_files = folder_files(reviewed), folder_files(rebuilt)
    assert sorted(pulled_files) == sorted(rebuilt_files)
    assert {"README.md", "build.json", "dropped.jsonl", "data/toy-chat.parquet", "data/filtered.parquet"} <= set(pulled_files)
    for name in pulled_files:
        assert pulled_files[name] == rebuilt_files[name], name


def pull_rewrite(out: Path, decisions: dict[int, Decision]) -> dict:
    """The folder half of `rbkit review pull`; returns the build.json it wrote."""
    folder = read_build(out)
    redone = reapply(folder, folder.subsets, decisions)
    manifest = updated_manifest(folder.manifest, redone.rows, redone.dropped, redone.reports)
    rewrite(folder, redone.rows, redone.dropped, manifest)
    return manifest


def test_a_second_rewrite_with_the_same_decisions_changes_nothing(tmp_path: Path):
    out = tmp_path / "out"
    run_build(SPECS, out, BuildOptions())
    decisions = {d.id: d for d in (decision(ROWS["toy-chat"][1], "rejected"), decision(ROWS["toy-hard"][1], "tie"))}
    pull_rewrite(out, decisions)
    once = folder_files(out)
    assert pull_rewrite(out, decisions) == read_build(out).manifest
    assert folder_files(out) == once
