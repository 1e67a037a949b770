"""Fixtures and helpers for the booking tests (actions/booking/*), on SQLite and PostgreSQL.

'Now' is Wednesday 2 December 2026, 10:00 Beijing time (``actions.dates.now_local`` is
patched). Each test gets a fresh database migrated with Alembic and seeded like production
(tests/actions/booking_support.py): slots for two weeks (09:00-11:30 and 14:00-17:00,
half-hour slots) on working days; 12 December (a Saturday) is a make-up working day; 9
December is declared a holiday *after* its slots were created.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, update

from actions import dates
from actions.booking.rules import phone_value
from bot.db import session as db_session
from bot.db.crypto import hash_phone
from bot.db.models import County, Holiday, Slot, Window
from bot.db.queries import booking as q
from bot.db.session import session_scope
from bot.numbers import mask_phone
from tests.actions.booking_support import NOW, fresh_database, prepare_database, tracker
from tests.actions.conftest import load_domain, render, slot_events

PHONE = "13812345678"
PHONE2 = "13987654321"
CODE_RE = re.compile(r"YY[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")
D = dt.date
T = dt.time
#: The domain the action server receives (the forms' required slots come from it).
DOMAIN = load_domain()
#: The slots of each form, as the validators read them from the domain.
BOOKING_FORM_SLOTS: list[str] = DOMAIN["forms"]["booking_form"]["required_slots"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh seeded database behind ``bot.db.session``; 'now' is :data:`NOW`."""
    with fresh_database(request.param, tmp_path) as url:
        prepare_database(
            url,
            extra_holidays=[
                Holiday(day=D(2026, 12, 12), name="调休上班", is_workday_override=True)
            ],
        )
        db_session.configure(url)
        with session_scope() as session:
            session.add(Holiday(day=D(2026, 12, 9), name="测试假日", is_workday_override=False))
        monkeypatch.setattr(dates, "now_local", lambda: NOW)
        try:
            yield url
        finally:
            db_session.reset()


@pytest.fixture
def no_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process-wide engine points at a PostgreSQL port where nothing listens."""
    db_session.configure("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere")
    monkeypatch.setattr(dates, "now_local", lambda: NOW)
    try:
        yield
    finally:
        db_session.reset()


# --- database helpers -------------------------------------------------------------------------


def slot_id(county: str, day: dt.date, start: dt.time, business: str = "id_card") -> int:
    """The id of the first window's slot of a county, business, day and start time."""
    with session_scope() as session:
        return int(
            session.execute(
                select(Slot.id)
                .join(Window, Window.id == Slot.window_id)
                .join(County, County.id == Window.county_id)
                .where(
                    County.name == county,
                    Slot.business_code == business,
                    Slot.day == day,
                    Slot.start_time == start,
                )
                .order_by(Slot.window_id)
            )
            .scalars()
            .first()
        )


def slot_ids(county: str, day: dt.date, business: str = "id_card") -> dict[int, list[int]]:
    """The slot ids of a county's day, by window id."""
    with session_scope() as session:
        rows = session.execute(
            select(Slot.window_id, Slot.id)
            .join(Window, Window.id == Slot.window_id)
            .join(County, County.id == Window.county_id)
            .where(County.name == county, Slot.business_code == business, Slot.day == day)
            .order_by(Slot.window_id, Slot.start_time)
        ).all()
    out: dict[int, list[int]] = {}
    for window, sid in rows:
        out.setdefault(int(window), []).append(int(sid))
    return out


def slot_row(sid: int) -> tuple[int, int]:
    """``(booked, capacity)`` of a slot."""
    with session_scope() as session:
        row = session.get(Slot, sid)
        return int(row.booked), int(row.capacity)


def set_capacity(sid: int, capacity: int, booked: int = 0) -> None:
    """Change a slot's capacity and bookings (``booked == capacity``: full)."""
    with session_scope() as session:
        session.execute(update(Slot).where(Slot.id == sid).values(capacity=capacity, booked=booked))


def book(sid: int, phone: str = PHONE, business: str = "id_card") -> q.BookResult:
    """Book a slot directly through the query layer."""
    with session_scope() as session:
        return q.book_slot(
            session, sid, business, "张某", hash_phone(phone), mask_phone(phone), NOW
        )


def booked_code(sid: int, phone: str = PHONE) -> str:
    """Book a slot and return the booking code."""
    result = book(sid, phone)
    assert result.status == "ok" and result.booking is not None, result
    return result.booking.code


# --- running actions ------------------------------------------------------------------------


async def act(
    action: Action, t: Any, domain: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run an action; return its slot events (last value wins) and the dispatched messages."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, DOMAIN if domain is None else domain)
    return slot_events(events), dispatcher.messages


def said(messages: list[dict[str, Any]]) -> list[str]:
    """What the citizen reads: each message's response filled in (fails on an unknown one)."""
    return [render(m) for m in messages]


def responses(messages: list[dict[str, Any]]) -> list[str]:
    """The response names of the dispatched messages (``text`` for a literal text)."""
    return [m.get("response") or "text" for m in messages]


def form_tracker(form: str, text: str, slots: dict[str, Any], requested: str | None, **kw: Any):
    """A tracker in the middle of ``form``, the latest message answering ``requested``."""
    return tracker(text=text, slots=slots, active_loop=form, requested=requested, **kw)


__all__ = [
    "BOOKING_FORM_SLOTS",
    "CODE_RE",
    "D",
    "DOMAIN",
    "NOW",
    "PHONE",
    "PHONE2",
    "T",
    "act",
    "book",
    "booked_code",
    "form_tracker",
    "phone_value",
    "responses",
    "said",
    "set_capacity",
    "slot_id",
    "slot_ids",
    "slot_row",
    "tracker",
]
