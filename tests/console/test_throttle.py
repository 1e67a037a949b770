"""Failure counters with lockout in the database (per account name and per client)."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa

from bot.console import throttle
from bot.console.db import ConsoleDB
from bot.console.models import ConsoleLoginThrottle

T0 = dt.datetime(2026, 12, 2, 8, 0)
POLICY = throttle.Policy(limit=3, lock_minutes=15)
WINDOWED = throttle.Policy(limit=3, lock_minutes=15, window_minutes=10)


def test_limit_locks_for_the_lock_time_then_counts_again(db: ConsoleDB) -> None:
    key = throttle.account_key("someone")
    with db.session() as session:
        assert not throttle.register_failure(session, key, POLICY, T0)
        assert not throttle.register_failure(session, key, POLICY, T0)
        assert throttle.register_failure(session, key, POLICY, T0)  # third: locked
        assert throttle.locked_until(session, key, T0) == T0 + dt.timedelta(minutes=15)
        later = T0 + dt.timedelta(minutes=15, seconds=1)
        assert throttle.locked_until(session, key, later) is None
        assert not throttle.register_failure(session, key, POLICY, later)  # a fresh count


def test_window_forgets_old_failures_and_success_clears(db: ConsoleDB) -> None:
    key = throttle.client_key("10.0.0.7")
    with db.session() as session:
        throttle.register_failure(session, key, WINDOWED, T0)
        throttle.register_failure(session, key, WINDOWED, T0)
        late = T0 + dt.timedelta(minutes=11)
        assert not throttle.register_failure(session, key, WINDOWED, late)  # window restarted
        assert not throttle.register_failure(session, key, WINDOWED, late)
        throttle.clear(session, key)
        assert session.get(ConsoleLoginThrottle, key) is None


def test_concurrent_failures_are_all_counted(db: ConsoleDB) -> None:
    key = throttle.client_key("10.0.0.8")
    policy = throttle.Policy(limit=1000, lock_minutes=1)

    def fail() -> None:
        for _ in range(5):
            with db.session() as session:
                throttle.register_failure(session, key, policy)

    threads = [threading.Thread(target=fail) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.session() as session:
        assert session.get(ConsoleLoginThrottle, key).failures == 30


def test_upgrade_from_the_previous_schema_keeps_accounts(tmp_path: object) -> None:
    from bot.db import migrate

    url = f"sqlite:///{tmp_path}/old.db"
    migrate.upgrade(url, "0003")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO console_users (username, password_hash, role, active,"
                " failed_logins, created_at)"
                " VALUES ('old.officer', 'scrypt$x', 'officer', 1, 2, '2026-01-01 00:00:00')"
            )
        )
    migrate.upgrade(url)
    with engine.connect() as conn:
        names = [r.username for r in conn.execute(sa.text("SELECT username FROM console_users"))]
        assert names == ["old.officer"]
        assert "failed_logins" not in {
            c["name"] for c in sa.inspect(conn).get_columns("console_users")
        }
    engine.dispose()
