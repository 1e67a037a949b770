"""The last place of a slot is never given twice, under real concurrency (SQLite and PostgreSQL).

50 threads, each with its own connection and session, are released at the same instant
(a barrier) and each tries to book the same slot. Exactly ``capacity`` of them may succeed;
everybody else is told the slot is full, and the database is left consistent (``booked`` equals
the number of active bookings, nothing half-done).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db.crypto import hash_phone
from bot.db.models import Booking, County, Slot, Window
from bot.db.queries.booking import book_slot
from bot.db.session import make_engine
from bot.numbers import mask_phone
from tests.actions.booking_support import NOW, fresh_database, prepare_database

ATTEMPTS = 50
DAY = dt.date(2026, 12, 3)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    with fresh_database(request.param, tmp_path) as url:
        prepare_database(url)
        options: dict[str, Any] = {}
        if request.param == "postgres":
            options = {"pool_size": ATTEMPTS + 5, "max_overflow": 0}
        eng = make_engine(url, **options)
        try:
            yield eng
        finally:
            eng.dispose()


def _slot_ids(eng: Engine, count: int) -> list[int]:
    with Session(eng, future=True) as session:
        return [
            int(i)
            for i in session.execute(
                select(Slot.id)
                .join(Window, Window.id == Slot.window_id)
                .join(County, County.id == Window.county_id)
                .where(County.name == "固安县", Slot.business_code == "id_card", Slot.day == DAY)
                .order_by(Slot.start_time, Slot.window_id)
                .limit(count)
            ).scalars()
        ]


def _set_capacity(eng: Engine, slot_id: int, capacity: int) -> None:
    with Session(eng, future=True) as session, session.begin():
        session.execute(update(Slot).where(Slot.id == slot_id).values(capacity=capacity, booked=0))


def _hammer(eng: Engine, targets: list[int], phones: list[str]) -> tuple[Counter[str], float]:
    """Fire one booking attempt per (slot, phone) pair, all released together."""
    factory = sessionmaker(bind=eng, future=True, expire_on_commit=False)
    barrier = threading.Barrier(len(targets))

    def attempt(index: int) -> str:
        barrier.wait()
        session = factory()
        try:
            result = book_slot(
                session,
                targets[index],
                "id_card",
                "测*",
                hash_phone(phones[index]),
                mask_phone(phones[index]),
                NOW,
            )
            session.commit()
            return result.status
        except Exception as exc:  # a crash is a failure of the test, reported by its type
            session.rollback()
            return f"error:{type(exc).__name__}:{str(exc).splitlines()[0][:80]}"
        finally:
            session.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        outcomes = Counter(pool.map(attempt, range(len(targets))))
    return outcomes, time.perf_counter() - started


def _state(eng: Engine, slot_id: int) -> tuple[int, int]:
    with Session(eng, future=True) as session:
        booked = session.execute(select(Slot.booked).where(Slot.id == slot_id)).scalar_one()
        active = session.execute(
            select(func.count())
            .select_from(Booking)
            .where(Booking.slot_id == slot_id, Booking.status == "active")
        ).scalar_one()
        return int(booked), int(active)


def test_fifty_people_one_last_place_exactly_one_gets_it(engine: Engine) -> None:
    (slot_id,) = _slot_ids(engine, 1)
    _set_capacity(engine, slot_id, 1)
    phones = [f"139{i:08d}" for i in range(ATTEMPTS)]
    outcomes, seconds = _hammer(engine, [slot_id] * ATTEMPTS, phones)
    print(f"\n{engine.dialect.name}: {dict(outcomes)} in {seconds:.2f}s")
    assert outcomes == Counter({"ok": 1, "full": ATTEMPTS - 1})
    assert _state(engine, slot_id) == (1, 1)


def test_fifty_people_five_places_exactly_five_get_one(engine: Engine) -> None:
    (slot_id,) = _slot_ids(engine, 1)
    _set_capacity(engine, slot_id, 5)
    phones = [f"137{i:08d}" for i in range(ATTEMPTS)]
    outcomes, _ = _hammer(engine, [slot_id] * ATTEMPTS, phones)
    assert outcomes == Counter({"ok": 5, "full": ATTEMPTS - 5})
    assert _state(engine, slot_id) == (5, 5)


def test_one_phone_many_slots_same_day_gets_exactly_one(engine: Engine) -> None:
    targets = _slot_ids(engine, 10)
    assert len(targets) == 10
    for slot_id in targets:
        _set_capacity(engine, slot_id, 50)
    attempts = [targets[i % len(targets)] for i in range(ATTEMPTS)]
    outcomes, _ = _hammer(engine, attempts, ["13800000000"] * ATTEMPTS)
    assert outcomes["ok"] == 1, outcomes
    assert outcomes["ok"] + outcomes["duplicate"] == ATTEMPTS, outcomes
    states = [_state(engine, slot_id) for slot_id in targets]
    assert sum(booked for booked, _ in states) == 1  # every refused attempt gave its place back
    assert all(booked == active for booked, active in states)
