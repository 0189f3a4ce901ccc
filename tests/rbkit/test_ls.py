"""`rbkit ls` reads at 80 columns: every subset name whole on its line, nothing past column 80."""

from __future__ import annotations

import json
import os
import subprocess
import sys

RBKIT = [sys.executable, "-m", "rbkit"]


def ls(*args: str, columns: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([*RBKIT, "ls", *args], capture_output=True, text=True, env=env, check=True)


def test_names_never_truncate_at_80_columns():
    names = [r["subset"] for r in json.loads(ls("--json", columns=80).stdout)]
    lines = ls(columns=80).stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    starts = [line.split()[0] for line in lines if line.strip() and not line.startswith(" ")]
    for name in names:
        assert name in starts, f"{name!r} is not shown whole at the start of a line"
    assert "…" not in "\n".join(lines)
    header = next(line for line in lines if line.startswith("subset"))
    assert header.split() == ["subset", "section", "source", "expected", "license", "verification"]


def test_wide_terminals_keep_one_line_per_subset():
    names = [r["subset"] for r in json.loads(ls("--json", columns=200).stdout)]
    body = [line for line in ls(columns=200).stdout.splitlines() if line.strip()]
    assert len(body) == len(names) + 2 + 1  # title, header, footnote on the stand-in sources


def test_long_and_json_carry_each_subset_description():
    """What a subset's rows hold is part of the listing (e.g. hep-*: the solution code alone)."""
    rows = {r["subset"]: r for r in json.loads(ls("--json", columns=80).stdout)}
    assert "solution code only, as in RewardBench" in rows["hep-python"]["description"]
    lines = ls("--long", columns=200).stdout.splitlines()
    header = next(line for line in lines if line.startswith("subset"))
    assert header.split()[-1] == "description"
    assert "solution code only" in " ".join(lines)
