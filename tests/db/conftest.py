"""Fixtures for the data-layer tests: migrated + seeded databases on SQLite and PostgreSQL.

The PostgreSQL variants use uniquely named throw-away databases on 127.0.0.1:5432 and are
skipped with a clear message only when that server cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.db.session import make_engine
from bot.db.testing import postgres_unavailable_reason, temporary_database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def skip_without_postgres(kind: str) -> None:
    """Skip (with the reason) when a PostgreSQL variant cannot reach the server."""
    if kind == "postgresql":
        reason = postgres_unavailable_reason()
        if reason:
            pytest.skip(reason)


@pytest.fixture(scope="session", params=BACKENDS)
def seeded_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database migrated and seeded with a small (20,000) name registry."""
    skip_without_postgres(request.param)
    with temporary_database(request.param, residents=20_000) as url:
        yield url


@pytest.fixture()
def seeded_engine(seeded_url: str) -> Iterator[Engine]:
    """An engine on the seeded database."""
    engine = make_engine(seeded_url)
    try:
        yield engine
    finally:
        engine.dispose()
