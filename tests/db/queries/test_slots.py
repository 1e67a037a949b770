"""Bookable slots: one horizon and one slot grid for the seed and the bot (booking.yml)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import migrate
from bot.db.crypto import hash_phone
from bot.db.models import County, Slot, Window
from bot.db.queries import booking as bookings
from bot.db.seed import seed_holidays, seed_reference, seed_slots
from bot.db.session import make_engine

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 12, 3, 8, 0)  # Thursday 08:00 Beijing
D = dt.date
T = dt.time


@pytest.fixture()
def knowledge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of data/knowledge with a 3-day horizon of two one-hour slots, one place each."""
    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "data" / "knowledge", folder)
    _write_booking(folder, horizon=3)
    monkeypatch.setenv("KNOWLEDGE_DIR", str(folder))
    return folder


def _write_booking(folder: Path, horizon: int) -> None:
    path = folder / "booking.yml"
    settings = {
        "horizon_days": horizon,
        "slot_minutes": 60,
        "bookable_hours": ["09:00-11:00"],
        "capacity": {"min": 1, "max": 1},
    }
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    os.utime(path, (horizon, horizon))  # a new modification time for every version


@pytest.fixture()
def session(knowledge: Path, tmp_path: Path) -> Iterator[Session]:
    """A session on a fresh SQLite database seeded with that booking.yml on ``NOW``."""
    url = f"sqlite:///{tmp_path / 'slots.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine, future=True) as s:
        seed_reference(s)
        seed_holidays(s, years=[2026, 2027])
        seed_slots(s, NOW.date())
        s.commit()
        yield s
    engine.dispose()


def _slot(session: Session, day: dt.date) -> int:
    return int(
        session.scalars(
            select(Slot.id)
            .join(Window, Window.id == Slot.window_id)
            .join(County, County.id == Window.county_id)
            .where(County.name == "固安县", Slot.business_code == "id_card", Slot.day == day)
            .order_by(Slot.start_time)
        ).first()
    )


def test_the_seed_and_the_bot_offer_the_same_days_and_grid(session: Session) -> None:
    days = {day for (day,) in session.execute(select(Slot.day).distinct())}
    assert days == {D(2026, 12, 3), D(2026, 12, 4)}  # Thu, Fri; Sat/Sun closed; Mon too far
    offered = [day for day, _ in bookings.available_days(session, "id_card", "固安县", NOW)]
    assert offered == [D(2026, 12, 3), D(2026, 12, 4)]
    slots = bookings.available_slots(session, "id_card", "固安县", D(2026, 12, 4), NOW)
    assert {(s.start_time, s.end_time, s.capacity) for s in slots} == {
        (T(9, 0), T(10, 0), 1),
        (T(10, 0), T(11, 0), 1),
    }
    assert bookings.last_bookable_day(NOW.date()) == D(2026, 12, 6)


def test_a_longer_horizon_reaches_the_bot_at_once_and_the_slots_at_the_next_top_up(
    session: Session, knowledge: Path
) -> None:
    _write_booking(knowledge, horizon=5)
    assert bookings.horizon_days() == 5 and bookings.DEFAULT_HORIZON_DAYS == 5
    assert bookings.available_slots(session, "id_card", "固安县", D(2026, 12, 7), NOW) == []
    added = seed_slots(session, NOW.date())
    assert added > 0
    offered = [day for day, _ in bookings.available_days(session, "id_card", "固安县", NOW)]
    assert offered == [D(2026, 12, 3), D(2026, 12, 4), D(2026, 12, 7), D(2026, 12, 8)]


def test_a_slot_beyond_a_shortened_horizon_cannot_be_booked(
    session: Session, knowledge: Path
) -> None:
    _write_booking(knowledge, horizon=5)
    seed_slots(session, NOW.date())
    monday = _slot(session, D(2026, 12, 7))
    _write_booking(knowledge, horizon=3)
    phone = hash_phone("13812345678")
    result = bookings.book_slot(session, monday, "id_card", "张*", phone, "138****5678", NOW)
    assert result.status == "unavailable"
    assert session.scalar(select(func.sum(Slot.booked))) == 0
    friday = _slot(session, D(2026, 12, 4))
    ok = bookings.book_slot(session, friday, "id_card", "张*", phone, "138****5678", NOW)
    assert ok.status == "ok" and ok.booking is not None and ok.booking.day == D(2026, 12, 4)
