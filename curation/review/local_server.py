"""`rbkit review serve`: a local Argilla for one curator, started and stopped cleanly.

One module, past 400 lines, on purpose: the three processes are started, watched and stopped as
one unit, and their shared state file is the only contract between `serve`, `status` and `stop`.

Three processes, each in its own process group so that `stop` can end them and their
children and nothing else:
- redis-server (Debian's), on a private Unix socket in the server's home: argilla's job queue
  (not persisted: it only holds jobs in flight, and a failed final save would block shutdown);
- argilla-server 2.8.0 from its own environment (`server_venv`), with SQLite for data and
  rbkit's in-process search engine (`server_plugin/sql_search.py`) instead of Elasticsearch;
- argilla's rq worker, for the jobs the server queues (e.g. after dataset settings change).

Everything lives under one home folder (default `$RBKIT_CACHE/argilla`, i.e.
`~/.cache/rbkit/argilla`): the SQLite database, logs, the running state
(`server.json`) and the generated credentials (`credentials.json`, mode 600). Data persists
across restarts; the owner account and its API key are made on the first start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from rbkit.core.files import atomic_write
from rbkit.core.paths import cache_root
from rbkit.core.tail import tail, tail_file
from rbkit.curation.review.server_plugin import LAUNCHER
from rbkit.curation.review.server_venv import (
    ARGILLA_SERVER_VERSION,
    ServerSetupError,
    default_venv,
    ensure_venv,
)

ENGINE_NAME = "rbkit-sql"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 6900
DEFAULT_USERNAME = "curator"
DEFAULT_WORKSPACE = "rbkit"
COMPONENTS = ("server", "worker", "redis")  # stop order: redis last, the others use it


def default_home() -> Path:
    return cache_root() / "argilla"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    api_key: str
    workspace: str = DEFAULT_WORKSPACE


@dataclass(frozen=True)
class ServerState:
    url: str
    host: str
    port: int
    pids: dict[str, int]
    home: str
    argilla_server: str = ARGILLA_SERVER_VERSION


def _alive(pid: int, marker: str) -> bool:
    """The pid runs and is still ours: its command line names `marker` (a path of ours).

    A zombie has an empty command line, so it reads as stopped.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return marker in cmdline


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class LocalArgilla:
    """A local argilla-server with redis and rbkit's search engine, under one home folder."""

    def __init__(
        self,
        home: Path | None = None,
        *,
        venv: Path | None = None,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        username: str = DEFAULT_USERNAME,
        workspace: str = DEFAULT_WORKSPACE,
    ):
        self.home = (home or default_home()).expanduser().resolve()
        self.venv = (venv or default_venv()).expanduser().resolve()
        self.host, self.port = host, port
        self.username, self.workspace = username, workspace

    # --- paths ---------------------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return self.home / "server.json"

    @property
    def credentials_file(self) -> Path:
        return self.home / "credentials.json"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def redis_dir(self) -> Path:
        return self.home / "redis"

    @property
    def redis_socket(self) -> Path:
        """A Unix socket path (kept under the 107-byte limit even for deep home folders)."""
        path = self.redis_dir / "redis.sock"
        if len(str(path)) < 100:
            return path
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"rbkit-redis-{digest}.sock"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment for every argilla-server process: data home, SQLite, redis, engine."""
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        env.update(
            ARGILLA_HOME_PATH=str(self.home),
            ARGILLA_DATABASE_URL=f"sqlite+aiosqlite:///{self.home / 'argilla.db'}?check_same_thread=False",
            ARGILLA_REDIS_URL=f"unix://{self.redis_socket}?db=0",
            ARGILLA_SEARCH_ENGINE=ENGINE_NAME,
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_OFFLINE="1",
            PYTHONUNBUFFERED="1",
        )
        return env

    # --- state -----------------------------------------------------------------------------

    def _markers(self) -> dict[str, str]:
        return {"server": str(LAUNCHER), "worker": str(LAUNCHER), "redis": str(self.redis_socket)}

    def read_state(self) -> ServerState | None:
        if not self.state_file.is_file():
            return None
        try:
            return ServerState(**json.loads(self.state_file.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            return None

    def running(self) -> dict[str, bool]:
        """Which of our processes are alive, per the saved state."""
        state = self.read_state()
        markers = self._markers()
        if state is None:
            return {}
        return {name: _alive(pid, markers[name]) for name, pid in state.pids.items()}

    def healthy(self, url: str | None = None, timeout: float = 3.0) -> bool:
        try:
            response = httpx.get(f"{url or self.url}/api/v1/status", timeout=timeout)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def credentials(self) -> Credentials | None:
        if not self.credentials_file.is_file():
            return None
        return Credentials(**json.loads(self.credentials_file.read_text(encoding="utf-8")))

    # --- start -----------------------------------------------------------------------------

    def start(self, *, timeout: float = 240.0, progress: Callable[[str], None] = lambda m: None) -> ServerState:
        """Start (or find running) redis, argilla-server and its worker; wait until healthy."""
        state = self.read_state()
        if state is not None:
            alive = self.running()
            if alive and all(alive.values()) and self.healthy(state.url):
                return state
            progress("cleaning up a previous run that did not stop cleanly")
            self.stop()
        redis = shutil.which("redis-server")
        if redis is None:
            raise ServerSetupError(
                "redis-server is not installed; run `scripts/install-review-deps` "
                "(or `apt-get install redis-server`)"
            )
        if not _port_free(self.host, self.port):
            raise ServerSetupError(f"port {self.port} on {self.host} is in use; pass --port to choose another")
        python = ensure_venv(self.venv, progress)
        for folder in (self.home, self.logs, self.redis_dir):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)

        children: dict[str, subprocess.Popen[bytes]] = {}
        try:
            progress("starting redis")
            children["redis"] = self._spawn(
                "redis",
                [
                    redis, "--port", "0", "--unixsocket", str(self.redis_socket), "--unixsocketperm", "700",
                    "--dir", str(self.redis_dir), "--save", "", "--appendonly", "no",
                    "--daemonize", "no", "--logfile", "",
                    # the title keeps the socket path visible, which is how stop() knows it is ours
                    "--proc-title-template", "{title} {unixsocket}",
                ],
            )
            self._wait_for_redis(children["redis"], deadline=time.monotonic() + 30)
            self._migrate(python, progress)
            self._ensure_owner(python, progress)
            progress("starting argilla-server")
            children["server"] = self._spawn(
                "server",
                [str(python), str(LAUNCHER), "start", "--host", self.host, "--port", str(self.port), "--no-access-log"],
            )
            children["worker"] = self._spawn("worker", [str(python), str(LAUNCHER), "worker", "--num-workers", "1"])
            self._wait_healthy(children, deadline=time.monotonic() + timeout)
        except BaseException:
            _end_children(children)
            raise
        state = ServerState(self.url, self.host, self.port, {n: c.pid for n, c in children.items()}, str(self.home))
        atomic_write(self.state_file, json.dumps(asdict(state), indent=2, sort_keys=True) + "\n", mode=0o644)
        return state

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (handed to the child)
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env(),
                cwd=self.home,
                start_new_session=True,  # own process group: stop() ends it and its children
            )
        finally:
            log.close()
        return process

    def _wait_for_redis(self, child: subprocess.Popen[bytes], deadline: float) -> None:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise ServerSetupError(f"redis-server exited at start:\n{tail_file(self.logs / 'redis.log', missing='(no log)')}")
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(2)
                    sock.connect(str(self.redis_socket))
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise ServerSetupError(f"redis-server did not answer on {self.redis_socket}:\n{tail_file(self.logs / 'redis.log', missing='(no log)')}")

    def _run(self, python: Path, args: list[str], what: str) -> str:
        result = subprocess.run(
            [str(python), str(LAUNCHER), *args],
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            timeout=600,
        )
        output = result.stdout + result.stderr
        with open(self.logs / "setup.log", "a", encoding="utf-8") as log:
            log.write(f"$ argilla_server {' '.join(a if 'password' not in a else '***' for a in args[:4])} ...\n{output}\n")
        if result.returncode != 0:
            raise ServerSetupError(f"{what} failed (exit {result.returncode}):\n{tail(output)}")
        return output

    def _migrate(self, python: Path, progress: Callable[[str], None]) -> None:
        """Run argilla's database migrations when the database is new or the server changed."""
        marker = self.home / "migrated"
        if marker.is_file() and marker.read_text().strip() == ARGILLA_SERVER_VERSION and (self.home / "argilla.db").is_file():
            return
        progress("migrating the database")
        self._run(python, ["database", "migrate"], "argilla-server database migration")
        atomic_write(marker, ARGILLA_SERVER_VERSION + "\n")

    def _ensure_owner(self, python: Path, progress: Callable[[str], None]) -> None:
        """Create the owner account once; its password and API key go to credentials.json."""
        if self.credentials() is not None:
            return
        progress(f"creating owner {self.username!r}")
        creds = Credentials(
            username=self.username,
            password=secrets.token_urlsafe(12),
            api_key="rbkit." + secrets.token_urlsafe(24),
            workspace=self.workspace,
        )
        output = self._run(
            python,
            [
                "database", "users", "create",
                "--first-name", "rbkit curator", "--username", creds.username, "--role", "owner",
                "--password", creds.password, "--api-key", creds.api_key, "--workspace", creds.workspace,
            ],
            "creating the owner account",
        )
        if "already exists" in output:
            raise ServerSetupError(
                f"user {creds.username!r} already exists in {self.home / 'argilla.db'} but "
                f"{self.credentials_file} is missing; restore that file or remove {self.home} to start afresh"
            )
        atomic_write(self.credentials_file, json.dumps(asdict(creds), indent=2, sort_keys=True) + "\n", mode=0o600)

    def _wait_healthy(self, children: dict[str, subprocess.Popen[bytes]], deadline: float) -> None:
        while time.monotonic() < deadline:
            for name, child in children.items():
                if child.poll() is not None:
                    raise ServerSetupError(f"{name} exited at start:\n{tail_file(self.logs / f'{name}.log', missing='(no log)')}")
            if self.healthy():
                return
            time.sleep(0.25)
        raise ServerSetupError(f"argilla-server did not become healthy at {self.url}:\n{tail_file(self.logs / 'server.log', missing='(no log)')}")

    # --- stop ------------------------------------------------------------------------------

    def _terminate(self, pids: dict[str, int], timeout: float = 30.0) -> list[str]:
        markers = self._markers()
        stopped = []
        for name in COMPONENTS:
            pid = pids.get(name)
            if pid is None or not _alive(pid, markers[name]):
                continue
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + timeout
            while _alive(pid, markers[name]) and time.monotonic() < deadline:
                _reap(pid)
                time.sleep(0.1)
            if _alive(pid, markers[name]):
                os.killpg(pid, signal.SIGKILL)
                _reap(pid)
            stopped.append(name)
        return stopped

    def stop(self, timeout: float = 30.0) -> list[str]:
        """Stop our processes (verified by their command lines); returns which were running."""
        state = self.read_state()
        if state is None:
            return []
        stopped = self._terminate(state.pids, timeout)
        self.state_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> dict[str, Any]:
        state = self.read_state()
        creds = self.credentials()
        alive = self.running()
        return {
            "home": str(self.home),
            "running": bool(alive) and all(alive.values()),
            "healthy": state is not None and self.healthy(state.url),
            "url": state.url if state else None,
            "components": alive,
            "username": creds.username if creds else None,
            "password": creds.password if creds else None,
            "api_key": creds.api_key if creds else None,
            "workspace": creds.workspace if creds else None,
        }


def _end_children(children: dict[str, subprocess.Popen[bytes]], timeout: float = 30.0) -> None:
    """Undo a failed start: end the process groups of the children we hold, newest first."""
    for child in reversed(list(children.values())):
        if child.poll() is not None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def _reap(pid: int) -> None:
    """Collect a child we started in this process, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def local_target(home: Path | None = None) -> tuple[str, str] | None:
    """(url, api key) of the local server when it runs; for `connection.resolve_target`."""
    server = LocalArgilla(home)
    state, creds = server.read_state(), server.credentials()
    if state is None or creds is None:
        return None
    alive = server.running()
    if not alive or not all(alive.values()):
        return None
    return state.url, creds.api_key
