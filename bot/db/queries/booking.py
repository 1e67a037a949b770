"""Booking queries: free slots, booking, lookup, cancellation and rescheduling.

Every function takes an open :class:`~sqlalchemy.orm.Session` as its first argument and is
synchronous; the action server runs them in a worker thread (``actions.db.run_db``) with a
short session that commits on success and rolls back on error. Like the other query modules
they never commit themselves (the caller's ``session_scope()`` does); where a step already
wrote something and the attempt then fails (a place taken, then the insert refused), they roll
the session back before returning, so nothing half-done can be committed.

Bookable means: the slot is free (``booked < capacity``), its day is a working day (Monday to
Friday and not a public holiday, or a make-up working day listed in ``holidays`` with
``is_workday_override``), and it starts after ``now`` (Beijing time). Weekends and holidays are
never bookable, even if slots exist for them.

The last place of a slot can never be given twice: a booking takes its place with one atomic
conditional ``UPDATE slots SET booked = booked + 1 WHERE id = :id AND booked < capacity`` and
inserts the booking row in the same transaction. If the update touches no row the slot is full;
if the insert fails (the partial unique index: one active booking per phone, business and day)
the whole transaction, including the place taken, is rolled back.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import (
    Booking,
    BusinessType,
    County,
    Holiday,
    Slot,
    Window,
    WindowBusiness,
    utcnow,
)

#: Characters of booking codes (no 0/O, 1/I/L: easy to read out and type).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_PREFIX = "YY"
CODE_LENGTH = 6
#: Order in which businesses are offered (most asked first).
BUSINESS_ORDER: tuple[str, ...] = (
    "id_card",
    "hukou_move_in",
    "birth_registration",
    "residence_permit",
    "hukou_booklet",
    "certificate",
    "death_deregistration",
    "other",
)
#: How far ahead the assistant offers days.
DEFAULT_HORIZON_DAYS = 30

BookStatus = Literal["ok", "full", "duplicate", "unavailable"]
CancelStatus = Literal["ok", "not_found", "already_cancelled", "past"]
RescheduleStatus = Literal[
    "ok", "not_found", "cancelled", "past", "full", "duplicate", "unavailable", "same"
]


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


@dataclass(frozen=True)
class BookingView:
    """A booking with its slot and window (no personal data beyond the masked fields)."""

    code: str
    status: str
    business_code: str
    business_name: str
    day: dt.date
    start_time: dt.time
    end_time: dt.time
    window_name: str
    county: str
    address: str
    window_phone: str
    name_masked: str
    phone_masked: str
    slot_id: int

    @property
    def time_label(self) -> str:
        """``09:00-09:30``."""
        return f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"


@dataclass(frozen=True)
class BookResult:
    """Outcome of :func:`book_slot`."""

    status: BookStatus
    booking: BookingView | None = None


@dataclass(frozen=True)
class CancelResult:
    """Outcome of :func:`cancel_booking`."""

    status: CancelStatus
    booking: BookingView | None = None


@dataclass(frozen=True)
class RescheduleResult:
    """Outcome of :func:`reschedule_booking`."""

    status: RescheduleStatus
    booking: BookingView | None = None


def new_booking_code() -> str:
    """Return a fresh random booking code such as ``YY7KQ2MD``."""
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """Upper-case a booking code and drop spaces/dashes (``yy 7kq-2md`` -> ``YY7KQ2MD``).

    Args:
        text: the code as typed.

    Returns:
        The normalised code (not validated).

    """
    return "".join(ch for ch in text.upper() if ch.isalnum())


# --- working days --------------------------------------------------------------------------


def holidays_between(session: Session, first: dt.date, last: dt.date) -> dict[dt.date, Holiday]:
    """Return the ``holidays`` rows (closures and make-up working days) in a date range.

    Args:
        session: open session.
        first: first day (inclusive).
        last: last day (inclusive).

    Returns:
        Rows keyed by day.

    """
    rows = session.execute(
        select(Holiday).where(Holiday.day >= first, Holiday.day <= last)
    ).scalars()
    return {row.day: row for row in rows}


def _is_working_day(day: dt.date, holiday: Holiday | None) -> bool:
    if holiday is not None:
        return bool(holiday.is_workday_override)
    return day.weekday() < 5


def closed_reason(session: Session, day: dt.date) -> str | None:
    """Say why a day is not a working day, or None if it is one.

    Args:
        session: open session.
        day: the day.

    Returns:
        ``"周六"``/``"周日"``, the holiday's name (``"元旦"``), or None for a working day.

    """
    holiday = holidays_between(session, day, day).get(day)
    if _is_working_day(day, holiday):
        return None
    if holiday is not None:
        return str(holiday.name)
    return "周六" if day.weekday() == 5 else "周日"


# --- reference data ------------------------------------------------------------------------


def list_business_types(session: Session) -> list[tuple[str, str]]:
    """Return ``(code, name)`` of the businesses that some window takes bookings for.

    Args:
        session: open session.

    Returns:
        Pairs, most asked business first (:data:`BUSINESS_ORDER`).

    """
    rows = session.execute(
        select(BusinessType.code, BusinessType.name).where(
            BusinessType.code.in_(select(WindowBusiness.business_code).distinct())
        )
    ).all()
    pairs = [(str(code), str(name)) for code, name in rows]
    return sorted(
        pairs,
        key=lambda p: (
            BUSINESS_ORDER.index(p[0]) if p[0] in BUSINESS_ORDER else len(BUSINESS_ORDER),
            p[0],
        ),
    )


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


def _future_condition(now: dt.datetime):  # type: ignore[no-untyped-def]
    today = now.date()
    return or_(Slot.day > today, and_(Slot.day == today, Slot.start_time > now.time()))


def available_days(
    session: Session,
    business_code: str,
    county: str,
    now: dt.datetime,
    limit: int = 6,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> list[tuple[dt.date, int]]:
    """Return the next working days with free places for a business in a county.

    Args:
        session: open session.
        business_code: business code.
        county: canonical county name.
        now: current Beijing time (naive).
        limit: at most this many days.
        horizon_days: look this many days ahead.

    Returns:
        ``(day, free places)`` pairs in date order.

    """
    today = now.date()
    last = today + dt.timedelta(days=horizon_days)
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
    holidays = holidays_between(session, today, last)
    result: list[tuple[dt.date, int]] = []
    for day, free in rows:
        if _is_working_day(day, holidays.get(day)) and free:
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
        Slots ordered by start time, then window; empty on a weekend or holiday.

    """
    if not _is_working_day(day, holidays_between(session, day, day).get(day)):
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


