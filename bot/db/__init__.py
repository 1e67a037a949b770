"""The e户政 data layer: SQLAlchemy models, session factory, queries, seed and migrations.

Used by the action server (``actions/``) and the officers' review console. It depends on
nothing else of ours except :mod:`bot.numbers` (the one masking implementation). The schema
is created and upgraded only by the Alembic migrations in ``bot/db/migrations``
(``python -m bot.db migrate``); sample data comes from ``python -m bot.db seed``.

Importing this package does no work: the engine is created on first use from
``DATABASE_URL`` (see :mod:`bot.db.session`).
"""

from bot.db.session import get_engine, session_scope

__all__ = ["get_engine", "session_scope"]
