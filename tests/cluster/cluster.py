"""A real cluster for the fault tests: ``python -m bot run-cluster`` on private services.

Everything a fault test may stop belongs to the test: a private redis-server, a private
PostgreSQL cluster (app and tracker databases) and a TCP proxy in front of the machine's
RabbitMQ (cut = "RabbitMQ stopped"), with a uniquely named exchange and queue. nginx, the
replicas, the action servers and the console run under the real supervisor, on free ports.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from tests.cluster.services import (
    RABBITMQ,
    PostgresServer,
    RabbitNames,
    RedisServer,
    delete_rabbit_names,
    free_block,
    free_port,
    unique,
)
from tests.cluster.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = float(os.environ.get("CLUSTER_TEST_START_TIMEOUT", "600"))


@dataclass
class Cluster:
    """A running cluster and the handles to break it."""

    workdir: Path
    model: Path
    redis: RedisServer = field(init=False)
    postgres: PostgresServer = field(init=False)
    rabbit_proxy: TcpProxy = field(init=False)
    rabbit: RabbitNames = field(init=False)
    env: dict[str, str] = field(init=False)
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.redis = RedisServer(self.workdir)
        self.postgres = PostgresServer()
        self.rabbit = RabbitNames(exchange=unique("ehz-test-ex"), queue=unique("ehz_test_q"))
        self.rabbit_proxy = TcpProxy(*RABBITMQ)
        self.port = free_port()
        self.rasa_ports = [free_port(), free_port()]
        self.action_ports = [free_port(), free_port()]

    @property
    def url(self) -> str:
        """The public base URL (nginx)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """The supervisor's log (what ``run-cluster`` prints)."""
        return self.workdir / "run-cluster.log"

    def start(self) -> None:
        """Start the private services and ``run-cluster``; wait until both replicas serve.

        "Serve" means the health monitor has put both in nginx's rotation.
        """
        self.redis.start()
        self.postgres.init()
        self.postgres.start()
        app_url = self.postgres.create_database("ehuzheng")
        tracker_url = self.postgres.create_database("ehuzheng_tracker")
        env = dict(os.environ)
        # The ports of each kind must be consecutive: pick a free base for each.
        rasa_base, actions_base = free_block(2), free_block(2)
        self.rasa_ports = [rasa_base, rasa_base + 1]
        self.action_ports = [actions_base, actions_base + 1]
        env.update(
            DATABASE_URL=app_url,
            TRACKER_DATABASE_URL=tracker_url,
            REDIS_HOST="127.0.0.1",
            REDIS_PORT=str(self.redis.port),
            REDIS_KEY_PREFIX=unique("ehz"),
            RABBITMQ_HOST="127.0.0.1",
            RABBITMQ_PORT=str(self.rabbit_proxy.port),
            EVENT_BROKER_EXCHANGE=self.rabbit.exchange,
            EVENT_BROKER_QUEUE=self.rabbit.queue,
            EVENT_BROKER_RECONCILE_SECONDS="3600",
            CLUSTER_PORT=str(self.port),
            CLUSTER_RASA_BASE_PORT=str(rasa_base),
            CLUSTER_ACTIONS_BASE_PORT=str(actions_base),
            CLUSTER_ACTIONS_LB_PORT=str(free_port()),
            CONSOLE_PORT=str(free_port()),
            CONSOLE_SYNC_INTERVAL="1",
            CLUSTER_DIR=str(self.workdir / "cluster"),
            WEBCHAT_SECRET="cluster-test-secret-" + unique("s"),
            RASA_AUTH_TOKEN=unique("token"),
            RASA_TELEMETRY_ENABLED="false",
            PYTHONPATH=str(ROOT),
        )
        for key in ("EVENT_BROKER_URL", "ACTION_ENDPOINT_URL", "LOCK_STORE_TYPE"):
            env.pop(key, None)
        self.env = env
        # Reuse the test model: copy-free, run-cluster trains only when models/ is empty.
        (self.workdir / "models").mkdir(exist_ok=True)
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, str(self.model)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            in_rotation = all(
                f"rasa-{i}: healthy, in rotation" in self.log_tail(10**7) for i in (1, 2)
            )
            if in_rotation and self.public_ok():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(2)
        raise RuntimeError("the cluster did not start; log tail:\n" + self.log_tail())

    def log_tail(self, chars: int = 6000) -> str:
        """The end of the supervisor's log."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def replica_ready(self, index: int) -> bool:
        """Whether Rasa replica ``index`` (0-based) says it is ready."""
        url = f"http://127.0.0.1:{self.rasa_ports[index]}/webhooks/webchat/health"
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return bool(json.loads(resp.read()).get("ready"))
        except (OSError, ValueError):
            return False

    def action_server_ok(self, index: int) -> bool:
        """Whether action server ``index`` answers its health check."""
        try:
            url = f"http://127.0.0.1:{self.action_ports[index]}/health"
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def public_ok(self) -> bool:
        """Whether nginx serves the chat page."""
        try:
            with urllib.request.urlopen(self.url + "/webhooks/webchat/", timeout=3) as resp:
                return resp.status == 200
        except OSError:
            return False

    def pid(self, name: str) -> int:
        """PID of a component, from the supervisor's latest "started" line for it."""
        found = re.findall(rf"{re.escape(name)}: started \(pid (\d+)\)", self.log_tail(10**7))
        assert found, f"{name} never started"
        return int(found[-1])

    def kill(self, name: str) -> int:
        """SIGKILL a component and wait until it is dead (its sockets closed); return its PID."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        return pid

    def tracker_rows(self, sender_id: str) -> list[tuple[int, str, dict]]:
        """``(id, type, data)`` of a conversation's events in the tracker store."""
        engine = sa.create_engine(self.env["TRACKER_DATABASE_URL"], poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender_id},
            ).all()
        engine.dispose()
        return [(int(r.id), str(r.type_name), json.loads(r.data)) for r in rows]

    def app_scalar(self, sql: str) -> int:
        """An integer from the app database (console tables)."""
        return self._scalar(self.env["DATABASE_URL"], sql)

    def tracker_scalar(self, sql: str) -> int:
        """An integer from the tracker store."""
        return self._scalar(self.env["TRACKER_DATABASE_URL"], sql)

    @staticmethod
    def _scalar(url: str, sql: str) -> int:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            value = conn.scalar(sa.text(sql))
        engine.dispose()
        return int(value or 0)

    def nginx_errors(self, lines: int = 6) -> str:
        """The end of nginx's error log (for assertion messages)."""
        path = self.workdir / "cluster" / "logs" / "nginx.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def replica_errors(self, lines: int = 12) -> str:
        """The last ERROR lines (and the exception lines) of the replicas' logs."""
        found: list[str] = []
        for path in sorted((self.workdir / "cluster" / "logs").glob("rasa-*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if " ERROR " in line or line.split(":")[0].endswith(("Error", "Exception")):
                    found.append(f"{path.stem}: {line[:300]}")
        return "\n".join(found[-lines:])

    def keep_logs(self) -> None:
        """Copy the logs to tests/artifacts/cluster/ (pytest's temp dirs do not last)."""
        import shutil

        target = ROOT / "tests" / "artifacts" / "cluster"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copy(self.log, target / "run-cluster.log")
        shutil.copytree(self.workdir / "cluster" / "logs", target / "logs", dirs_exist_ok=True)

    def stop(self) -> None:
        """Stop everything this cluster started (and nothing else)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.keep_logs()
        except OSError:
            pass
        self.redis.stop()
        self.postgres.remove()
        self.rabbit_proxy.close()
        delete_rabbit_names(self.rabbit)


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, already without sockets, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# run-cluster with the test model (instead of the newest in models/).
_LAUNCH = """
import sys
from pathlib import Path
import bot.cli as cli
model = Path(sys.argv[1])
cli.train = lambda force=False: model
raise SystemExit(cli.main(["run-cluster"]))
"""
