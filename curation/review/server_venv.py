"""The separate virtual environment that runs argilla-server.

argilla-server 2.8.0 pins fastapi, pydantic, typer<0.10 and more that clash with rbkit's own
environment, and its command line breaks with click>=8.2, so it gets an environment of its
own, made with uv. A marker file records what was installed; a half-made environment (no
marker, or an older one) is removed and made again, so the step is safe to repeat.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rbkit.core.files import atomic_write
from rbkit.core.paths import cache_root
from rbkit.core.tail import tail
from rbkit.curation.review.connection import ReviewError

ARGILLA_SERVER_VERSION = "2.8.0"
REQUIREMENTS: tuple[str, ...] = (f"argilla-server=={ARGILLA_SERVER_VERSION}", "click<8.2")
MARKER = ".rbkit-argilla-venv.json"


class ServerSetupError(ReviewError):
    """The local Argilla server cannot be installed or started."""


def default_venv() -> Path:
    value = os.environ.get("RBKIT_ARGILLA_VENV")
    return Path(value).expanduser() if value else cache_root() / "argilla-venv"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _wanted() -> dict[str, object]:
    return {"requirements": list(REQUIREMENTS), "python": f"{sys.version_info.major}.{sys.version_info.minor}"}


def is_ready(venv: Path) -> bool:
    marker = venv / MARKER
    if not marker.is_file() or not venv_python(venv).exists():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")) == _wanted()
    except ValueError:
        return False


def ensure_venv(venv: Path | None = None, progress: Callable[[str], None] = lambda m: None) -> Path:
    """Make (once) the argilla-server environment; returns its Python."""
    venv = (venv or default_venv()).resolve()
    if is_ready(venv):
        return venv_python(venv)
    uv = shutil.which("uv")
    if uv is None:
        raise ServerSetupError(
            "uv is needed to install argilla-server in its own environment but is not on PATH; "
            "install it with `pip install uv` (or `make venv`, which does)"
        )
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two commands starting at once build it once
        if is_ready(venv):
            return venv_python(venv)
        if venv.exists():
            shutil.rmtree(venv)
        progress(f"installing argilla-server {ARGILLA_SERVER_VERSION} into {venv} (once)")
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        steps = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(venv_python(venv)), *REQUIREMENTS],
        ]
        for command in steps:
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
            if result.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                raise ServerSetupError(
                    f"installing argilla-server failed: `{' '.join(command)}` exited {result.returncode}:\n"
                    f"{tail(result.stderr or result.stdout)}"
                )
        atomic_write(venv / MARKER, json.dumps(_wanted(), sort_keys=True))
    return venv_python(venv)
