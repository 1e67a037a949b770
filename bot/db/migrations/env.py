"""Alembic environment: URL from ``DATABASE_URL`` (or an explicit ``sqlalchemy.url``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.db.models import metadata
from bot.db.session import database_url, make_engine

config = context.config


def _url() -> str:
    explicit = config.get_main_option("sqlalchemy.url")
    return database_url(explicit or None)


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    backend = (connection.dialect.name if connection is not None else url or "").split(":")[0]
    context.configure(
        connection=connection,
        url=url,
        target_metadata=metadata,
        render_as_batch=backend.startswith("sqlite"),
        compare_type=True,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout without a database connection (``alembic upgrade --sql``)."""
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on a live connection (passed in by the caller, or made here)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
