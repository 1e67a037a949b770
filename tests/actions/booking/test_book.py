"""Booking the confirmed slot and leaving the form (actions/booking/book.py)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from actions.booking import book as bk
from actions.booking import form as f
from bot.db.models import Booking
from bot.db.session import session_scope
from tests.actions.booking.conftest import (
    BOOKING_FORM_SLOTS,
    CODE_RE,
    PHONE,
    D,
    T,
    act,
    followups,
    form_tracker,
    phone_value,
    responses,
    run_action,
    said,
    set_capacity,
    slot_id,
    tracker,
)
from tests.actions.conftest import slot_events


def bookings() -> list[tuple[str, str, str]]:
    with session_scope() as session:
        rows = session.execute(select(Booking.code, Booking.name_masked, Booking.phone_masked))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def fill_the_form(phone: str = PHONE) -> dict[str, Any]:
    """The booking form turn by turn, as the validator sees it; returns the final slots."""
    state: dict[str, Any] = {}
    turns = [
        ("我要预约身份证", "book_appointment", None),
        ('/inform{"county":"固安县"}', "inform", "booking_county"),
        ("12月3日", "inform", "booking_date"),
        ("上午九点半", "inform", "booking_slot"),
        ("我叫张三", "inform", "booker_name"),
        (phone, "inform", "booker_phone"),
        ("确认", "inform", "booking_confirmed"),
    ]
    for text, intent, requested in turns:
        t = form_tracker("booking_form", text, state, requested, intent=intent)
        slots, messages = await act(f.ValidateBookingForm(), t)
        assert messages == [], (text, said(messages))
        state.update(slots)
    assert all(state.get(s) for s in BOOKING_FORM_SLOTS), state
    return state


async def test_full_booking_confirms_with_code_masked_name_and_phone(
    db: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    state = await fill_the_form()
    slots, messages = await act(bk.ActionBookSlot(), tracker(text="确认", slots=state))
    (text,) = said(messages)
    code = CODE_RE.search(text)
    assert code and "预约成功" in text
    assert "138****5678" in text and PHONE not in text and "张某" in text and "张三" not in text
    assert "12月3日" in text and "09:30-10:00" in text and "固安" in text and "0316" in text
    assert slots["booker_phone"] is None and slots["booking_slot"] is None
    assert slots["booking_confirmed"] is None and slots["booker_name"] is None
    assert slots["booking_code"] == code.group(0)
    assert PHONE not in caplog.text
    assert bookings() == [(code.group(0), "张某", "138****5678")]
    # the same citizen trying again for the same business and day is told so
    state = await fill_the_form()
    _, again = await act(bk.ActionBookSlot(), tracker(text="确认", slots=state))
    assert "只能预约一次" in said(again)[0] and len(bookings()) == 1


@pytest.mark.parametrize(
    "missing",
    [
        {"booking_confirmed": None},  # never confirmed
        {"booking_confirmed": False},
        {"booker_phone": {"masked": "138****5678"}},  # a value the server did not make
        {"booker_phone": PHONE},
        {"booker_name": None},
        {"booking_slot": "morning"},
    ],
)
async def test_nothing_is_booked_without_every_validated_value(
    db: str, missing: dict[str, Any]
) -> None:
    state = {
        "business_type": "id_card",
        "booking_county": "固安县",
        "booking_date": "2026-12-03",
        "booking_slot": str(slot_id("固安县", D(2026, 12, 3), T(9, 0))),
        "booker_name": "张某",
        "booker_phone": phone_value(PHONE),
        "booking_confirmed": True,
        **missing,
    }
    slots, messages = await act(bk.ActionBookSlot(), tracker(slots=state))
    assert messages == [] and slots == {"booker_phone": None}
    assert bookings() == []


async def test_a_slot_taken_meanwhile_asks_for_another_time(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    set_capacity(sid, 1, booked=1)
    state = {
        "business_type": "id_card",
        "booking_county": "固安县",
        "booking_date": "2026-12-03",
        "booking_slot": str(sid),
        "booker_name": "张某",
        "booker_phone": phone_value(PHONE),
        "booking_confirmed": True,
    }
    events, messages = await run_action(bk.ActionBookSlot(), tracker(slots=state))
    assert "约满" in said(messages)[0]
    # the other choices are kept; the form asks for a time again, then the confirmation
    assert slot_events(events) == {"booking_slot": None, "booking_confirmed": None}
    assert followups(events) == ["booking_form"]
    assert bookings() == []


async def test_stopping_forgets_every_choice_but_keeps_a_code(db: str) -> None:
    state = {
        "business_type": "id_card",
        "booking_county": "固安县",
        "booker_phone": phone_value(PHONE),
        "booking_code": "YY7KQ2MD",
    }
    slots, messages = await act(bk.ActionBookingStopped(), tracker(slots=state))
    assert responses(messages) == ["utter_stopped"]
    assert set(slots) == set(bk.BOOKING_SLOTS) and not any(slots.values())
    assert "booking_code" not in slots


def stopped(form: str) -> list[dict[str, Any]]:
    """The events after a stop inside ``form`` (the rule deactivates it, then stops)."""
    return [
        {"event": "active_loop", "name": form},
        {"event": "user", "text": "不取消了", "parse_data": {"intent": {"name": "stop"}}},
        {"event": "action", "name": "action_deactivate_loop"},
        {"event": "active_loop", "name": None},
    ]


async def test_stopping_at_the_cancel_question_says_the_booking_stays(db: str) -> None:
    verified = {"booking_code": "YY7KQ2MD", "booker_phone": phone_value(PHONE)}
    t = tracker(slots=verified, events=stopped("cancel_booking_form"))
    slots, messages = await act(bk.ActionBookingStopped(), t)
    assert responses(messages) == ["utter_booking_cancel_kept"]
    text = said(messages)[0]
    assert "YY7KQ2MD" in text and "仍然有效" in text and "已为您取消" not in text
    assert slots["booker_phone"] is None
    # before code and phone were verified, or in another form: the plain "stopped" reply
    unverified = tracker(slots={"booking_code": "YY7KQ2MD"}, events=stopped("cancel_booking_form"))
    _, messages = await act(bk.ActionBookingStopped(), unverified)
    assert responses(messages) == ["utter_stopped"]
    _, messages = await act(
        bk.ActionBookingStopped(), tracker(slots=verified, events=stopped("booking_form"))
    )
    assert responses(messages) == ["utter_stopped"]


async def test_unreachable_database_says_busy_and_forgets_the_phone(no_database: None) -> None:
    state = {
        "business_type": "id_card",
        "booking_slot": "1",
        "booker_name": "张某",
        "booker_phone": phone_value(PHONE),
        "booking_confirmed": True,
    }
    slots, messages = await act(bk.ActionBookSlot(), tracker(slots=state))
    assert responses(messages) == ["utter_service_unavailable"]
    assert slots["booker_phone"] is None  # not kept after use, even on failure
