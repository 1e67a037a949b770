"""Real servers for the tests: ``rasa run`` + action server with a trained model.

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``), so the session-scoped
``rasa_bot`` fixture has exactly one definition and every test folder (web chat, console,
model) shares one running bot instead of loading the model again.

- ``rasa_bot``: ``rasa run`` (``$TEST_MODEL`` or the newest model in ``models/``,
  ``credentials.yml``, ``endpoints.yml``, HTTP API behind a token) plus the action server,
  each on a free port, with a fresh seeded SQLite database and tracker store. Skipped with a
  clear message when no model has been trained.
- ``bot``: the same, started again if a previous test stopped part of it. Tests that stop the
  Rasa server itself are marked ``stops_bot`` and run last (``tests/conftest.py``).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RASA_START_TIMEOUT_S = float(os.environ.get("WEBCHAT_TEST_RASA_TIMEOUT", "420"))


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


@dataclass
class ServerProcess:
    """A server subprocess that can be stopped and started again.

    Attributes:
        name: label for messages.
        cmd: the command line.
        env: its environment.
        ready_url: polled until it answers 200 (and, if ``ready_text`` is set, contains it).
        log_path: stdout+stderr of the process.
        timeout: seconds to wait for readiness.
        ready_text: text the ready page must contain.
    """

    name: str
    cmd: list[str]
    env: dict[str, str]
    ready_url: str
    log_path: Path
    timeout: float = 60.0
    ready_text: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def running(self) -> bool:
        """Whether the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.ready_url, timeout=3) as resp:
                body = resp.read().decode("utf-8", "replace")
                return resp.status == 200 and (self.ready_text is None or self.ready_text in body)
        except (OSError, urllib.error.HTTPError):
            return False

    def start(self) -> None:
        """Start the process and wait until it is ready (fail with its log otherwise)."""
        if self.running():
            return
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._ready():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready; log tail:\n{tail}")

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 20 s)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


@dataclass
class ChatServer:
    """A running chat server (stub or real) for the tests.

    Attributes:
        base_url: ``http://127.0.0.1:<port>``.
        chat_url: the chat page, ``<base_url>/webhooks/webchat/``.
        database_url: the feedback/business database of this server.
        secret: the web-chat token secret.
        servers: the processes, main server last.
        api_token: the Rasa HTTP API token (None for the stub's fixed token).
        widget_origin: the one web origin allowed to use the socket.io channel (a page the
            widget tests serve there embeds the stock rasa-webchat widget).
    """

    base_url: str
    database_url: str
    secret: str
    servers: list[ServerProcess]
    api_token: str
    widget_origin: str = ""

    @property
    def chat_url(self) -> str:
        """The chat page URL."""
        return f"{self.base_url}/webhooks/webchat/"

    @property
    def action_endpoint_url(self) -> str:
        """The action server's webhook (the first process of the real bot)."""
        return self.servers[0].ready_url.replace("/health", "/webhook")

    @property
    def main(self) -> ServerProcess:
        """The process serving HTTP (Rasa or the stub)."""
        return self.servers[-1]

    def ensure_running(self) -> None:
        """Start any stopped process (dependencies first)."""
        for server in self.servers:
            server.start()

    def stop_all(self) -> None:
        """Stop every process (main server first)."""
        for server in reversed(self.servers):
            server.stop()


def migrated_sqlite(tmp: Path, name: str) -> str:
    url = f"sqlite:///{tmp / name}"
    from bot.db import migrate

    migrate.upgrade(url)
    return url


def latest_model() -> Path | None:
    env = os.environ.get("TEST_MODEL")
    if env:
        return Path(env) if Path(env).exists() else None
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


@pytest.fixture(scope="session")
def rasa_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    """``rasa run`` + ``rasa run actions`` on free ports with a trained model.

    Skips when no model exists (``make train`` / ``python -m bot train`` makes one).
    """
    model = latest_model()
    if model is None:
        pytest.skip(
            "no trained model in models/ (or $TEST_MODEL): train one with `python -m bot train`"
        )
    tmp = tmp_path_factory.mktemp("webchat_rasa")
    database_url = f"sqlite:///{tmp / 'ehuzheng.db'}"
    secret = secrets.token_urlsafe(32)
    api_token = secrets.token_urlsafe(24)
    rasa_port, actions_port = free_port(), free_port()
    widget_origin = f"http://localhost:{free_port()}"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        TRACKER_DATABASE_URL=f"sqlite:///{tmp / 'tracker.db'}",
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        LOCK_STORE_TYPE="in_memory",
        REDIS_HOST="127.0.0.1",
        REDIS_PORT="6379",
        WEBCHAT_SECRET=secret,
        SOCKETIO_CORS_ORIGINS=widget_origin,
        RASA_AUTH_TOKEN=api_token,
        ACTION_SERVER_TOKEN=secrets.token_urlsafe(24),
        PYTHONPATH=str(ROOT),
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        RASA_TELEMETRY_ENABLED="false",
    )
    seed = subprocess.run(
        [sys.executable, "-m", "bot.db", "seed", "--residents", "20000"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if seed.returncode != 0:
        raise RuntimeError(f"seeding the test database failed:\n{seed.stdout}\n{seed.stderr}")
    actions_cmd = [sys.executable, "-m", "bot.action_server", "--port", str(actions_port)]
    actions = ServerProcess(
        name="action server",
        cmd=actions_cmd,
        env=env,
        ready_url=f"http://127.0.0.1:{actions_port}/health",
        log_path=tmp / "actions.log",
        timeout=180,
    )
    server = ServerProcess(
        name="rasa server",
        cmd=[
            sys.executable,
            "-m",
            "bot.rasa_server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(rasa_port),
        ],
        env=env,
        ready_url=f"http://127.0.0.1:{rasa_port}/webhooks/webchat/health",
        ready_text='"ready":true',
        log_path=tmp / "rasa.log",
        timeout=RASA_START_TIMEOUT_S,
    )
    chat = ChatServer(
        base_url=f"http://127.0.0.1:{rasa_port}",
        database_url=database_url,
        secret=secret,
        servers=[actions, server],
        api_token=api_token,
        widget_origin=widget_origin,
    )
    chat.ensure_running()
    yield chat
    chat.stop_all()


@pytest.fixture()
def bot(rasa_bot: ChatServer) -> ChatServer:
    """The real bot, started again if a previous test stopped part of it."""
    rasa_bot.ensure_running()
    return rasa_bot
