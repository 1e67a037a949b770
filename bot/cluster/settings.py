"""Settings of the replicated topology: environment variables with local defaults.

``python -m bot run-cluster`` calls :func:`apply_cluster_defaults` before the usual
:func:`bot.settings.apply_defaults`, so the cluster's defaults (PostgreSQL, Redis, RabbitMQ)
win over the single process's (SQLite, in-memory lock store, no broker) but an explicitly set
variable always wins over both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from bot.settings import VAR_DIR

PG = "postgresql://postgres@127.0.0.1:5432"


def cluster_defaults() -> dict[str, str]:
    """Default value of every cluster setting (services of this machine)."""
    return {
        "DATABASE_URL": f"{PG}/ehuzheng",
        "TRACKER_DATABASE_URL": f"{PG}/ehuzheng_tracker",
        "LOCK_STORE_TYPE": "redis",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_DB": "0",
        "REDIS_KEY_PREFIX": "ehuzheng",
        "RABBITMQ_HOST": "127.0.0.1",
        "RABBITMQ_PORT": "5672",
        "RABBITMQ_USERNAME": "guest",
        "RABBITMQ_PASSWORD": "guest",
        "EVENT_BROKER_EXCHANGE": "ehuzheng-events",
        "EVENT_BROKER_QUEUE": "ehuzheng_console_events",
        "CLUSTER_HOST": "127.0.0.1",
        "CLUSTER_PORT": "8080",
        "CLUSTER_REPLICAS": "2",
        "CLUSTER_ACTION_SERVERS": "2",
        "CLUSTER_RASA_BASE_PORT": "5010",
        "CLUSTER_ACTIONS_BASE_PORT": "5060",
        "CLUSTER_ACTIONS_LB_PORT": "5059",
        "CLUSTER_DIR": str(VAR_DIR / "cluster"),
        "CONSOLE_PORT": "8081",
        # The replicas sit behind nginx: the client address (lookup limits) is the forwarded one.
        "TRUSTED_PROXIES": "1",
        # One replica per core: TensorFlow's own thread pools would only fight each other.
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
    }


def apply_cluster_defaults() -> None:
    """Set every unset cluster setting to its default (and derive the dependent ones)."""
    for key, value in cluster_defaults().items():
        os.environ.setdefault(key, value)
    env = os.environ
    env.setdefault(
        "EVENT_BROKER_URL",
        "amqp://{}:{}@{}:{}/".format(
            quote(env["RABBITMQ_USERNAME"], safe=""),
            quote(env["RABBITMQ_PASSWORD"], safe=""),
            env["RABBITMQ_HOST"],
            env["RABBITMQ_PORT"],
        ),
    )
    env.setdefault(
        "ACTION_ENDPOINT_URL", f"http://127.0.0.1:{env['CLUSTER_ACTIONS_LB_PORT']}/webhook"
    )


@dataclass(frozen=True)
class ClusterSettings:
    """The cluster's shape and addresses (read after :func:`apply_cluster_defaults`).

    Attributes:
        host: the address nginx listens on (the public entry).
        port: nginx's public port.
        rasa_ports: one port per Rasa replica (127.0.0.1 only).
        action_ports: one port per action server (127.0.0.1 only).
        actions_lb_port: nginx's internal load balancer for the action servers.
        console_port: the console's own port (127.0.0.1; public under ``/console/``).
        workdir: generated configuration, logs and nginx's files.
    """

    host: str
    port: int
    rasa_ports: tuple[int, ...]
    action_ports: tuple[int, ...]
    actions_lb_port: int
    console_port: int
    workdir: Path

    @classmethod
    def from_env(cls) -> ClusterSettings:
        """Read the settings from the environment."""
        env = os.environ
        replicas = max(1, int(env["CLUSTER_REPLICAS"]))
        action_servers = max(1, int(env["CLUSTER_ACTION_SERVERS"]))
        rasa_base = int(env["CLUSTER_RASA_BASE_PORT"])
        actions_base = int(env["CLUSTER_ACTIONS_BASE_PORT"])
        return cls(
            host=env["CLUSTER_HOST"],
            port=int(env["CLUSTER_PORT"]),
            rasa_ports=tuple(rasa_base + i for i in range(replicas)),
            action_ports=tuple(actions_base + i for i in range(action_servers)),
            actions_lb_port=int(env["CLUSTER_ACTIONS_LB_PORT"]),
            console_port=int(env["CONSOLE_PORT"]),
            workdir=Path(env["CLUSTER_DIR"]),
        )

    @property
    def public_url(self) -> str:
        """The public base URL (nginx)."""
        return f"http://{self.host}:{self.port}"
