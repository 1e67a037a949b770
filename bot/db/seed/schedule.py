"""The working-day calendar and the bookable slots.

- ``holidays``: the State Council's holidays and make-up working days from chinesecalendar and
  ``data/knowledge/calendar.yml`` (:func:`bot.workdays.calendar_for_years`), rebuilt for the
  years the seed covers, so a newer chinesecalendar or an officer's edit replaces the rows;
- ``slots``: the slot grid of ``data/knowledge/booking.yml`` (:mod:`bot.booking_settings`) for
  every window and business on the working days from today to the end of the booking horizon;
  existing slots (and their bookings) are never touched.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot import workdays
from bot.booking_settings import booking_settings
from bot.db.models import Holiday, Slot, WindowBusiness


def calendar_years(today: dt.date) -> range:
    """Return the years the seed keeps in ``holidays``: last year, this year and the next."""
    return range(today.year - 1, today.year + 2)


def seed_holidays(
    session: Session, today: dt.date | None = None, years: Iterable[int] | None = None
) -> int:
    """Rebuild the ``holidays`` rows of whole years (rows of other years are left alone).

    Args:
        session: an open session (the caller commits).
        today: the local date that decides the years (default: today in Beijing).
        years: the years to rebuild instead (default: :func:`calendar_years`).

    Returns:
        Number of ``holidays`` rows of those years.

    """
    wanted = sorted(
        set(years if years is not None else calendar_years(today or workdays.today_local()))
    )
    rows = workdays.calendar_for_years(wanted)
    first, last = dt.date(wanted[0], 1, 1), dt.date(wanted[-1], 12, 31)
    existing = {
        h.day: h
        for h in session.scalars(select(Holiday).where(Holiday.day >= first, Holiday.day <= last))
    }
    stale = [day for day in existing if day not in rows and day.year in wanted]
    if stale:
        session.execute(delete(Holiday).where(Holiday.day.in_(stale)))
    for day, entry in rows.items():
        row = existing.get(day)
        if row is None:
            session.add(Holiday(day=day, name=entry.name, is_workday_override=entry.working))
        elif (row.name, bool(row.is_workday_override)) != (entry.name, entry.working):
            row.name, row.is_workday_override = entry.name, entry.working
    session.flush()
    return len(rows)


def _insert_ignore(
    conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]
) -> int:
    if not rows:
        return 0
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    # rowcount is unreliable for batched inserts on psycopg2: count before and after instead.
    before = conn.execute(select(func.count()).select_from(table)).scalar_one()
    for start in range(0, len(rows), 5000):
        conn.execute(stmt, rows[start : start + 5000])
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one() - before)


def seed_slots(session: Session, today: dt.date, days: int | None = None) -> int:
    """Add the missing slots from ``today`` to the end of the horizon (existing ones are kept).

    Args:
        session: an open session (the caller commits).
        today: first day (local date).
        days: number of calendar days (default: today and the ``horizon_days`` after it, from
            ``data/knowledge/booking.yml``).

    Returns:
        Number of slots added.

    """
    settings = booking_settings()
    if days is None:
        days = settings.horizon_days + 1
    last = today + dt.timedelta(days=days - 1)
    overrides = {
        h.day: bool(h.is_workday_override)
        for h in session.scalars(select(Holiday).where(Holiday.day >= today, Holiday.day <= last))
    }
    pairs = session.execute(select(WindowBusiness.window_id, WindowBusiness.business_code)).all()
    grid = settings.slot_times()
    spread = settings.capacity_max - settings.capacity_min + 1
    rows = []
    for offset in range(days):
        day = today + dt.timedelta(days=offset)
        if not workdays.is_working_day(day, overrides):
            continue
        for window_id, code in pairs:
            for start, end in grid:
                key = f"{window_id}|{code}|{day.isoformat()}|{start.isoformat()}"
                rows.append(
                    {
                        "window_id": window_id,
                        "business_code": code,
                        "day": day,
                        "start_time": start,
                        "end_time": end,
                        "capacity": settings.capacity_min + zlib.crc32(key.encode()) % spread,
                        "booked": 0,
                    }
                )
    return _insert_ignore(
        session.connection(),
        Slot.__table__,
        rows,
        ["window_id", "business_code", "day", "start_time"],
    )
