"""Booking queries: booking a place, looking a booking up, cancelling and rescheduling it.

Every function takes an open :class:`~sqlalchemy.orm.Session` as its first argument and is
synchronous; the action server runs them in a worker thread (``actions.db.run_db``) with a
short session that commits on success and rolls back on error. Like the other query modules
they never commit themselves (the caller's ``session_scope()`` does); where a step already
wrote something and the attempt then fails (a place taken, then the insert refused), they roll
the session back before returning, so nothing half-done can be committed.

Which slots are free and bookable is :mod:`bot.db.queries.slots`; which days are working days
is :mod:`bot.db.queries.workdays`. Their public names are importable from here too, so this
stays the one module the booking actions import.

The last place of a slot can never be given twice: a booking takes its place with one atomic
conditional ``UPDATE slots SET booked = booked + 1 WHERE id = :id AND booked < capacity`` and
inserts the booking row in the same transaction. If the update touches no row the slot is full;
if the insert fails (the partial unique index: one active booking per phone, business and day)
the whole transaction, including the place taken, is rolled back.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.booking_settings import booking_settings
from bot.db.models import Booking, Slot, utcnow
from bot.db.queries.slots import SlotView as SlotView
from bot.db.queries.slots import available_days as available_days
from bot.db.queries.slots import available_slots as available_slots
from bot.db.queries.slots import business_name as business_name
from bot.db.queries.slots import get_slot as get_slot
from bot.db.queries.slots import is_bookable
from bot.db.queries.slots import last_bookable_day as last_bookable_day
from bot.db.queries.slots import list_business_types as list_business_types
from bot.db.queries.slots import list_counties as list_counties
from bot.db.queries.workdays import closed_reason as closed_reason
from bot.db.queries.workdays import holidays_between as holidays_between
from bot.db.views import view_of

#: Characters of booking codes (no 0/O, 1/I/L: easy to read out and type).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_PREFIX = "YY"
CODE_LENGTH = 6

BookStatus = Literal["ok", "full", "duplicate", "unavailable"]
CancelStatus = Literal["ok", "not_found", "already_cancelled", "past"]
RescheduleStatus = Literal[
    "ok", "not_found", "cancelled", "past", "full", "duplicate", "unavailable", "same"
]


def horizon_days() -> int:
    """Return how many days ahead citizens can book (``horizon_days`` of ``booking.yml``)."""
    return booking_settings().horizon_days


def __getattr__(name: str) -> Any:
    """Serve ``DEFAULT_HORIZON_DAYS`` (the former constant) from ``booking.yml``."""
    if name == "DEFAULT_HORIZON_DAYS":
        return horizon_days()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


# --- bookings ------------------------------------------------------------------------------


def _booking_view(session: Session, booking: Booking) -> BookingView:
    slot = get_slot(session, int(booking.slot_id))
    assert slot is not None
    return view_of(
        BookingView,
        booking,
        business_name=business_name(session, str(booking.business_code)) or "",
        start_time=slot.start_time,
        end_time=slot.end_time,
        window_name=slot.window_name,
        county=slot.county,
        address=slot.address,
        window_phone=slot.window_phone,
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
    if slot is None or slot.business_code != business_code or not is_bookable(session, slot, now):
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


def _changeable(
    session: Session, code: str, phone_hash: str, now: dt.datetime, inactive: str
) -> tuple[Booking | None, BookingView | None, str | None]:
    """Lock a booking that may still change: active and not started (else roll back).

    Returns:
        ``(booking, view, None)``, or the reason it may not: ``not_found``, ``inactive``'s
        value for a cancelled booking, ``past`` when its slot has started.
    """
    booking = _lock_booking(session, code, phone_hash)
    view = _booking_view(session, booking) if booking is not None else None
    if booking is None or view is None:
        refusal = "not_found"
    elif booking.status != "active":
        refusal = inactive
    elif dt.datetime.combine(view.day, view.start_time) <= now:
        refusal = "past"
    else:
        return booking, view, None
    session.rollback()
    return booking, view, refusal


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
    booking, view, refusal = _changeable(session, code, phone_hash, now, "already_cancelled")
    if refusal or booking is None or view is None:
        return CancelResult(cast(CancelStatus, refusal or "not_found"), view)
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
    return CancelResult("ok", replace(view, status="cancelled"))


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
    booking, old, refusal = _changeable(session, code, phone_hash, now, "cancelled")
    if refusal or booking is None or old is None:
        return RescheduleResult(cast(RescheduleStatus, refusal or "not_found"), old)
    if int(booking.slot_id) == new_slot_id:
        session.rollback()
        return RescheduleResult("same", old)
    new = get_slot(session, new_slot_id)
    if (
        new is None
        or new.business_code != booking.business_code
        or not is_bookable(session, new, now)
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
