"""The local server through the CLI: status, stop, serve again with the data still there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rbkit.curation.review.local_server import LocalArgilla, _alive
from rbkit.curation.review.push import push
from rbkit.curation.review.server_plugin import LAUNCHER

from tests.curation.review.conftest import Live

pytestmark = [pytest.mark.argilla, pytest.mark.slow]


def rbkit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("rbkit")), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=400, env={**os.environ, **(env or {})})


def test_status_stop_and_serve_again_keep_data_and_credentials(live_argilla: Live, build_dir: Path):
    server = live_argilla.server
    home = str(server.home)
    ws = live_argilla.workspace()
    push(build_dir, live_argilla.target(ws), subsets=["hep-python"])

    status = rbkit("review", "status", "--home", home)
    assert status.returncode == 0, status.stderr
    assert live_argilla.url in status.stdout and live_argilla.owner_key in status.stdout

    pids = server.read_state().pids
    stopped = rbkit("review", "stop", "--home", home)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped server, worker, redis" in stopped.stdout
    markers = {"server": str(LAUNCHER), "worker": str(LAUNCHER), "redis": str(server.redis_socket)}
    assert not any(_alive(pid, markers[name]) for name, pid in pids.items())
    assert "no local Argilla running" in rbkit("review", "status", "--home", home).stdout

    env = {"RBKIT_ARGILLA_VENV": str(server.venv)}
    served = rbkit("review", "serve", "--home", home, "--port", str(server.port), env=env)
    assert served.returncode == 0, served.stdout + served.stderr
    assert f"Argilla is running at {live_argilla.url}" in served.stdout
    assert f"password: {live_argilla.owner_password}" in served.stdout
    assert f"API key:  {live_argilla.owner_key}" in served.stdout
    assert len(live_argilla.records(ws, "hep-python")) == 2  # SQLite kept the data


def test_serving_twice_reuses_the_running_server(live_argilla: Live):
    again = LocalArgilla(live_argilla.server.home, venv=live_argilla.server.venv, port=live_argilla.server.port)
    before = again.read_state()
    assert again.start() == before


def test_a_taken_port_is_a_clear_error(live_argilla: Live, tmp_path: Path):
    other = LocalArgilla(tmp_path / "other", venv=live_argilla.server.venv, port=live_argilla.server.port)
    with pytest.raises(Exception, match=f"port {live_argilla.server.port} .* is in use"):
        other.start()
    assert other.read_state() is None
