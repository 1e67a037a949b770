"""The seed as a whole: idempotent, fast enough, and seeded once then only topped up at startup.

The parts are tested beside it: reference data, calendar and slots, cases, residents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Engine

from bot.db import seed as seeding
from bot.db.models import (
    Case,
    Slot,
)
from bot.db.testing import temporary_database
from tests.db.conftest import BACKENDS, skip_without_postgres

SNAPSHOT_TABLES = [
    "business_types", "counties", "windows", "window_businesses", "service_points", "holidays",
    "slots", "cases", "case_stage_events", "residents", "name_counts",
]  # fmt: skip


def snapshot(engine: Engine) -> dict[str, str]:
    """A digest of every seeded table's full contents (ordered)."""
    digests = {}
    with engine.connect() as conn:
        for table in SNAPSHOT_TABLES:
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(row)).encode())
            digests[table] = f"{len(rows)}:{digest.hexdigest()}"
    return digests


@pytest.mark.parametrize("kind", BACKENDS)
def test_seed_is_idempotent_and_keeps_bookings(kind: str) -> None:
    skip_without_postgres(kind)
    from bot.db.session import make_engine

    with temporary_database(kind, residents=5_000) as url:
        engine = make_engine(url)
        try:
            first = snapshot(engine)
            with engine.begin() as conn:
                slot_id = conn.execute(select(func.min(Slot.id))).scalar_one()
                conn.execute(update(Slot).where(Slot.id == slot_id).values(booked=1))
            report = seeding.seed(url, residents=5_000)
            assert report.slots_added == 0 and not report.residents_rebuilt
            second = snapshot(engine)
            assert {k: v for k, v in second.items() if k != "slots"} == {
                k: v for k, v in first.items() if k != "slots"
            }
            assert second["slots"].split(":")[0] == first["slots"].split(":")[0]
            with engine.connect() as conn:
                assert conn.execute(select(Slot.booked).where(Slot.id == slot_id)).scalar_one() == 1
        finally:
            engine.dispose()


def test_full_seed_on_sqlite_takes_under_a_minute(tmp_path: Any) -> None:
    from bot.db import migrate

    url = f"sqlite:///{tmp_path / 'full.db'}"
    migrate.upgrade(url)
    report = seeding.seed(url)
    assert report.residents == seeding.DEFAULT_RESIDENTS and report.residents_rebuilt
    again = seeding.seed(url)  # a second run keeps the registry (how long: bench/)
    assert not again.residents_rebuilt


def test_cli_seed_if_empty_seeds_once_then_tops_up_slots(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.db.__main__ import main
    from bot.db.session import make_engine

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--url", url, "seed", "--if-empty", "--residents", "2000"]) == 0
    assert "residents 2000 (rebuilt)" in capsys.readouterr().out
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(update(Case.__table__).values(stage="completed"))
        later = (seeding.beijing_today() + dt.timedelta(days=30)).isoformat()
        assert main(["--url", url, "seed", "--if-empty", "--today", later]) == 0
        out = capsys.readouterr().out
        added = re.search(r"(\d+) slots added", out)
        assert "already seeded" in out and added and int(added.group(1)) > 0
        with engine.connect() as conn:
            stages = set(conn.execute(select(Case.stage)).scalars())
            assert stages == {"completed"}  # existing data left alone
            assert conn.execute(
                select(func.max(Slot.day))
            ).scalar_one() > seeding.beijing_today() + dt.timedelta(days=30)
    finally:
        engine.dispose()
