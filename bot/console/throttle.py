"""Failure counters with lockout, kept in the database (``console_login_throttle``).

Login attempts are counted under two keys: the account name typed (``account:<name>``, whether
such an account exists or not, so that a lock says nothing about which names exist) and the
client address (``client:<ip>``, so that one client cannot try many names or passwords). A key
that reaches its limit is locked for a while; counters survive restarts and are shared by every
console process on the same database. Updates are single SQL statements (an upsert, then an
increment), so concurrent attempts are all counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.console.models import ConsoleLoginThrottle
from bot.db.models import utcnow

_table = ConsoleLoginThrottle.__table__


@dataclass(frozen=True)
class Policy:
    """When a key gets locked.

    Attributes:
        limit: failures that lock the key.
        lock_minutes: how long the lock lasts.
        window_minutes: failures older than this are forgotten (None: only a success or a
            lock resets the count, i.e. failures in a row).

    """

    limit: int
    lock_minutes: int
    window_minutes: int | None = None


def account_key(username: str) -> str:
    """The throttle key of an account name (existing or not)."""
    return f"account:{username}"[:100]


def client_key(remote: str) -> str:
    """The throttle key of a client address."""
    return f"client:{remote or '-'}"[:100]


def locked_until(session: Session, key: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the key's lock ends, or None if it is not locked now."""
    now = now or utcnow()
    until = session.execute(
        sa.select(_table.c.locked_until).where(_table.c.key == key)
    ).scalar_one_or_none()
    return until if until is not None and until > now else None


def _ensure_row(session: Session, key: str, now: dt.datetime) -> None:
    values = {"key": key, "failures": 0, "window_start": now}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(_table).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(_table).values(**values).on_conflict_do_nothing())
    elif session.execute(sa.select(_table.c.key).where(_table.c.key == key)).first() is None:
        session.execute(sa.insert(_table).values(**values))  # other databases: check, insert


def register_failure(
    session: Session, key: str, policy: Policy, now: dt.datetime | None = None
) -> bool:
    """Count one failure for ``key``; lock it when the policy's limit is reached.

    Args:
        session: app database session (committed by the caller).
        key: an :func:`account_key` or :func:`client_key`.
        policy: the limit, lock length and counting window.
        now: current time (naive UTC), for tests.

    Returns:
        True if this failure locked the key.

    """
    now = now or utcnow()
    _ensure_row(session, key, now)
    row = _table.c
    if policy.window_minutes is not None:
        # A count whose window has passed starts again.
        session.execute(
            sa.update(_table)
            .where(row.key == key)
            .where(row.window_start < now - dt.timedelta(minutes=policy.window_minutes))
            .values(failures=0, window_start=now)
        )
    session.execute(
        sa.update(_table).where(row.key == key).values(failures=row.failures + 1, last_at=now)
    )
    locked = session.execute(
        sa.update(_table)
        .where(row.key == key)
        .where(row.failures >= policy.limit)
        .values(
            failures=0,
            window_start=now,
            locked_until=now + dt.timedelta(minutes=policy.lock_minutes),
        )
    )
    return bool(locked.rowcount)


def clear(session: Session, key: str) -> None:
    """Forget the failures and any lock of ``key`` (a success, or an admin's unlock)."""
    session.execute(sa.delete(_table).where(_table.c.key == key))


def locked_accounts(
    session: Session, usernames: list[str], now: dt.datetime | None = None
) -> dict[str, dt.datetime]:
    """The accounts among ``usernames`` that are locked now, with the end of their lock."""
    now = now or utcnow()
    keys = {account_key(name): name for name in usernames}
    if not keys:
        return {}
    rows = session.execute(
        sa.select(_table.c.key, _table.c.locked_until)
        .where(_table.c.key.in_(list(keys)))
        .where(_table.c.locked_until > now)
    ).all()
    return {keys[str(k)]: until for k, until in rows}