def _slot_bookable(session: Session, slot: SlotView, now: dt.datetime) -> bool:
    if dt.datetime.combine(slot.day, slot.start_time) <= now:
        return False
    return _is_working_day(slot.day, holidays_between(session, slot.day, slot.day).get(slot.day))


# --- bookings ------------------------------------------------------------------------------


def _booking_view(session: Session, booking: Booking) -> BookingView:
    slot = get_slot(session, int(booking.slot_id))
    assert slot is not None
    return BookingView(
        code=str(booking.code),
        status=str(booking.status),
        business_code=str(booking.business_code),
        business_name=business_name(session, str(booking.business_code)) or "",
        day=booking.day,
        start_time=slot.start_time,
        end_time=slot.end_time,
        window_name=slot.window_name,
        county=slot.county,
        address=slot.address,
        window_phone=slot.window_phone,
        name_masked=str(booking.name_masked),
        phone_masked=str(booking.phone_masked),
        slot_id=slot.id,
    )


def _has_active_booking(
    session: Session,
    phone_hash: str,
    business_code: str,
    day: dt.date,
    exclude_code: str | None = None,
) -> bool:
    query = select(Booking.id).where(
        Booking.phone_hash == phone_hash,
        Booking.business_code == business_code,
        Booking.day == day,
        Booking.status == "active",
    )
    if exclude_code:
        query = query.where(Booking.code != exclude_code)
    return session.execute(query.limit(1)).first() is not None


def _take_place(session: Session, slot_id: int) -> bool:
    """Atomically take one place of a slot; False if it was already full."""
    result = session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.booked < Slot.capacity)
        .values(booked=Slot.booked + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


def _release_place(session: Session, slot_id: int) -> None:
    session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.booked > 0)
        .values(booked=Slot.booked - 1)
        .execution_options(synchronize_session=False)
    )


def book_slot(
    session: Session,
    slot_id: int,
    business_code: str,
    name_masked: str,
    phone_hash: str,
    phone_masked: str,
    now: dt.datetime,
    max_code_attempts: int = 5,
) -> BookResult:
    """Book one place of a slot for a citizen, atomically.

    The place is taken with a conditional UPDATE and the booking row inserted in the same
    transaction; any failure rolls the session back, so a failed attempt never leaves a place
    taken. The caller commits (``session_scope()``).

    Args:
        session: open session (rolled back here on failure; the caller commits).
        slot_id: the slot to book.
        business_code: the business the citizen chose (must be the slot's).
        name_masked: the citizen's name, already masked (``张*``).
        phone_hash: :func:`bot.db.crypto.hash_phone` of the phone number.
        phone_masked: ``138****5678``.
        now: current Beijing time (naive).
        max_code_attempts: retries on the (astronomically rare) booking-code collision.

    Returns:
        ``ok`` with the booking; ``full`` (no place left), ``duplicate`` (this phone already
        holds an active booking for this business that day) or ``unavailable`` (no such slot,
        wrong business, weekend/holiday or in the past).

    """
    slot = get_slot(session, slot_id)
    if (
        slot is None
        or slot.business_code != business_code
        or not _slot_bookable(session, slot, now)
    ):
        session.rollback()
        return BookResult("unavailable")
    if _has_active_booking(session, phone_hash, business_code, slot.day):
        session.rollback()
        return BookResult("duplicate")
    for _attempt in range(max_code_attempts):
        if not _take_place(session, slot_id):
            session.rollback()
            return BookResult("full")
        booking = Booking(
            code=new_booking_code(),
            slot_id=slot_id,
            business_code=business_code,
            day=slot.day,
            name_masked=name_masked,
            phone_hash=phone_hash,
            phone_masked=phone_masked,
            status="active",
        )
        session.add(booking)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()  # gives the place back too
            if _has_active_booking(session, phone_hash, business_code, slot.day):
                session.rollback()
                return BookResult("duplicate")
            continue  # booking-code collision: try again with a new code
        view = _booking_view(session, booking)
        return BookResult("ok", view)
    session.rollback()
    return BookResult("unavailable")


