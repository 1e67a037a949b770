"""Engine/session settings: URL resolution, SQLite pragmas, lazy creation, rollback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from actions.db import DatabaseUnavailable, run_db
from bot.db import session as db_session
from bot.db.models import CallbackRequest

ROOT = Path(__file__).resolve().parents[2]


def test_default_url_is_the_project_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert db_session.database_url() == f"sqlite:///{ROOT / 'var' / 'ehuzheng.db'}"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/other.db")
    assert db_session.database_url() == f"sqlite:///{ROOT / 'var' / 'other.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/ehz")
    assert db_session.database_url() == "postgresql://u:p@db:5432/ehz"


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = db_session.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert (
                conn.execute(text("PRAGMA busy_timeout")).scalar_one()
                == db_session.SQLITE_BUSY_TIMEOUT_MS
            )
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        engine.dispose()


def test_importing_the_data_layer_and_actions_does_no_work() -> None:
    code = (
        "import bot.db, bot.db.models, bot.db.seed, bot.db.queries.cases, actions.cases, "
        "actions.names, actions.callbacks, actions.db\n"
        "from bot.db import session\n"
        "assert session._engine is None, 'engine created at import time'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_engine_is_created_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'once.db'}")
    db_session.reset()
    try:
        engines = set()
        threads = [
            threading.Thread(target=lambda: engines.add(id(db_session.get_engine())))
            for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(engines) == 1
    finally:
        db_session.reset()


def test_session_scope_rolls_back_on_error(action_like_db: str) -> None:
    with pytest.raises(RuntimeError):
        with db_session.session_scope() as session:
            session.add(
                CallbackRequest(
                    conversation_id="x",
                    text="t",
                    phone_masked="m",
                    phone_hash="h",
                    phone_encrypted="e",
                )
            )
            session.flush()
            raise RuntimeError("boom")
    with db_session.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(CallbackRequest)) == 0


@pytest.fixture()
def action_like_db(tmp_path: Path) -> Any:
    from bot.db import migrate

    url = f"sqlite:///{tmp_path / 'rb.db'}"
    migrate.upgrade(url)
    db_session.configure(url)
    try:
        yield url
    finally:
        db_session.reset()


def test_run_db_does_not_block_the_event_loop(action_like_db: str) -> None:
    def slow_query(session: Any) -> int:
        time.sleep(0.4)
        return int(session.execute(text("SELECT 1")).scalar_one())

    async def scenario() -> tuple[int, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        task = asyncio.create_task(ticker())
        value = await run_db(slow_query)
        task.cancel()
        return value, ticks

    value, ticks = asyncio.run(scenario())
    assert value == 1
    assert ticks >= 10  # the loop kept running while the query slept in its thread


def test_run_db_maps_outages_and_keeps_integrity_errors(action_like_db: str) -> None:
    def outage(session: Any) -> None:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    def duplicate(session: Any) -> None:
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(DatabaseUnavailable):
        asyncio.run(run_db(outage))
    with pytest.raises(IntegrityError):
        asyncio.run(run_db(duplicate))


def test_unreachable_postgres_fails_fast() -> None:
    db_session.configure("postgresql+psycopg2://postgres@127.0.0.1:9/nothing")
    try:
        started = time.perf_counter()
        with pytest.raises(DatabaseUnavailable):
            asyncio.run(run_db(lambda s: s.execute(text("SELECT 1")).scalar_one()))
        assert time.perf_counter() - started < 5
    finally:
        db_session.reset()
