"""One entry point for every process: ``python -m bot <command>``.

Commands:
    run       migrate + seed the database if needed, train a model if ``models/`` has none,
              then start the action server, the Rasa server (REST, socket.io and web-chat
              channels) and the review console under :mod:`bot.supervisor` (a component
              that exits is started again); Ctrl-C stops them all.
    run-cluster  the replicated topology: nginx, N Rasa replicas, M action servers,
              PostgreSQL, Redis, RabbitMQ (:mod:`bot.cluster.run`).
    actions   start only the action server.
    server    start only the Rasa server.
    shell     ``rasa shell`` beside ``run``: own port, the running action server and databases
              (chat in the terminal; :mod:`bot.shell`).
    train     train a model into ``models/``.
    prepare   migrate + seed the database, train if needed (no servers).

Settings come from environment variables with local defaults (see :mod:`bot.settings`).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Sequence

from bot.settings import PROJECT_ROOT, apply_defaults
from bot.supervisor import Service, Supervisor, database_available

logger = logging.getLogger("bot.cli")

MODELS_DIR = PROJECT_ROOT / "models"


def _python() -> str:
    return sys.executable


def _rasa() -> list[str]:
    return [_python(), "-m", "rasa"]


def latest_model() -> Path | None:
    """Return the newest trained model in ``models/``, if any."""
    models = sorted(MODELS_DIR.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def _run(cmd: Sequence[str]) -> None:
    logger.info("$ %s", " ".join(cmd))
    subprocess.run(list(cmd), check=True, cwd=PROJECT_ROOT)


def prepare_database() -> None:
    """Create/upgrade the schema and seed sample data (idempotent, skipped when seeded)."""
    _run([_python(), "-m", "bot.db", "migrate"])
    _run([_python(), "-m", "bot.db", "seed", "--if-empty"])


def train(force: bool = False) -> Path:
    """Train a model unless one exists (or ``force``); return the model path."""
    model = latest_model()
    if model and not force:
        return model
    MODELS_DIR.mkdir(exist_ok=True)
    _run(
        _rasa()
        + [
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            "models",
            "--augmentation",
            "0",
        ]
    )
    model = latest_model()
    if model is None:
        raise SystemExit("training produced no model")
    return model


def actions_cmd(port: int | None = None) -> list[str]:
    """Command line of the action server (on ``port``, default ``$ACTIONS_PORT``)."""
    port_arg = str(port or os.environ["ACTIONS_PORT"])
    return [_python(), "-m", "bot.action_server", "--port", port_arg]


def server_cmd(
    model: Path | None = None, port: int | None = None, endpoints: str = "endpoints.yml"
) -> list[str]:
    """Command line of the Rasa server (:mod:`bot.rasa_server`).

    The API token comes from the environment, never from the command line.

    Args:
        model: the model archive (default: the newest in ``models/``).
        port: its port (default ``$RASA_PORT``).
        endpoints: the endpoints file (the cluster's replicas use their own).
    """
    return [
        _python(),
        "-m",
        "bot.rasa_server",
        "--model",
        str(model or latest_model() or MODELS_DIR),
        "--endpoints",
        endpoints,
        "--host",
        os.environ["RASA_HOST"],
        "--port",
        str(port or os.environ["RASA_PORT"]),
    ]


def wait_for(url: str, timeout: float = 300.0) -> bool:
    """Poll ``url`` until it answers (any HTTP status) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.5)
    return False


def single_services(model: Path) -> list[Service]:
    """The components of ``bot run``: action server, Rasa and the review console."""
    urls = [os.environ["DATABASE_URL"], os.environ["TRACKER_DATABASE_URL"]]
    return [
        Service("actions", actions_cmd(), cwd=PROJECT_ROOT),
        Service("rasa", server_cmd(model), cwd=PROJECT_ROOT),
        Service(
            "console",
            [_python(), "-m", "bot.console"],
            cwd=PROJECT_ROOT,
            precondition=lambda: all(database_available(u) for u in urls),
            waiting_for="its databases",
        ),
    ]


def run_all() -> int:
    """Prepare everything and run all servers under the supervisor until interrupted."""
    prepare_database()
    model = train()
    supervisor = Supervisor(single_services(model))
    supervisor.install_signal_handlers()
    base = f"http://{os.environ['RASA_HOST']}:{os.environ['RASA_PORT']}"

    def banner() -> None:
        if wait_for(base + "/") and not supervisor.stopping:
            print(
                "\n  e户政智能客服已启动 (the assistant is up):\n"
                f"    chat page     {base}/webhooks/webchat/\n"
                f"    REST channel  POST {base}/webhooks/rest/webhook\n"
                f"    socket.io     {base}/socket.io\n"
                f"    console       http://{os.environ['CONSOLE_HOST']}:"
                f"{os.environ['CONSOLE_PORT']}/\n"
                "    terminal chat `make shell` (in another terminal)\n",
                flush=True,
            )

    return supervisor.run(on_started=banner)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "command",
        choices=["run", "run-cluster", "actions", "server", "shell", "train", "prepare"],
    )
    parser.add_argument("--force", action="store_true", help="train even if a model exists")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "run-cluster":
        from bot.cluster.settings import apply_cluster_defaults

        apply_cluster_defaults()  # before the single process's defaults: PostgreSQL, Redis …
    apply_defaults()
    os.chdir(PROJECT_ROOT)
    if args.command == "run":
        return run_all()
    if args.command == "run-cluster":
        from bot.cluster.run import run_cluster

        return run_cluster()
    if args.command == "prepare":
        prepare_database()
        train()
        return 0
    if args.command == "train":
        print(train(force=args.force))
        return 0
    if args.command == "actions":
        return subprocess.call(actions_cmd(), cwd=PROJECT_ROOT)
    if args.command == "server":
        return subprocess.call(server_cmd(), cwd=PROJECT_ROOT)
    # shell: a terminal conversation beside `make run` (its own port, the same action server
    # and databases; see bot/shell.py).
    model = train()
    return subprocess.call([_python(), "-m", "bot.shell", "--model", str(model)], cwd=PROJECT_ROOT)
