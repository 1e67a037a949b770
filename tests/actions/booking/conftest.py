"""Fixtures and helpers for the booking tests (actions/booking/*), on SQLite and PostgreSQL.

'Now' is Wednesday 2 December 2026, 10:00 Beijing time (``actions.dates.now_local`` is
patched). Each test gets its own copy of a database migrated with Alembic and seeded like
production once per session (tests/actions/booking_support.py): slots for two weeks
(09:00-11:30 and 14:00-17:00, half-hour slots) on working days; 12 December (a Saturday) is
a make-up working day; 9 December is declared a holiday *after* its slots were created.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from actions import dates
from actions.booking.rules import phone_value
from bot.db import session as db_session
from bot.db.crypto import hash_phone
from bot.db.models import County, Holiday, Slot, Window
from bot.db.queries import booking as q
from bot.db.session import make_engine, session_scope
from bot.numbers import mask_phone
from tests.actions.booking_support import (
    NOW,
    PG_SERVER,
    fresh_database,
    prepare_database,
    tracker,
)
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


def _prepare(url: str) -> None:
    """Migrate and seed like production, with the two calendar changes the tests rely on."""
    prepare_database(
        url,
        extra_holidays=[Holiday(day=D(2026, 12, 12), name="调休上班", is_workday_override=True)],
    )
    engine = make_engine(url)
    try:
        with Session(engine, future=True) as session, session.begin():
            session.add(Holiday(day=D(2026, 12, 9), name="测试假日", is_workday_override=False))
    finally:
        engine.dispose()


class _Templates:
    """One prepared database per kind and test session; each test gets its own copy.

    Copying a file (SQLite) or ``CREATE DATABASE … TEMPLATE`` (PostgreSQL) takes a fraction of
    migrating and seeding a database for every test.
    """

    def __init__(self, stack: ExitStack, directory: Path) -> None:
        self.stack, self.directory, self.urls = stack, directory, {}

    def template(self, kind: str) -> str:
        if kind not in self.urls:
            url = self.stack.enter_context(fresh_database(kind, self.directory))
            _prepare(url)
            self.urls[kind] = url
        return self.urls[kind]

    @contextmanager
    def copy(self, kind: str, tmp_path: Path) -> Iterator[str]:
        template = self.template(kind)
        if kind == "sqlite":
            target = tmp_path / "booking.db"
            shutil.copyfile(template.removeprefix("sqlite:///"), target)
            yield f"sqlite:///{target}"
            return
        name = f"booking_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(
                    text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"')
                )
            yield f"{PG_SERVER}/{name}"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    with ExitStack() as stack:
        yield _Templates(stack, tmp_path_factory.mktemp("booking-templates"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    _templates: _Templates,
) -> Iterator[str]:
    """A fresh seeded database behind ``bot.db.session``; 'now' is :data:`NOW`."""
    with _templates.copy(request.param, tmp_path) as url:
        db_session.configure(url)
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


def horizon_days() -> int:
    """How many days ahead bookings are taken, as the booking rules read it.

    ``DEFAULT_HORIZON_DAYS`` here; main now reads it from data/knowledge/booking.yml through
    ``horizon_days()`` (after the merge this can be just ``q.horizon_days()``).
    """
    setting = getattr(q, "horizon_days", None)
    return int(setting()) if callable(setting) else int(q.DEFAULT_HORIZON_DAYS)


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


async def run_action(
    action: Action, t: Any, domain: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run an action with the real domain; return its events and the dispatched messages."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, DOMAIN if domain is None else domain)
    return events, dispatcher.messages


async def act(
    action: Action, t: Any, domain: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run an action; return its slot events (last value wins) and the dispatched messages."""
    events, messages = await run_action(action, t, domain)
    return slot_events(events), messages


def followups(events: list[dict[str, Any]]) -> list[str]:
    """Names of the ``FollowupAction`` events."""
    return [e["name"] for e in events if e.get("event") == "followup"]


def said(messages: list[dict[str, Any]]) -> list[str]:
    """What the citizen reads: each message's response filled in (fails on an unknown one)."""
    return [render(m) for m in messages]


def responses(messages: list[dict[str, Any]]) -> list[str]:
    """The response names of the dispatched messages (``text`` for a literal text)."""
    return [m.get("response") or "text" for m in messages]


def answered_again(text: str, intent: str, slots: dict[str, Any] | None = None) -> Any:
    """The date question's answer after an interruption was answered: no new user message.

    The form runs again after a rule answered a question (a FAQ) inside it; the old message
    is the latest one, but it must not be read as an answer.
    """
    return tracker(
        text=text,
        intent=intent,
        slots=slots,
        active_loop="booking_form",
        requested="booking_date",
        events=[
            {"event": "action", "name": "utter_faq"},
            {"event": "bot", "text": "可以办理。"},
            {"event": "slot", "name": "requested_slot", "value": "booking_date"},
            {"event": "action", "name": "booking_form"},
        ],
    )


def answered_now(text: str, slots: dict[str, Any] | None = None) -> Any:
    """The date question's answer as a fresh user message (only slot filling since)."""
    return tracker(
        text=text,
        slots=slots,
        active_loop="booking_form",
        requested="booking_date",
        events=[
            {"event": "slot", "name": "requested_slot", "value": "booking_date"},
            {"event": "action", "name": "booking_form"},
        ],
    )


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
    "answered_again",
    "answered_now",
    "book",
    "booked_code",
    "followups",
    "form_tracker",
    "horizon_days",
    "phone_value",
    "responses",
    "run_action",
    "said",
    "set_capacity",
    "slot_id",
    "slot_ids",
    "slot_row",
    "tracker",
]
