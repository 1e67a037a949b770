"""Programmatic Alembic entry points (``python -m bot.db migrate`` and the test fixtures)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from bot.db.session import PROJECT_ROOT, database_url


def alembic_config(url: str | None = None) -> Config:
    """Build the Alembic configuration of the project for a database URL.

    Args:
        url: database URL; None means ``DATABASE_URL`` or the SQLite default.

    Returns:
        An Alembic ``Config`` pointing at ``bot/db/migrations``.

    """
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "bot" / "db" / "migrations"))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision``.

    Args:
        url: database URL; None means ``DATABASE_URL`` or the SQLite default.
        revision: target revision (default the newest).

    """
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Downgrade the schema to ``revision`` (``base`` drops every table).

    Args:
        url: database URL; None means ``DATABASE_URL`` or the SQLite default.
        revision: target revision.

    """
    command.downgrade(alembic_config(url), revision)
