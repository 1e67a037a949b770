"""Process settings: environment variables with safe local defaults.

Every long-running process (Rasa, action server, console) reads its settings here, so one
place documents them. Nothing is read at import time; call :func:`apply_defaults`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


def _secret_file(name: str) -> str:
    """Return a random secret persisted under ``var/`` (created on first use)."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


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
    }


def apply_defaults() -> None:
    """Set every unset setting to its default, and generate local secrets if needed."""
    for key, value in defaults().items():
        os.environ.setdefault(key, value)
    if "RASA_AUTH_TOKEN" not in os.environ:
        os.environ["RASA_AUTH_TOKEN"] = _secret_file("rasa_auth_token")
    if "WEBCHAT_SECRET" not in os.environ:
        os.environ["WEBCHAT_SECRET"] = _secret_file("webchat_secret")
