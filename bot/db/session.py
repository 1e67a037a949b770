"""Engine and session factory of the data layer, created once, lazily, from ``DATABASE_URL``.

``DATABASE_URL`` selects the database: SQLite by default (``sqlite:///var/ehuzheng.db``,
relative to the project root), PostgreSQL in production
(``postgresql+psycopg2://user:pass@host:5432/db``). SQLite connections use WAL journaling,
a busy timeout and enforced foreign keys, so the action server's worker threads and the
console can share the file.

Nothing happens at import time; the first :func:`get_engine` call creates the engine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "sqlite:///var/ehuzheng.db"
SQLITE_BUSY_TIMEOUT_MS = 5000
PG_CONNECT_TIMEOUT_S = 3

_lock = threading.Lock()
_engine: Engine | None = None
_sessionmaker: sessionmaker | None = None


def database_url(url: str | None = None) -> str:
    """Resolve the database URL (argument, else ``DATABASE_URL``, else the SQLite default).

    Relative SQLite paths are made absolute against the project root, so the action server,
    the console and the CLI all open the same file whatever their working directory.

    Args:
        url: an explicit URL, or None to read the environment.

    Returns:
        The absolute database URL as a string.

    """
    raw = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    parsed = make_url(raw)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not os.path.isabs(database):
            parsed = parsed.set(database=str(PROJECT_ROOT / database))
        return str(parsed)
    if parsed.drivername == "postgres":  # Heroku-style URLs
        parsed = parsed.set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create a new engine for ``url`` with the project's connection settings.

    Most code should call :func:`get_engine`; this is for tools and tests that need an engine
    of their own (migrations, seeding a temporary database).

    Args:
        url: database URL (resolved with :func:`database_url`).
        **kwargs: extra ``create_engine`` arguments.

    Returns:
        A new SQLAlchemy engine.

    """
    resolved = database_url(url)
    parsed = make_url(resolved)
    options: dict[str, Any] = {"future": True, "pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # SQLAlchemy 1.4 defaults to NullPool for SQLite files: every session would open a
            # new connection and the last close would checkpoint the WAL (milliseconds each).
            options["poolclass"] = QueuePool
            options["pool_size"] = 5
            options["max_overflow"] = 10
        options["connect_args"] = {"check_same_thread": False, "timeout": 5}
    elif parsed.get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        options["pool_size"] = 5
        options["max_overflow"] = 5
    options.update(kwargs)
    engine = create_engine(resolved, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def get_engine() -> Engine:
    """Return the process-wide engine, creating it on first use (thread-safe)."""
    global _engine, _sessionmaker
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = make_engine()
                _sessionmaker = sessionmaker(bind=_engine, future=True, expire_on_commit=False)
    return _engine


def get_sessionmaker() -> sessionmaker:
    """Return the process-wide session factory bound to :func:`get_engine`."""
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


def configure(url: str | None = None) -> Engine:
    """(Re)create the process-wide engine for ``url``, disposing the previous one.

    Used by tests and by the CLI when a URL is given explicitly.

    Args:
        url: database URL, or None to re-read ``DATABASE_URL``.

    Returns:
        The new engine.

    """
    global _engine, _sessionmaker
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = make_engine(url)
        _sessionmaker = sessionmaker(bind=_engine, future=True, expire_on_commit=False)
    return _engine


def reset() -> None:
    """Dispose the process-wide engine; the next :func:`get_engine` call creates a new one."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _sessionmaker = None


@contextmanager
def transaction(maker: sessionmaker) -> Iterator[Session]:
    """A session from ``maker`` that commits on success and rolls back on any error.

    Args:
        maker: a session factory.

    Yields:
        The session; nothing is left half-done in the database if the block raises.

    """
    session = maker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def session_scope() -> Iterator[Session]:
    """Provide a short transactional session on the configured database.

    Yields:
        A session (see :func:`transaction`).

    """
    with transaction(get_sessionmaker()) as session:
        yield session
