"""Working days from the ``holidays`` table (the rule itself is :mod:`bot.workdays`).

The table is filled by the seed from chinesecalendar and ``data/knowledge/calendar.yml``;
these reads give the bookings, the call-back deadlines and the slot generation one answer.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import workdays
from bot.db.models import Holiday


def holidays_between(session: Session, first: dt.date, last: dt.date) -> dict[dt.date, Holiday]:
    """Return the ``holidays`` rows (closures and make-up working days) in a date range.

    Args:
        session: open session.
        first: first day (inclusive).
        last: last day (inclusive).

    Returns:
        Rows keyed by day.

    """
    rows = session.scalars(select(Holiday).where(Holiday.day >= first, Holiday.day <= last))
    return {row.day: row for row in rows}


def holiday_overrides(session: Session, start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """Return ``day -> is_workday_override`` (False: closed, True: make-up working day).

    Args:
        session: open session.
        start: first day (inclusive).
        end: last day (inclusive).

    Returns:
        The overrides of the range (days without a row follow the weekday rule).

    """
    return {
        day: bool(row.is_workday_override)
        for day, row in holidays_between(session, start, end).items()
    }


def is_working_day(session: Session, day: dt.date) -> bool:
    """Whether windows and officers work on ``day`` (weekday, not a holiday, or make-up day).

    Args:
        session: open session.
        day: local date.

    Returns:
        True on working days.

    """
    return workdays.is_working_day(day, holiday_overrides(session, day, day))


def next_working_day(session: Session, after: dt.date) -> dt.date:
    """Return the first working day strictly after ``after``.

    Args:
        session: open session.
        after: local date.

    Returns:
        The next working day (looks at most :data:`bot.workdays.MAX_CLOSED_RUN` days ahead).

    """
    last = after + dt.timedelta(days=workdays.MAX_CLOSED_RUN)
    return workdays.next_working_day(after, holiday_overrides(session, after, last))


def working_days(session: Session, first: dt.date, last: dt.date) -> set[dt.date]:
    """Return the working days of a date range.

    Args:
        session: open session.
        first: first day (inclusive).
        last: last day (inclusive).

    Returns:
        The working days.

    """
    overrides = holiday_overrides(session, first, last)
    days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return {day for day in days if workdays.is_working_day(day, overrides)}


def closed_reason(session: Session, day: dt.date) -> str | None:
    """Say why a day is not a working day, or None if it is one.

    Args:
        session: open session.
        day: the day.

    Returns:
        ``"周六"``/``"周日"``, the holiday's name (``"元旦"``), or None for a working day.

    """
    row = holidays_between(session, day, day).get(day)
    if row is None:
        return workdays.closed_reason(day, None)
    return workdays.closed_reason(day, bool(row.is_workday_override), str(row.name))
