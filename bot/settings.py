"""Process settings: environment variables with safe local defaults.

Every long-running process (Rasa, action server, console) reads its settings here, so one
place documents them. Nothing is read at import time; call :func:`apply_defaults`.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.secret_files import make_private, secret_value

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
#: Every secret a local run needs: environment variable -> file under var/ (generated once).
SECRETS = {
    "RASA_AUTH_TOKEN": "rasa_auth_token",
    "WEBCHAT_SECRET": "webchat_secret",
    "ACTION_SERVER_TOKEN": "action_server_token",
    "EHUZHENG_SECRET": "secret.key",
}
#: The lock store that ``LOCK_STORE_TYPE=redis`` selects (see :mod:`bot.lock_store`).
ATOMIC_REDIS_LOCK_STORE = "bot.lock_store.AtomicRedisLockStore"


def defaults() -> dict[str, str]:
    """The default value of every setting (local, nothing else installed)."""
    return {
        "DATABASE_URL": f"sqlite:///{VAR_DIR / 'ehuzheng.db'}",
        "TRACKER_DATABASE_URL": f"sqlite:///{VAR_DIR / 'tracker.db'}",
        "RASA_HOST": "127.0.0.1",
        "RASA_PORT": "5005",
        "ACTIONS_PORT": "5055",
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
        "LOCK_STORE_TYPE": "in_memory",
        "REDIS_HOST": "127.0.0.1",
        "CONSOLE_HOST": "127.0.0.1",
        "CONSOLE_PORT": "8081",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::PendingDeprecationWarning",
        "RASA_TELEMETRY_ENABLED": "false",
    }


def apply_defaults() -> None:
    """Set every unset setting to its default, and generate local secrets if needed."""
    for key, value in defaults().items():
        os.environ.setdefault(key, value)
    if os.environ["LOCK_STORE_TYPE"] == "redis":  # Rasa's own races between replicas
        os.environ["LOCK_STORE_TYPE"] = ATOMIC_REDIS_LOCK_STORE
    make_private(VAR_DIR)
    for env_name, file_name in SECRETS.items():
        os.environ[env_name] = secret_value(env_name, file_name, VAR_DIR)
