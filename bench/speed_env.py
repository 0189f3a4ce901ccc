"""The original evaluator's own virtual environment, created once and reused.

RewardBench 0.1.4 pins transformers 4.51 and imports pkg_resources (setuptools<81), so it
cannot share rbkit's venv. torch is pinned to the same CPU build as rbkit's (from /opt/wheels
when that folder exists) so both sides run the same kernels. A stamp file holding the exact
requirement list makes the setup idempotent: it reruns only when the list changes or the
stamp is missing (an interrupted install).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REQUIREMENTS: tuple[str, ...] = ("rewardbench==0.1.4", "setuptools<81", "torch==2.13.0")
WHEELS = Path("/opt/wheels")
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError(
            "bench: `uv` is not on PATH; it creates the original evaluator's venv "
            "(install it with `python3 -m pip install uv`)"
        )
    return uv


def ensure_original_venv(cache: Path) -> Path:
    """Create (or reuse) the venv with rewardbench 0.1.4 and return its python."""
    venv = cache / "rewardbench-0.1.4-venv"
    python = venv / "bin" / "python"
    stamp = venv / ".rbkit-bench-stamp.json"
    wanted = {"requirements": list(REQUIREMENTS), "python": PYTHON_VERSION}
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return python
    uv = _uv()
    print(f"bench: creating the original evaluator's venv in {venv}", flush=True)
    stamp.unlink(missing_ok=True)
    subprocess.run(
        [uv, "venv", str(venv), "--python", PYTHON_VERSION, "--allow-existing", "--quiet"],
        check=True,
    )
    find_links = ["--find-links", str(WHEELS)] if WHEELS.is_dir() else []
    subprocess.run(
        [uv, "pip", "install", "--python", str(python), "--quiet", *find_links, *REQUIREMENTS],
        check=True,
    )
    probe = subprocess.run(
        [str(python), "-c", "import rewardbench, torch; print(rewardbench.__version__, torch.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    )
    print(f"bench: original venv ready (rewardbench, torch: {probe.stdout.strip()})", flush=True)
    stamp.write_text(json.dumps(wanted))
    return python
