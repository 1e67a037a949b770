"""The shared services for the cluster tests, each test getting its own part of them.

- RabbitMQ (127.0.0.1:5672): a uniquely named exchange and queue per test, deleted after.
- Redis: a private ``redis-server`` on a free port (a test may stop it).
- PostgreSQL: a private cluster (``initdb`` + ``pg_ctl``) in a temporary directory (a test may
  restart it); the machine's shared server is never stopped.

Without a service the tests are skipped, except under ``CI`` where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

RABBITMQ = ("127.0.0.1", 5672)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_block(size: int) -> int:
    """The first of ``size`` consecutive ports free on 127.0.0.1 right now."""
    for _ in range(50):
        base = free_port()
        if base + size < 65535 and all(_is_free(base + i) for i in range(1, size)):
            return base
    raise RuntimeError("no block of free ports")


def _is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def missing(what: str) -> None:
    """Skip (fail under ``CI``) because a service or tool is not available."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} is not available")


def unique(prefix: str) -> str:
    """A name no other test (or person) on this machine uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass
class RabbitNames:
    """An exchange and a queue of one test on the shared RabbitMQ."""

    exchange: str
    queue: str


def broker_config(port: int, names: RabbitNames) -> Any:
    """The endpoint config of a test's event broker (RabbitMQ on ``port``, e.g. a proxy)."""
    from rasa.utils.endpoints import EndpointConfig

    return EndpointConfig(
        url="127.0.0.1",
        port=port,
        username="guest",
        password="guest",
        exchange_name=names.exchange,
        queues=[names.queue],
        max_backoff=0.5,
    )


def delete_rabbit_names(names: RabbitNames) -> None:
    """Delete a test's queue and exchange (best effort)."""
    import asyncio

    import aio_pika

    async def drop() -> None:
        conn = await aio_pika.connect(host=RABBITMQ[0], port=RABBITMQ[1], timeout=5)
        async with conn:
            channel = await conn.channel()
            await channel.queue_delete(names.queue)
            await channel.exchange_delete(names.exchange)

    try:
        asyncio.run(drop())
    except Exception:  # noqa: BLE001 - cleanup only
        pass


class RedisServer:
    """A private redis-server on a free port that a test can stop and start."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (again) on the same port, without persistence."""
        binary = shutil.which("redis-server")
        if binary is None:
            missing("redis-server")
        self.proc = subprocess.Popen(
            [
                str(binary),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not reachable("127.0.0.1", self.port, 0.5):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop it (SIGTERM)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


class PostgresServer:
    """A private PostgreSQL cluster in a temporary directory (trust auth, user postgres)."""

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's tmp_path: the postgres user must be able to reach it.
        self.workdir = Path(tempfile.mkdtemp(prefix="ehuzheng-pg-"))
        self.datadir = self.workdir / "pgdata"
        self.logfile = self.workdir / "postgres.log"
        self.bindir = self._bindir()

    @staticmethod
    def _bindir() -> Path:
        found = shutil.which("pg_ctl")
        if found:
            return Path(found).resolve().parent
        for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            if (candidate / "pg_ctl").exists():
                return candidate
        missing("PostgreSQL server binaries (pg_ctl, initdb)")
        raise AssertionError("unreachable")

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        # initdb and postgres refuse to run as root: run them as the postgres user.
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        """Base URL (append a database name)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def init(self) -> None:
        """Create the cluster directory."""
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        """Start (again) on the same port."""
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.logfile),
            "-w",
            "-o",
            f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop it."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop it (if running) and delete its directory."""
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create a database and return its URL."""
        import sqlalchemy as sa

        engine = sa.create_engine(f"{self.url}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return f"{self.url}/{name}"
