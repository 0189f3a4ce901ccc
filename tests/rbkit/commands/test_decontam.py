"""`rbkit decontam` end to end: a build folder and a prompts file in, a report and clean rows out."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rbkit.curation.rows import Provenance, TrioRow
from rbkit.curation.trio_io import to_table, write_parquet

RBKIT = [sys.executable, "-m", "rbkit"]
BENCH = "Write a haiku about autumn leaves falling slowly into a quiet river under the pale moon light tonight."


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RBKIT, "decontam", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def case(tmp_path: Path) -> Path:
    prov = Provenance("t", "f.jsonl", "local", "0" * 64, "f#1", "spec:t", "1")
    write_parquet(to_table([TrioRow(BENCH, "yes", "m", "no", "m", "llmbar-natural", 42, prov)]), tmp_path / "out" / "data" / "llmbar-natural.parquet")
    (tmp_path / "out" / "build.json").write_text(json.dumps({"subsets": {"llmbar-natural": {"built": 1}}}))
    rows = [{"id": "t1", "prompt": "Please: " + BENCH.upper()}, {"id": "t2", "prompt": "How do tides work on a planet with two moons?"}]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_report_names_the_subset_and_evidence_and_out_drops_the_match(case: Path):
    proc = run("--prompts", str(case / "train.jsonl"), "--id-field", "id", "--against", str(case / "out"),
               "--report", str(case / "report.json"), "--out", str(case / "clean.jsonl"), "--fail-on-match")
    assert proc.returncode == 1, proc.stderr
    assert "llmbar-natural: 1 prompt(s)" in proc.stdout
    report = json.loads((case / "report.json").read_text())
    [m] = report["sources"]["llmbar-natural"]["matches"]
    assert (m["prompt_id"], m["reference_id"], m["score"]) == ("t1", "42", 1.0)
    assert m["ngram"] == "write a haiku about autumn leaves falling slowly into a quiet river under"
    assert [json.loads(line)["id"] for line in (case / "clean.jsonl").read_text().splitlines()] == ["t2"]


def test_keep_flags_matching_rows_instead_of_dropping_them(case: Path):
    proc = run("--prompts", str(case / "train.jsonl"), "--against", str(case / "out"), "--report", str(case / "r.json"),
               "--out", str(case / "flagged.jsonl"), "--keep")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (case / "flagged.jsonl").read_text().splitlines()]
    assert [len(r["decontam"]) for r in rows] == [1, 0]
    assert rows[0]["decontam"][0]["reference_source"] == "llmbar-natural"


def test_unreachable_hub_dataset_is_one_clear_error(case: Path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run("--prompts", str(case / "train.jsonl"), "--against", "my-org/my-train-set", "--report", str(case / "r.json"),
               env={"HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HUB_OFFLINE": "0", "HF_HOME": str(case / "hf")})
    assert proc.returncode == 1
    [line] = proc.stderr.strip().splitlines()
    assert "Hub dataset my-org/my-train-set: the Hub is not reachable" in line and "--against-file" in line
    assert not (case / "r.json").exists()
