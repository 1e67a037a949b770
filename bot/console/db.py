"""Database handles of the console: the app database (read/write) and the tracker store (read)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.console.config import ConsoleSettings
from bot.db.session import make_engine, transaction


class ConsoleDB:
    """Lazily created engines and sessions for one console process.

    Args:
        settings: the console settings (database URLs).

    """

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._tracker_engine: Engine | None = None
        self._sessionmaker: sessionmaker | None = None
        self._known_tables: dict[tuple[str, str], bool] = {}
        #: Serialises syncs (background task and inline refresh).
        self.sync_lock = threading.Lock()
        #: In-memory cache of the clustering model (see :mod:`bot.console.clustering`).
        self.cluster_cache: dict[str, Any] = {}

    @property
    def engine(self) -> Engine:
        """The app database engine (console tables, messages, feedback)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = make_engine(self.settings.database_url)
                    self._sessionmaker = sessionmaker(
                        bind=self._engine, future=True, expire_on_commit=False
                    )
        return self._engine

    @property
    def tracker_engine(self) -> Engine | None:
        """The tracker store engine, or None while a SQLite tracker file does not exist yet."""
        if self._tracker_engine is None:
            url = make_url(self.settings.tracker_url)
            if url.get_backend_name() == "sqlite":
                database = url.database or ""
                if database and database != ":memory:" and not Path(database).exists():
                    return None
            if self.settings.tracker_url == self.settings.database_url:
                self._tracker_engine = self.engine
            else:
                with self._lock:
                    if self._tracker_engine is None:
                        self._tracker_engine = make_engine(self.settings.tracker_url)
        return self._tracker_engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Return a transactional session on the app database (commit on success, else roll back).

        Yields:
            The session.

        """
        self.engine  # noqa: B018  (creates the sessionmaker)
        assert self._sessionmaker is not None
        with transaction(self._sessionmaker) as session:
            yield session

    def has_table(self, engine: Engine, name: str) -> bool:
        """Whether ``name`` exists in ``engine``'s database (positive answers are cached).

        Args:
            engine: the engine to inspect.
            name: the table name.

        Returns:
            True if the table exists.

        """
        key = (str(engine.url), name)
        if self._known_tables.get(key):
            return True
        exists = bool(inspect(engine).has_table(name))
        if exists:
            self._known_tables[key] = True
        return exists

    def dispose(self) -> None:
        """Close every pooled connection."""
        for engine in (self._engine, self._tracker_engine):
            if engine is not None:
                engine.dispose()
        self._engine = None
        self._tracker_engine = None
        self._sessionmaker = None
