"""Riding out a database restart: bounded retries of a call that fails while it is away.

A PostgreSQL restart takes a few seconds. A call that fails meanwhile with a connection error
(:data:`TRANSIENT`) is tried again after a short, growing pause (``asyncio.sleep``, so other
conversations go on) until ``seconds`` have passed; then the error goes to the caller. Any
other error goes to the caller at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import sqlalchemy as sa

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Errors that mean "the database is (briefly) not there".
TRANSIENT = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.InvalidatePoolError)


async def retry_transient(
    call: Callable[[], Awaitable[T]],
    what: str,
    seconds: float,
    first_delay: float = 0.2,
    max_delay: float = 2.0,
) -> T:
    """Await ``call()``; while it fails with a :data:`TRANSIENT` error, wait and try again.

    Args:
        call: makes the awaitable to run (called once per try).
        what: what is being done, for the log ("tracker store: write").
        seconds: how long to keep trying.
        first_delay: the first pause; each next one doubles, up to ``max_delay``.
        max_delay: the longest pause.

    Returns:
        The call's result.

    Raises:
        Exception: the last error, when the time is up or the error is not transient.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    delay = first_delay
    while True:
        try:
            return await call()
        except TRANSIENT as err:
            if loop.time() + delay > deadline:
                raise
            logger.warning(
                "%s failed (%s); the database may be restarting, retrying",
                what,
                type(getattr(err, "orig", None) or err).__name__,
            )
            await asyncio.sleep(delay)
            delay = min(max_delay, delay * 2)
