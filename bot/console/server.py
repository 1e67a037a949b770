"""Running the console process: wait for the database, migrate if needed, serve.

The console never exits because its database is not there yet (PostgreSQL still starting, a
network hiccup): it retries with a growing pause, logging each attempt without the password,
until the database answers. The files it creates itself (SQLite database, working folder) are
readable by their owner only.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlalchemy.engine import make_url

from bot.console.config import ConsoleSettings
from bot.console.files import make_private, private_dir
from bot.numbers import mask_text

logger = logging.getLogger(__name__)


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Access log without query strings (searches may contain personal data), masked."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write one access line."""
        self.logger.info(
            "%s %s %s %s %.0fms",
            request.remote,
            request.method,
            mask_text(request.path),
            response.status,
            time * 1000,
        )


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def _schema_is_current(url: str) -> bool:
    from bot.db.session import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return bool(sa.inspect(conn).has_table("console_users"))
    finally:
        engine.dispose()


def ensure_schema(
    settings: ConsoleSettings,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Wait until the app database answers, then migrate it if the console's tables are missing.

    Args:
        settings: console settings (database URL).
        timeout: give up after this many seconds (None: wait as long as it takes).
        sleep: how to pause between attempts (tests pass a fake).

    Raises:
        sqlalchemy.exc.OperationalError: the database did not answer within ``timeout``.

    """
    url = settings.database_url
    shown = make_url(url).render_as_string(hide_password=True)
    db_file = sqlite_path(url)
    created = db_file is not None and not db_file.is_file()
    started = time.monotonic()
    pause = 1.0
    while True:
        try:
            present = _schema_is_current(url)
            break
        except sa.exc.OperationalError as exc:
            waited = time.monotonic() - started
            if timeout is not None and waited >= timeout:
                raise
            reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
            logger.warning(
                "database %s not reachable (%s); retrying in %.0f s", shown, reason, pause
            )
            sleep(pause)
            pause = min(pause * 2, 30.0)
    if not present:
        from bot.db import migrate

        logger.info("console tables missing: migrating the database to the newest schema")
        migrate.upgrade(url)
    if created and db_file is not None:
        make_private(db_file)


def serve(settings: ConsoleSettings | None = None) -> None:
    """Run the console web server until interrupted."""
    from bot.console.app import create_app

    settings = settings or ConsoleSettings.from_env()
    logging.basicConfig(
        level=os.environ.get("CONSOLE_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ensure_schema(settings)
    private_dir(settings.var_dir)
    print(f"officers' review console: http://{settings.host}:{settings.port}/", flush=True)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        access_log_class=PathOnlyAccessLogger,
    )
