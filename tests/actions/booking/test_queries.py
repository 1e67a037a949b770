"""Booking queries (bot.db.queries.booking) on SQLite and PostgreSQL, as the actions use them.

Kept next to the booking action tests because they share the prepared databases (two weeks of
seeded slots, a make-up working Saturday, a holiday declared after its slots were made).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.db.crypto import hash_phone
from bot.db.models import Booking
from bot.db.queries import booking as q
from bot.db.session import session_scope
from tests.actions.booking.conftest import (
    CODE_RE,
    NOW,
    PHONE,
    PHONE2,
    D,
    T,
    book,
    set_capacity,
    slot_id,
    slot_row,
)


def test_available_days_skip_weekends_holidays_and_are_in_the_future(db: str) -> None:
    with session_scope() as session:
        days = [d for d, _ in q.available_days(session, "id_card", "固安县", NOW, limit=20)]
    assert days[0] == D(2026, 12, 2)  # today still has afternoon places
    assert D(2026, 12, 5) not in days and D(2026, 12, 6) not in days  # weekend
    assert D(2026, 12, 9) not in days  # holiday declared after the slots were made
    assert D(2026, 12, 12) in days  # a make-up working Saturday is bookable
    assert all(d >= NOW.date() for d in days)
    assert days == sorted(days)


def test_available_slots_exclude_past_times_full_slots_and_closed_days(db: str) -> None:
    full = slot_id("固安县", D(2026, 12, 2), T(14, 0))
    set_capacity(full, 2, booked=2)
    with session_scope() as session:
        today = q.available_slots(session, "id_card", "固安县", NOW.date(), NOW)
        holiday = q.available_slots(session, "id_card", "固安县", D(2026, 12, 9), NOW)
        saturday = q.available_slots(session, "id_card", "固安县", D(2026, 12, 5), NOW)
    starts = {s.start_time for s in today}
    assert min(starts) > T(10, 0)  # 09:00-10:00 are over at 10:00
    assert T(10, 30) in starts
    assert full not in {s.id for s in today}
    assert holiday == [] and saturday == []
    assert all(s.county == "固安县" and s.business_code == "id_card" for s in today)


def test_book_returns_code_and_takes_one_place(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    before, _ = slot_row(sid)
    result = book(sid)
    assert result.status == "ok" and result.booking is not None
    assert CODE_RE.fullmatch(result.booking.code)
    assert result.booking.phone_masked == "138****5678"
    assert slot_row(sid)[0] == before + 1
    with session_scope() as session:
        row = session.execute(select(Booking)).scalar_one()
        assert PHONE not in (row.phone_hash, row.phone_masked, row.name_masked)
        assert row.phone_hash == hash_phone(PHONE)


def test_one_booking_per_phone_business_and_day(db: str) -> None:
    first = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    other = slot_id("固安县", D(2026, 12, 3), T(15, 0))
    assert book(first).status == "ok"
    before = slot_row(other)[0]
    assert book(other).status == "duplicate"
    assert slot_row(other)[0] == before  # the place was not taken
    assert book(other, business="id_card", phone=PHONE2).status == "ok"  # someone else may
    residence = slot_id("固安县", D(2026, 12, 3), T(15, 0), business="residence_permit")
    assert book(residence, business="residence_permit").status == "ok"  # other business: fine
    assert book(slot_id("固安县", D(2026, 12, 4), T(9, 0))).status == "ok"  # another day too


def test_full_past_weekend_and_wrong_business_slots_are_refused(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 30))
    set_capacity(sid, 1)
    assert book(sid).status == "ok"
    assert book(sid, phone=PHONE2).status == "full"
    assert slot_row(sid) == (1, 1)
    past = slot_id("固安县", D(2026, 12, 2), T(9, 0))
    assert book(past).status == "unavailable"
    assert book(slot_id("固安县", D(2026, 12, 9), T(9, 0))).status == "unavailable"  # holiday
    assert book(sid, business="residence_permit").status == "unavailable"
    assert book(999999).status == "unavailable"


def test_cancel_gives_the_place_back_once(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(10, 0))
    result = book(sid)
    assert result.booking is not None
    code = result.booking.code
    booked = slot_row(sid)[0]
    with session_scope() as session:
        assert q.cancel_booking(session, code, hash_phone(PHONE2), NOW).status == "not_found"
    with session_scope() as session:
        assert q.cancel_booking(session, code.lower(), hash_phone(PHONE), NOW).status == "ok"
    assert slot_row(sid)[0] == booked - 1
    with session_scope() as session:
        assert q.cancel_booking(session, code, hash_phone(PHONE), NOW).status == "already_cancelled"
    assert slot_row(sid)[0] == booked - 1
    # after cancelling, the same phone may book that business that day again
    assert book(sid).status == "ok"


def test_reschedule_moves_atomically_and_keeps_the_code(db: str) -> None:
    old = slot_id("固安县", D(2026, 12, 3), T(10, 0))
    new = slot_id("固安县", D(2026, 12, 4), T(15, 0))
    full = slot_id("固安县", D(2026, 12, 4), T(16, 0))
    set_capacity(full, 1, booked=1)
    code = book(old).booking.code  # type: ignore[union-attr]
    old_booked, new_booked = slot_row(old)[0], slot_row(new)[0]
    with session_scope() as session:
        refused = q.reschedule_booking(session, code, hash_phone(PHONE), full, NOW)
    assert refused.status == "full"
    assert (slot_row(old)[0], slot_row(full)[0]) == (old_booked, 1)  # nothing changed
    with session_scope() as session:
        weekend = slot_id("固安县", D(2026, 12, 9), T(9, 0))
        assert q.reschedule_booking(session, code, hash_phone(PHONE), weekend, NOW).status == (
            "unavailable"
        )
    with session_scope() as session:
        moved = q.reschedule_booking(session, code, hash_phone(PHONE), new, NOW)
    assert moved.status == "ok" and moved.booking is not None
    assert moved.booking.code == code and moved.booking.day == D(2026, 12, 4)
    assert slot_row(old)[0] == old_booked - 1 and slot_row(new)[0] == new_booked + 1
    with session_scope() as session:
        found = q.find_booking(session, code, hash_phone(PHONE))
    assert found is not None and found.slot_id == new
