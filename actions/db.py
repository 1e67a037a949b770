"""The action server's handle on the data layer.

:func:`run_db` runs one synchronous query function from :mod:`bot.db.queries` with a fresh,
short session in a worker thread, so the action server's event loop never blocks on the
database. The engine and session factory are created once, lazily (:mod:`bot.db.session`),
from ``DATABASE_URL``. Connection problems, timeouts and other database errors become
:class:`DatabaseUnavailable`, which actions turn into "系统繁忙，请稍后再试"; the session is
rolled back, so nothing is left half-done. ``IntegrityError`` passes through unchanged, so a
caller can tell a constraint violation (e.g. a slot taken at the same moment) from an outage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.db.session import session_scope
from bot.numbers import mask_text

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Upper bound for one database call, seconds (connect timeouts are shorter, see bot.db.session).
DB_CALL_TIMEOUT = 10.0


class DatabaseUnavailable(Exception):
    """The database could not be reached or failed; the user is told to try again later."""


def _call(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    with session_scope() as session:
        return fn(session, *args, **kwargs)


async def run_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(session, *args, **kwargs)`` in a worker thread inside one transaction.

    Args:
        fn: a query function taking an open :class:`~sqlalchemy.orm.Session` first.
        *args: further positional arguments for ``fn``.
        **kwargs: keyword arguments for ``fn``.

    Returns:
        Whatever ``fn`` returns (plain values; the session is closed afterwards).

    Raises:
        DatabaseUnavailable: the database is unreachable, timed out or failed.
        IntegrityError: a constraint was violated (the transaction was rolled back).

    """
    name = getattr(fn, "__qualname__", repr(fn))
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(_call, fn, args, kwargs), timeout=DB_CALL_TIMEOUT
        )
    except IntegrityError:
        raise
    except (DBAPIError, PoolTimeoutError, SQLAlchemyError, OSError) as exc:
        logger.warning("database call %s failed: %s", name, mask_text(str(exc).splitlines()[0]))
        raise DatabaseUnavailable(str(type(exc).__name__)) from exc
    except TimeoutError as exc:
        logger.warning("database call %s timed out after %.0fs", name, DB_CALL_TIMEOUT)
        raise DatabaseUnavailable("timeout") from exc
