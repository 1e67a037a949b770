"""``python -m bot run-cluster``: the replicated topology on one machine, supervised.

1. waits for PostgreSQL, creates the app and tracker databases if missing, migrates and
   seeds the app database (as ``bot run`` does), trains a model if ``models/`` has none;
2. starts, under :mod:`bot.supervisor` (restart with back-off, clean stop on Ctrl-C):
   M action servers, N Rasa replicas (``deploy/endpoints.cluster.yml``: PostgreSQL tracker
   store, Redis lock store, RabbitMQ event broker), the review console (consuming the
   broker's queue) and nginx (``deploy/nginx.conf.j2``);
3. checks every replica and action server (:mod:`bot.cluster.health`) and rewrites and
   reloads nginx's configuration when one leaves or rejoins.

Logs go to ``<CLUSTER_DIR>/logs/<component>.log``; the supervisor's own lines go to the
terminal. Settings: :mod:`bot.cluster.settings`.
"""

from __future__ import annotations

import logging
import os
import time

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot import cli
from bot.cluster import nginx
from bot.cluster.health import HealthMonitor, Target
from bot.cluster.settings import ClusterSettings
from bot.numbers import mask_text
from bot.settings import PROJECT_ROOT
from bot.supervisor import Service, Supervisor, database_available

logger = logging.getLogger("bot.cluster")

ENDPOINTS = "deploy/endpoints.cluster.yml"


def _safe(url: str) -> str:
    return mask_text(make_url(url).render_as_string(hide_password=True))


def ensure_database(url: str, timeout: float = 120.0) -> None:
    """Wait for the PostgreSQL server of ``url`` and create the database if it is missing."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    admin = parsed.set(database="postgres")
    deadline = time.monotonic() + timeout
    while not database_available(admin.render_as_string(hide_password=False)):
        if time.monotonic() > deadline:
            raise SystemExit(f"PostgreSQL at {_safe(url)} did not answer in {timeout:.0f} s")
        logger.warning("waiting for PostgreSQL (%s)", _safe(url))
        time.sleep(2)
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
                logger.info("created database %s", parsed.database)
    finally:
        engine.dispose()


def services(settings: ClusterSettings, model: os.PathLike[str]) -> list[Service]:
    """Every component of the cluster, in start order."""
    logs = settings.workdir / "logs"
    tracker_url = os.environ["TRACKER_DATABASE_URL"]
    app_url = os.environ["DATABASE_URL"]
    result = [
        Service(
            f"actions-{i + 1}",
            cli.actions_cmd(port),
            cwd=PROJECT_ROOT,
            log_path=logs / f"actions-{i + 1}.log",
        )
        for i, port in enumerate(settings.action_ports)
    ]
    result += [
        Service(
            f"rasa-{i + 1}",
            cli.server_cmd(model, port=port, endpoints=ENDPOINTS),  # type: ignore[arg-type]
            cwd=PROJECT_ROOT,
            log_path=logs / f"rasa-{i + 1}.log",
            precondition=lambda: database_available(tracker_url),
            waiting_for="the tracker store",
        )
        for i, port in enumerate(settings.rasa_ports)
    ]
    result.append(
        Service(
            "console",
            [cli._python(), "-m", "bot.console"],
            cwd=PROJECT_ROOT,
            log_path=logs / "console.log",
            precondition=lambda: database_available(app_url) and database_available(tracker_url),
            waiting_for="its databases",
        )
    )
    result.append(Service("nginx", nginx.command(settings), log_path=logs / "nginx.log"))
    return result


def health_targets(settings: ClusterSettings) -> list[Target]:
    """The servers the health monitor checks."""
    replicas = [
        Target(f"rasa-{i + 1}", port, f"http://127.0.0.1:{port}/webhooks/webchat/health", True)
        for i, port in enumerate(settings.rasa_ports)
    ]
    actions = [
        Target(f"actions-{i + 1}", port, f"http://127.0.0.1:{port}/health")
        for i, port in enumerate(settings.action_ports)
    ]
    return replicas + actions


def run_cluster() -> int:
    """Prepare and run the cluster until Ctrl-C or SIGTERM."""
    settings = ClusterSettings.from_env()
    os.environ["RASA_HOST"] = "127.0.0.1"  # replicas are reached through nginx only
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    for url in (os.environ["DATABASE_URL"], os.environ["TRACKER_DATABASE_URL"]):
        ensure_database(url)
    cli.prepare_database()
    model = cli.train()
    nginx.write_config(settings)
    supervisor = Supervisor(services(settings, model))
    supervisor.install_signal_handlers()

    def reconfigure(health: dict[int, bool]) -> None:
        nginx.write_config(settings, health)
        nginx.reload(supervisor.pid("nginx"))

    monitor = HealthMonitor(supervisor, health_targets(settings), reconfigure)

    def banner() -> None:
        monitor.start()
        deadline = time.monotonic() + 900
        while not monitor.replica_ready() and time.monotonic() < deadline:
            if supervisor.stopping:
                return
            time.sleep(1)
        if monitor.replica_ready():
            print(
                "\n  e户政智能客服集群已启动 (the cluster is up):\n"
                f"    chat page   {settings.public_url}/webhooks/webchat/\n"
                f"    console     {settings.public_url}/console/\n"
                f"    replicas    {len(settings.rasa_ports)} Rasa, "
                f"{len(settings.action_ports)} action servers (127.0.0.1 only)\n"
                f"    logs        {settings.workdir / 'logs'}/\n",
                flush=True,
            )

    try:
        return supervisor.run(on_started=banner)
    finally:
        monitor.stop()