def find_booking(session: Session, code: str, phone_hash: str) -> BookingView | None:
    """Look a booking up by its code and the booker's phone (both must match).

    Args:
        session: open session.
        code: booking code (normalised with :func:`normalise_code`).
        phone_hash: hash of the phone the booking was made with.

    Returns:
        The booking (active or cancelled), or None. Wrong code and wrong phone look the same.

    """
    booking = session.execute(
        select(Booking).where(
            Booking.code == normalise_code(code), Booking.phone_hash == phone_hash
        )
    ).scalar_one_or_none()
    return _booking_view(session, booking) if booking is not None else None


def _lock_booking(session: Session, code: str, phone_hash: str) -> Booking | None:
    return session.execute(
        select(Booking)
        .where(Booking.code == normalise_code(code), Booking.phone_hash == phone_hash)
        .with_for_update()
    ).scalar_one_or_none()


def cancel_booking(session: Session, code: str, phone_hash: str, now: dt.datetime) -> CancelResult:
    """Cancel an active booking and give its place back, in one transaction.

    Args:
        session: open session (rolled back here on failure; the caller commits).
        code: booking code.
        phone_hash: hash of the booker's phone.
        now: current Beijing time (naive).

    Returns:
        ``ok``, ``not_found``, ``already_cancelled`` or ``past`` (the slot has started).

    """
    booking = _lock_booking(session, code, phone_hash)
    if booking is None:
        session.rollback()
        return CancelResult("not_found")
    view = _booking_view(session, booking)
    if booking.status != "active":
        session.rollback()
        return CancelResult("already_cancelled", view)
    if dt.datetime.combine(view.day, view.start_time) <= now:
        session.rollback()
        return CancelResult("past", view)
    # Conditional on status: two concurrent cancels cannot both give the place back.
    result = session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == "active")
        .values(status="cancelled", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        return CancelResult("already_cancelled", view)
    _release_place(session, int(booking.slot_id))
    return CancelResult("ok", _replace_status(view, "cancelled"))


def _replace_status(view: BookingView, status: str) -> BookingView:
    return replace(view, status=status)


def reschedule_booking(
    session: Session, code: str, phone_hash: str, new_slot_id: int, now: dt.datetime
) -> RescheduleResult:
    """Move an active booking to another slot of the same business, atomically.

    The new place is taken (conditional UPDATE), the old one given back and the booking row
    moved, all in one transaction; the booking code stays the same.

    Args:
        session: open session (rolled back here on failure; the caller commits).
        code: booking code.
        phone_hash: hash of the booker's phone.
        new_slot_id: the slot to move to.
        now: current Beijing time (naive).

    Returns:
        ``ok`` with the moved booking, or ``not_found``, ``cancelled``, ``past`` (the old slot
        has started), ``same``, ``unavailable`` (new slot missing, other business, closed day,
        past), ``full`` or ``duplicate`` (another active booking that day for this business).

    """
    booking = _lock_booking(session, code, phone_hash)
    if booking is None:
        session.rollback()
        return RescheduleResult("not_found")
    old = _booking_view(session, booking)
    if booking.status != "active":
        session.rollback()
        return RescheduleResult("cancelled", old)
    if dt.datetime.combine(old.day, old.start_time) <= now:
        session.rollback()
        return RescheduleResult("past", old)
    if int(booking.slot_id) == new_slot_id:
        session.rollback()
        return RescheduleResult("same", old)
    new = get_slot(session, new_slot_id)
    if (
        new is None
        or new.business_code != booking.business_code
        or not _slot_bookable(session, new, now)
    ):
        session.rollback()
        return RescheduleResult("unavailable", old)
    if _has_active_booking(
        session, str(booking.phone_hash), str(booking.business_code), new.day, exclude_code=old.code
    ):
        session.rollback()
        return RescheduleResult("duplicate", old)
    if not _take_place(session, new_slot_id):
        session.rollback()
        return RescheduleResult("full", old)
    old_slot_id = int(booking.slot_id)
    try:
        moved = session.execute(
            update(Booking)
            .where(
                Booking.id == booking.id,
                Booking.status == "active",
                Booking.slot_id == old_slot_id,
            )
            .values(slot_id=new_slot_id, day=new.day, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    except IntegrityError:  # a concurrent booking took that day for this phone meanwhile
        session.rollback()
        return RescheduleResult("duplicate", old)
    if moved.rowcount != 1:
        session.rollback()
        return RescheduleResult("cancelled", old)
    _release_place(session, old_slot_id)
    session.expire_all()
    refreshed = session.execute(select(Booking).where(Booking.id == booking.id)).scalar_one()
    view = _booking_view(session, refreshed)
    return RescheduleResult("ok", view)
