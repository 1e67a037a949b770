"""Tables of the officers' review console (on the data layer's ``Base``; migration 0003_console).

- ``console_users``: officer and admin accounts (scrypt password hash, lockout state).
- ``console_sessions``: server-side login sessions; the cookie holds a random token, the table
  only its SHA-256, plus the session's CSRF token.
- ``console_login_attempts``: every login attempt (success or not), for audit.
- ``console_login_throttle``: failure counters and locks per account name and per client.
- ``console_audit_log``: who viewed or changed what, when.
- ``console_items``: the inbox: one row per unanswered user message (fallback, low confidence,
  out of scope, thumbs down) or message left for an officer, with its review state and the
  officer's annotation. Text is stored masked.
- ``console_user_messages``: a compact index of *every* user message (no text), the source of
  the trend charts (daily conversations, fallback rate per day).
- ``console_feedback_seen``: 👎 ratings already handled.
- ``console_texts`` / ``console_clusters``: the similarity grouping (normalised text → cluster).
- ``console_state``: sync watermarks (last tracker event id read, ...).
- ``console_retrain_jobs``: background training runs started from the console.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)

from bot.db.models import Base, utcnow

ROLES: tuple[str, ...] = ("officer", "admin")
ITEM_STATUSES: tuple[str, ...] = ("new", "reviewed", "not_useful")
#: Why a user message is in the inbox (one boolean column each on ``console_items``).
REASONS: tuple[str, ...] = (
    "fallback",
    "low_confidence",
    "low_margin",
    "out_of_scope",
    "thumbs_down",
    "message",
)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class ConsoleUser(Base):  # type: ignore[misc]
    """An officer or admin account of the review console."""

    __tablename__ = "console_users"
    __table_args__ = (CheckConstraint(f"role IN {_in(ROLES)}", name="role"),)

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(10), nullable=False, default="officer")
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime)


class ConsoleSession(Base):  # type: ignore[misc]
    """A logged-in browser session (only the token's hash is stored)."""

    __tablename__ = "console_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(
        Integer, ForeignKey("console_users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)


class ConsoleLoginAttempt(Base):  # type: ignore[misc]
    """One login attempt (the password is never stored)."""

    __tablename__ = "console_login_attempts"
    __table_args__ = (Index("ix_console_login_attempts_username_at", "username", "created_at"),)

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False)
    success = Column(Boolean, nullable=False)
    reason = Column(String(20))
    remote = Column(String(64))
    created_at = Column(DateTime, nullable=False, default=utcnow)


class ConsoleLoginThrottle(Base):  # type: ignore[misc]
    """Failed logins counted per key (``account:<name>`` or ``client:<address>``) and its lock."""

    __tablename__ = "console_login_throttle"

    key = Column(String(100), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    window_start = Column(DateTime, nullable=False)
    last_at = Column(DateTime)
    locked_until = Column(DateTime)


class ConsoleAuditLog(Base):  # type: ignore[misc]
    """One audited view or change: who, what, when."""

    __tablename__ = "console_audit_log"
    __table_args__ = (Index("ix_console_audit_log_created", "created_at"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer)
    username = Column(String(64), nullable=False)
    action = Column(String(40), nullable=False)
    target = Column(String(200))
    detail = Column(Text)
    remote = Column(String(64))
    created_at = Column(DateTime, nullable=False, default=utcnow)


class ConsoleItem(Base):  # type: ignore[misc]
    """An unanswered question in the inbox (text masked) and its review state."""

    __tablename__ = "console_items"
    __table_args__ = (
        CheckConstraint(f"status IN {_in(ITEM_STATUSES)}", name="status"),
        Index("ix_console_items_occurred", "occurred_at"),
        Index("ix_console_items_cluster_occurred", "cluster_key", "occurred_at"),
        Index("ix_console_items_status_occurred", "status", "occurred_at"),
    )

    id = Column(Integer, primary_key=True)
    source_key = Column(String(40), nullable=False, unique=True)
    sender_id = Column(String(255), nullable=False, index=True)
    event_id = Column(Integer)
    text = Column(Text, nullable=False)
    norm_text = Column(String(255), nullable=False, index=True)
    cluster_key = Column(String(16), nullable=False, default="")
    intent = Column(String(120))
    confidence = Column(Float)
    is_fallback = Column(Boolean, nullable=False, default=False)
    is_low_confidence = Column(Boolean, nullable=False, default=False)
    is_out_of_scope = Column(Boolean, nullable=False, default=False)
    is_thumbs_down = Column(Boolean, nullable=False, default=False)
    is_message = Column(Boolean, nullable=False, default=False)
    is_low_margin = Column(Boolean, nullable=False, default=False, server_default=false())
    occurred_at = Column(DateTime, nullable=False)
    status = Column(String(12), nullable=False, default="new")
    annotated_intent = Column(String(120))
    annotated_text = Column(Text)
    proposed_intent = Column(String(120))
    reviewed_by = Column(String(64))
    reviewed_at = Column(DateTime)


class ConsoleUserMessage(Base):  # type: ignore[misc]
    """Every user message seen in the tracker store (no text): the trend charts' source."""

    __tablename__ = "console_user_messages"
    __table_args__ = (Index("ix_console_user_messages_day", "day"),)

    event_id = Column(Integer, primary_key=True, autoincrement=False)
    sender_id = Column(String(255), nullable=False)
    day = Column(String(10), nullable=False)
    is_fallback = Column(Boolean, nullable=False, default=False)
    is_unanswered = Column(Boolean, nullable=False, default=False)


class ConsoleFeedbackSeen(Base):  # type: ignore[misc]
    """A 👎 feedback row already turned into (or merged with) an inbox item."""

    __tablename__ = "console_feedback_seen"

    feedback_id = Column(Integer, primary_key=True, autoincrement=False)


class ConsoleText(Base):  # type: ignore[misc]
    """A distinct normalised question text and the similarity group it belongs to."""

    __tablename__ = "console_texts"

    norm_text = Column(String(255), primary_key=True)
    cluster_key = Column(String(16), nullable=False, default="", index=True)
    first_seen = Column(DateTime, nullable=False)


class ConsoleCluster(Base):  # type: ignore[misc]
    """A group of similar questions; ``label`` is its first (leading) question."""

    __tablename__ = "console_clusters"

    key = Column(String(16), primary_key=True)
    label = Column(Text, nullable=False)


class ConsoleState(Base):  # type: ignore[misc]
    """Key/value state of the console (sync watermarks)."""

    __tablename__ = "console_state"

    key = Column(String(40), primary_key=True)
    value = Column(String(255), nullable=False)


class ConsoleRetrainJob(Base):  # type: ignore[misc]
    """A training run started from the console."""

    __tablename__ = "console_retrain_jobs"

    id = Column(Integer, primary_key=True)
    started_by = Column(String(64), nullable=False)
    status = Column(String(12), nullable=False, default="running")
    command = Column(Text, nullable=False)
    log_path = Column(Text, nullable=False)
    return_code = Column(Integer)
    #: The model the run produced, and whether the running Rasa server loaded it.
    model_path = Column(Text)
    deploy_status = Column(String(12))
    deploy_message = Column(Text)
    started_at = Column(DateTime, nullable=False, default=utcnow)
    finished_at = Column(DateTime)


CONSOLE_TABLES: tuple[str, ...] = (
    "console_users",
    "console_sessions",
    "console_login_attempts",
    "console_login_throttle",
    "console_audit_log",
    "console_items",
    "console_user_messages",
    "console_feedback_seen",
    "console_texts",
    "console_clusters",
    "console_state",
    "console_retrain_jobs",
)
