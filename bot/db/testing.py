"""Temporary databases for tests (SQLite file or a throw-away PostgreSQL database).

Used by the test suites of the data layer, the actions and the console::

    with temporary_database("postgresql", residents=20_000) as url:
        ...   # migrated and seeded; dropped afterwards

PostgreSQL is reached through ``TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``); :func:`postgres_unavailable_reason` tells
tests why they must skip when it cannot be reached.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    """Return the PostgreSQL server URL used for test databases (``TEST_POSTGRES_URL``)."""
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


def postgres_unavailable_reason() -> str | None:
    """Try to connect to the test PostgreSQL server.

    Returns:
        ``None`` if it is reachable, else a clear reason to show when skipping.

    """
    engine = create_engine(admin_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        safe = make_url(admin_url()).render_as_string(hide_password=True)
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL not reachable at {safe} ({first_line}); PostgreSQL variants skipped"
    finally:
        engine.dispose()
    return None


@contextmanager
def _postgres_database() -> Iterator[str]:
    name = f"ehz_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url()).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def temporary_database(
    kind: str, residents: int = 20_000, seed: bool = True, directory: Path | None = None
) -> Iterator[str]:
    """Provide a migrated (and by default seeded) database that is removed afterwards.

    Args:
        kind: ``sqlite`` or ``postgresql``.
        residents: size of the seeded name registry.
        seed: whether to seed sample data.
        directory: where to put the SQLite file (default: a new temporary folder).

    Yields:
        The database URL.

    """
    from bot.db import migrate
    from bot.db import seed as seeding

    if kind == "sqlite":
        with tempfile.TemporaryDirectory(dir=directory) as folder:
            url = f"sqlite:///{Path(folder) / 'test.db'}"
            migrate.upgrade(url)
            if seed:
                seeding.seed(url, residents=residents)
            yield url
    elif kind == "postgresql":
        with _postgres_database() as url:
            migrate.upgrade(url)
            if seed:
                seeding.seed(url, residents=residents)
            yield url
    else:
        raise ValueError(f"unknown database kind {kind!r}")
