"""Riding out a database restart (bot.db.retry): a call waits for the database, within bounds."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from bot.db.retry import retry_transient


def _down() -> sa.exc.OperationalError:
    return sa.exc.OperationalError(
        "SELECT 1", {}, Exception("the database system is shutting down")
    )


async def test_a_call_waits_while_the_database_restarts() -> None:
    failures = [_down(), _down(), _down()]

    async def call() -> str:
        if failures:
            raise failures.pop()
        return "答复"

    assert await retry_transient(call, "test", seconds=5, first_delay=0.01) == "答复"
    assert not failures


async def test_an_outage_longer_than_the_bound_raises_in_time() -> None:
    tries = 0

    async def call() -> None:
        nonlocal tries
        tries += 1
        raise _down()

    started = time.monotonic()
    with pytest.raises(sa.exc.OperationalError):
        await retry_transient(call, "test", seconds=0.3, first_delay=0.05, max_delay=0.1)
    assert 0.2 < time.monotonic() - started < 1.0
    assert tries >= 3


async def test_other_errors_are_not_retried() -> None:
    tries = 0

    async def call() -> None:
        nonlocal tries
        tries += 1
        raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(sa.exc.IntegrityError):
        await retry_transient(call, "test", seconds=5, first_delay=0.01)
    assert tries == 1
