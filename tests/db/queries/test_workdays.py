"""Working days read from the holidays table: one answer for bookings and call-backs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db.models import Holiday
from bot.db.queries import booking, directory, workdays
from bot.db.seed import seed_holidays

D = dt.date


@pytest.fixture()
def session(seeded_engine: Engine) -> Iterator[Session]:
    with Session(seeded_engine, future=True) as s:
        seed_holidays(s, years=[2026, 2027])
        yield s
        s.rollback()


def test_national_day_week_and_its_make_up_saturday(session: Session) -> None:
    days = workdays.working_days(session, D(2026, 9, 28), D(2026, 10, 11))
    assert days == {D(2026, 9, 28), D(2026, 9, 29), D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9),
                    D(2026, 10, 10)}  # fmt: skip
    assert workdays.next_working_day(session, D(2026, 9, 30)) == D(2026, 10, 8)
    assert workdays.closed_reason(session, D(2026, 10, 1)) == "国庆节"


def test_a_day_declared_closed_later_is_closed_everywhere(session: Session) -> None:
    session.add(Holiday(day=D(2026, 12, 9), name="临时闭馆", is_workday_override=False))
    session.flush()
    assert not workdays.is_working_day(session, D(2026, 12, 9))
    assert not directory.is_working_day(session, D(2026, 12, 9))  # the former import paths
    assert booking.closed_reason(session, D(2026, 12, 9)) == "临时闭馆"
    assert directory.next_working_day(session, D(2026, 12, 8)) == D(2026, 12, 10)
