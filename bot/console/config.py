"""Settings of the review console, read from the environment when the console starts."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.db.session import PROJECT_ROOT, database_url

DEFAULT_TRACKER_URL = "sqlite:///var/tracker.db"
#: Where ``bot run`` keeps the generated Rasa API token when none is set.
TOKEN_FILE = "var/rasa_auth_token"


def _read_secret(project_dir: Path, name: str) -> str:
    try:
        return (project_dir / name).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class ConsoleSettings:
    """Everything the console needs to know about its environment.

    Attributes:
        database_url: the app database (console tables, messages, feedback).
        tracker_url: Rasa's SQL tracker store (table ``events``), read only.
        project_dir: project root (``domain.yml``, ``data/``, ``var/``).
        host: address the web server binds to.
        port: port the web server binds to.
        timezone: time zone for display and per-day statistics.
        low_confidence: a classified message below this confidence is "low confidence".
        cluster_threshold: cosine similarity needed to join a group of similar questions.
        session_hours: idle lifetime of a login session.
        cookie_secure: add ``Secure`` to the session cookie (behind HTTPS).
        sync_interval: seconds between background reads of new conversations (0: off).
        scrypt_n: scrypt cost parameter for new password hashes.
        lockout_attempts: failed logins in a row that lock an account name (existing or not).
        lockout_minutes: how long a locked account name or client stays locked.
        client_attempts: failed logins from one client address that lock the client.
        client_window_minutes: the window in which a client's failures are counted.
        low_margin: an answer whose top two intents are closer than this is "low margin".
        retrain_command: command line of the "retrain" action (empty: action disabled).
        rasa_url: the running Rasa server a retrained model is loaded into.
        rasa_token: its HTTP API token (``RASA_AUTH_TOKEN``, else ``var/rasa_auth_token``).
        load_timeout: seconds to wait for Rasa to load a new model.
        page_size: inbox groups per page.
        allow_phone_reveal: officers may reveal a message's call-back number (audited).

    """

    database_url: str
    tracker_url: str
    project_dir: Path = PROJECT_ROOT
    host: str = "127.0.0.1"
    port: int = 8081
    timezone: str = "Asia/Shanghai"
    low_confidence: float = 0.7
    cluster_threshold: float = 0.5
    session_hours: float = 8.0
    cookie_secure: bool = False
    sync_interval: float = 15.0
    scrypt_n: int = 2**17
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    client_attempts: int = 20
    client_window_minutes: int = 15
    low_margin: float = 0.2
    retrain_command: str = ""
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    load_timeout: float = 600.0
    page_size: int = 20
    allow_phone_reveal: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def nlu_export_path(self) -> Path:
        """The NLU file the console writes annotated examples to."""
        return self.project_dir / "data" / "nlu" / "console_annotations.yml"

    @property
    def proposed_intents_path(self) -> Path:
        """Where proposed new intents are listed (outside ``data/``, never trained on)."""
        return self.project_dir / "var" / "console" / "proposed_intents.yml"

    @property
    def models_dir(self) -> Path:
        """Where training writes models (the newest one is loaded after a retrain)."""
        return self.project_dir / "models"

    @property
    def var_dir(self) -> Path:
        """The console's working folder (logs of retrain runs, proposed intents)."""
        return self.project_dir / "var" / "console"

    @classmethod
    def from_env(cls) -> ConsoleSettings:
        """Build the settings from environment variables (defaults for local development)."""
        project_dir = Path(os.environ.get("CONSOLE_PROJECT_DIR") or PROJECT_ROOT)
        tracker_raw = os.environ.get("TRACKER_DATABASE_URL") or DEFAULT_TRACKER_URL
        return cls(
            database_url=database_url(None),
            tracker_url=database_url(tracker_raw),
            project_dir=project_dir,
            host=os.environ.get("CONSOLE_HOST") or "127.0.0.1",
            port=_env_int("CONSOLE_PORT", 8081),
            timezone=os.environ.get("CONSOLE_TZ") or "Asia/Shanghai",
            low_confidence=_env_float("CONSOLE_LOW_CONFIDENCE", 0.7),
            low_margin=_env_float("CONSOLE_LOW_MARGIN", 0.2),
            cluster_threshold=_env_float("CONSOLE_CLUSTER_THRESHOLD", 0.5),
            session_hours=_env_float("CONSOLE_SESSION_HOURS", 8.0),
            cookie_secure=_env_bool("CONSOLE_COOKIE_SECURE", False),
            allow_phone_reveal=_env_bool("CONSOLE_ALLOW_PHONE_REVEAL", True),
            sync_interval=_env_float("CONSOLE_SYNC_INTERVAL", 15.0),
            scrypt_n=_env_int("CONSOLE_SCRYPT_N", 2**17),
            retrain_command=os.environ.get(
                "CONSOLE_RETRAIN_COMMAND", f"{shlex.quote(sys.executable)} -m bot train --force"
            ),
            rasa_url=os.environ.get("CONSOLE_RASA_URL")
            or f"http://{os.environ.get('RASA_HOST') or '127.0.0.1'}:"
            f"{os.environ.get('RASA_PORT') or '5005'}",
            rasa_token=os.environ.get("RASA_AUTH_TOKEN") or _read_secret(project_dir, TOKEN_FILE),
            load_timeout=_env_float("CONSOLE_MODEL_LOAD_TIMEOUT", 600.0),
        )
