"""Bookable slots: which businesses, counties, days and times are free (read-only).

Bookable means: the slot is free (``booked < capacity``), its day is a working day (the rule of
:mod:`bot.workdays` on the ``holidays`` table: weekends and holidays are never bookable, even if
slots exist for them; make-up working days are), it lies within the booking horizon of
``data/knowledge/booking.yml`` (:mod:`bot.booking_settings`) and it starts after ``now``
(Beijing time). Booking, cancelling and moving a place are in :mod:`bot.db.queries.booking`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot import knowledge
from bot.booking_settings import booking_settings
from bot.db.models import BusinessType, County, Slot, Window, WindowBusiness
from bot.db.queries.workdays import is_working_day, working_days


@dataclass(frozen=True)
class SlotView:
    """A slot with its window, as shown to the citizen."""

    id: int
    window_id: int
    window_name: str
    county: str
    address: str
    window_phone: str
    business_code: str
    day: dt.date
    start_time: dt.time
    end_time: dt.time
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        """Places still free."""
        return self.capacity - self.booked

    @property
    def time_label(self) -> str:
        """``09:00-09:30``."""
        return f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"


# --- reference data ------------------------------------------------------------------------


def list_business_types(session: Session) -> list[tuple[str, str]]:
    """Return ``(code, name)`` of the businesses that some window takes bookings for.

    Args:
        session: open session.

    Returns:
        Pairs in the order of ``data/knowledge/vocabulary.yml`` (most asked first).

    """
    rows = session.execute(
        select(BusinessType.code, BusinessType.name).where(
            BusinessType.code.in_(select(WindowBusiness.business_code).distinct())
        )
    ).all()
    order = [term.code for term in knowledge.business_types()]
    pairs = [(str(code), str(name)) for code, name in rows]
    return sorted(pairs, key=lambda p: (order.index(p[0]) if p[0] in order else len(order), p[0]))


def business_name(session: Session, code: str) -> str | None:
    """Return the Chinese name of a business type, or None if unknown.

    Args:
        session: open session.
        code: business code (``id_card`` ...).

    Returns:
        The name, e.g. ``身份证办理``.

    """
    value = session.execute(select(BusinessType.name).where(BusinessType.code == code)).scalar()
    return str(value) if value is not None else None


def list_counties(session: Session, business_code: str | None = None) -> list[str]:
    """Return county names (table order) that have a window, optionally for one business.

    Args:
        session: open session.
        business_code: only counties with a window handling this business.

    Returns:
        Canonical county names.

    """
    query = select(County.name).join(Window, Window.county_id == County.id)
    if business_code:
        query = query.join(WindowBusiness, WindowBusiness.window_id == Window.id).where(
            WindowBusiness.business_code == business_code
        )
    rows = session.execute(query.group_by(County.id, County.name).order_by(County.id)).all()
    return [str(row[0]) for row in rows]


# --- availability --------------------------------------------------------------------------


def _slot_columns() -> tuple:
    return (
        Slot.id,
        Slot.window_id,
        Window.name,
        County.name,
        Window.address,
        Window.phone,
        Slot.business_code,
        Slot.day,
        Slot.start_time,
        Slot.end_time,
        Slot.capacity,
        Slot.booked,
    )


def _slot_view(row: Iterable) -> SlotView:
    (sid, wid, wname, cname, address, phone, code, day, start, end, cap, booked) = tuple(row)
    return SlotView(
        id=int(sid),
        window_id=int(wid),
        window_name=str(wname),
        county=str(cname),
        address=str(address),
        window_phone=str(phone),
        business_code=str(code),
        day=day,
        start_time=start,
        end_time=end,
        capacity=int(cap),
        booked=int(booked),
    )


def last_bookable_day(today: dt.date, horizon_days: int | None = None) -> dt.date:
    """Return the last day citizens can book when it is ``today``.

    Args:
        today: the local date.
        horizon_days: days ahead (None: ``horizon_days`` of ``booking.yml``).

    Returns:
        The day.

    """
    if horizon_days is None:
        return booking_settings().last_day(today)
    return today + dt.timedelta(days=horizon_days)


def _future_condition(now: dt.datetime):  # type: ignore[no-untyped-def]
    today = now.date()
    return or_(Slot.day > today, and_(Slot.day == today, Slot.start_time > now.time()))


def available_days(
    session: Session,
    business_code: str,
    county: str,
    now: dt.datetime,
    limit: int = 6,
    horizon_days: int | None = None,
) -> list[tuple[dt.date, int]]:
    """Return the next working days with free places for a business in a county.

    Args:
        session: open session.
        business_code: business code.
        county: canonical county name.
        now: current Beijing time (naive).
        limit: at most this many days.
        horizon_days: days ahead (None: ``horizon_days`` of ``booking.yml``).

    Returns:
        ``(day, free places)`` pairs in date order.

    """
    today = now.date()
    last = last_bookable_day(today, horizon_days)
    rows = session.execute(
        select(Slot.day, func.sum(Slot.capacity - Slot.booked))
        .join(Window, Window.id == Slot.window_id)
        .join(County, County.id == Window.county_id)
        .where(
            County.name == county,
            Slot.business_code == business_code,
            Slot.booked < Slot.capacity,
            Slot.day <= last,
            _future_condition(now),
        )
        .group_by(Slot.day)
        .order_by(Slot.day)
    ).all()
    open_days = working_days(session, today, last)
    result: list[tuple[dt.date, int]] = []
    for day, free in rows:
        if day in open_days and free:
            result.append((day, int(free)))
            if len(result) >= limit:
                break
    return result


def available_slots(
    session: Session, business_code: str, county: str, day: dt.date, now: dt.datetime
) -> list[SlotView]:
    """Return the free, future slots of a business in a county on one working day.

    Args:
        session: open session.
        business_code: business code.
        county: canonical county name.
        day: the day.
        now: current Beijing time (naive).

    Returns:
        Slots ordered by start time, then window; empty on a weekend or holiday and beyond the
        booking horizon.

    """
    if not now.date() <= day <= last_bookable_day(now.date()):
        return []
    if not is_working_day(session, day):
        return []
    rows = session.execute(
        select(*_slot_columns())
        .join(Window, Window.id == Slot.window_id)
        .join(County, County.id == Window.county_id)
        .where(
            County.name == county,
            Slot.business_code == business_code,
            Slot.day == day,
            Slot.booked < Slot.capacity,
            _future_condition(now),
        )
        .order_by(Slot.start_time, Slot.window_id)
    ).all()
    return [_slot_view(row) for row in rows]


def get_slot(session: Session, slot_id: int) -> SlotView | None:
    """Return one slot with its window, or None.

    Args:
        session: open session.
        slot_id: slot id.

    Returns:
        The slot view.

    """
    row = session.execute(
        select(*_slot_columns())
        .join(Window, Window.id == Slot.window_id)
        .join(County, County.id == Window.county_id)
        .where(Slot.id == slot_id)
    ).first()
    return _slot_view(row) if row is not None else None


def is_bookable(session: Session, slot: SlotView, now: dt.datetime) -> bool:
    """Whether a slot may be booked now (its places aside): future, working day, in the horizon.

    Args:
        session: open session.
        slot: the slot.
        now: current Beijing time (naive).

    Returns:
        True if a place of it may be taken.

    """
    if dt.datetime.combine(slot.day, slot.start_time) <= now:
        return False
    if slot.day > last_bookable_day(now.date()):
        return False
    return is_working_day(session, slot.day)
