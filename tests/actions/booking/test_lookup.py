"""My booking, cancel (confirmed first) and reschedule (actions/booking/lookup.py + forms)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update

from actions import dates
from actions.booking import form as f
from actions.booking import lookup as lk
from bot.db.crypto import hash_phone
from bot.db.models import LookupAudit
from bot.db.queries import booking as q
from bot.db.session import session_scope
from tests.actions.booking.conftest import (
    NOW,
    PHONE,
    PHONE2,
    D,
    T,
    act,
    booked_code,
    followups,
    phone_value,
    responses,
    run_action,
    said,
    set_capacity,
    slot_id,
    slot_row,
    tracker,
)


async def lookup(
    form: Any,
    text: str,
    slots: dict[str, Any],
    requested: str | None,
    sender: str = "test-booking",
    client: str | None = None,
    intent: str = "inform",
) -> tuple[dict[str, Any], list[str]]:
    """One turn of a lookup form: its slot events and what the citizen reads."""
    t = tracker(
        text=text,
        intent=intent,
        slots=slots,
        active_loop=form.name().replace("validate_", ""),
        requested=requested,
        sender=sender,
        client=client,
    )
    events, messages = await act(form, t)
    return events, said(messages)


def verified(code: str, phone: str = PHONE) -> dict[str, Any]:
    return {"booking_code": code, "booker_phone": phone_value(phone)}


def status(code: str) -> str:
    with session_scope() as session:
        found = q.find_booking(session, code, hash_phone(PHONE))
    assert found is not None
    return found.status


def _age_lookups(seconds: int) -> None:
    """Move every audited lookup ``seconds`` into the past (time passing for the limits)."""
    with session_scope() as session:
        session.execute(
            update(LookupAudit).values(
                created_at=LookupAudit.created_at - dt.timedelta(seconds=seconds)
            )
        )


# --- my booking ----------------------------------------------------------------------------


async def test_my_booking_needs_code_and_the_same_phone(db: str) -> None:
    code = booked_code(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    form = f.ValidateMyBookingForm()
    slots, _ = await lookup(form, f"我的预约码是{code.lower()}", {}, None)
    assert slots == {"booking_code": code}
    wrong, messages = await lookup(form, PHONE2, {"booking_code": code}, "booker_phone")
    assert wrong["booking_code"] is None and wrong["booker_phone"] is None
    assert "没有找到" in messages[0]
    right, _ = await lookup(form, PHONE, {"booking_code": code}, "booker_phone")
    assert right["booker_phone"]["masked"] == "138****5678"
    slots, messages = await act(
        lk.ActionMyBooking(), tracker(slots={"booking_code": code, **right})
    )
    text = said(messages)[0]
    assert code in text and "有效" in text and "138****5678" in text and PHONE not in text
    assert "张某" in text and "09:00-09:30" in text
    assert slots["booker_phone"] is None and "booking_code" not in slots  # the code is kept


async def test_my_booking_shows_cancelled_and_past_bookings_as_such(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = booked_code(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    with session_scope() as session:
        q.cancel_booking(session, code, hash_phone(PHONE), NOW)
    _, (message,) = await act(lk.ActionMyBooking(), tracker(slots=verified(code)))
    assert "已取消" in said([message])[0] and message["buttons"] == []
    today = booked_code(slot_id("固安县", D(2026, 12, 2), T(10, 30)), PHONE)
    _, messages = await act(lk.ActionMyBooking(), tracker(slots=verified(today)))
    assert responses(messages) == ["utter_booking_details_active"]
    monkeypatch.setattr(dates, "now_local", lambda: dt.datetime(2026, 12, 2, 11, 5))  # over
    _, messages = await act(lk.ActionMyBooking(), tracker(slots=verified(today)))
    assert responses(messages) == ["utter_booking_details_past"] and "已过期" in said(messages)[0]


async def test_lookup_limits_live_in_the_database_not_in_the_conversation(db: str) -> None:
    form = f.ValidateMyBookingForm()
    for _ in range(4):  # three free failures, and a fourth
        _, messages = await lookup(form, PHONE2, {"booking_code": "YY2345AB"}, "booker_phone")
        assert "没有找到" in messages[0]
    slots, messages = await lookup(form, PHONE2, {"booking_code": "YY2345AB"}, "booker_phone")
    assert "次数较多" in messages[0] and slots["requested_slot"] is None
    # /restart or a new session resets the slots, not the limit: same conversation id, no slots.
    _, messages = await lookup(form, PHONE2, {"booking_code": "YY9999ZZ"}, "booker_phone")
    assert "次数较多" in messages[0]
    _age_lookups(31)  # the delay (30 s after the 4th failure) has passed
    _, messages = await lookup(form, PHONE2, {"booking_code": "YY2345AB"}, "booker_phone")
    assert "没有找到" in messages[0]


async def test_a_client_opening_new_conversations_is_still_limited(db: str) -> None:
    form = f.ValidateMyBookingForm()
    for i in range(11):
        _, messages = await lookup(
            form, PHONE2, {"booking_code": f"YY2345A{i:X}"}, "booker_phone", f"conv-{i}", "ip-1"
        )
        assert "没有找到" in messages[0]
    _, messages = await lookup(
        form, PHONE2, {"booking_code": "YY2345AX"}, "booker_phone", "conv-new", "ip-1"
    )
    assert "次数较多" in messages[0]
    # Another citizen (another client) is not affected.
    _, messages = await lookup(
        form, PHONE2, {"booking_code": "YY2345AX"}, "booker_phone", "conv-other", "ip-2"
    )
    assert "没有找到" in messages[0]


async def test_guessing_one_code_from_everywhere_slows_it_down_without_losing_it(db: str) -> None:
    code = booked_code(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    form = f.ValidateMyBookingForm()
    for i in range(5):  # a distributed guesser: a new conversation and client each time
        _, messages = await lookup(
            form, PHONE2, {"booking_code": code}, "booker_phone", f"g-{i}", f"ip-g{i}"
        )
        assert "没有找到" in messages[0]
    slots, messages = await lookup(
        form, PHONE, {"booking_code": code}, "booker_phone", "owner", "ip-owner"
    )
    assert "次数较多" in messages[0]  # the owner waits a little …
    _age_lookups(60)
    slots, messages = await lookup(
        form, PHONE, {"booking_code": code}, "booker_phone", "owner", "ip-owner"
    )
    assert slots["booker_phone"]["masked"] == "138****5678" and not messages  # … then gets in
    assert status(code) == "active"  # the booking was never touched


# --- cancel --------------------------------------------------------------------------------


async def test_the_cancel_question_shows_the_booking(db: str) -> None:
    code = booked_code(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    slots, messages = await act(lk.ActionAskCancelConfirmed(), tracker(slots=verified(code)))
    assert responses(messages) == ["utter_ask_cancel_confirmed"] and slots == {}
    text = said(messages)[0]
    assert code in text and "09:00-09:30" in text and "确定取消吗" in text
    with session_scope() as session:
        q.cancel_booking(session, code, hash_phone(PHONE), NOW)
    slots, messages = await act(lk.ActionAskCancelConfirmed(), tracker(slots=verified(code)))
    assert responses(messages) == ["utter_booking_already_cancelled"]
    assert slots["requested_slot"] is None and slots["booker_phone"] is None


async def test_cancel_form_confirmation_yes_no_and_unclear(db: str) -> None:
    code = booked_code(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    form = f.ValidateCancelBookingForm()
    state = verified(code)
    slots, messages = await lookup(form, "/affirm", state, "cancel_confirmed", intent="affirm")
    assert slots == {"cancel_confirmed": True} and messages == []
    slots, messages = await lookup(form, "不取消了", state, "cancel_confirmed", intent="deny")
    assert slots == {"cancel_confirmed": None, "requested_slot": None}  # the form ends
    assert len(messages) == 1 and "不取消" in messages[0] and code in messages[0]
    slots, messages = await lookup(form, "我再想想", state, "cancel_confirmed")
    assert slots == {"cancel_confirmed": None} and len(messages) == 1
    slots, messages = await lookup(form, "/stop", state, "cancel_confirmed", intent="stop")
    assert slots == {} and messages == []  # the stop rule takes it
    assert status(code) == "active"


async def test_cancel_only_after_the_confirmation(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    code = booked_code(sid)
    booked = slot_row(sid)[0]
    for confirmed in (None, False):  # not confirmed (or said no): nothing is cancelled
        slots, messages = await act(
            lk.ActionCancelBooking(),
            tracker(slots={**verified(code), "cancel_confirmed": confirmed}),
        )
        assert messages == [] and slots["booker_phone"] is None
        assert status(code) == "active"
    slots, messages = await act(
        lk.ActionCancelBooking(), tracker(slots={**verified(code), "cancel_confirmed": True})
    )
    assert "已为您取消" in said(messages)[0] and code in said(messages)[0]
    assert slot_row(sid)[0] == booked - 1 and status(code) == "cancelled"
    assert slots["booker_phone"] is None and slots["cancel_confirmed"] is None
    _, messages = await act(
        lk.ActionCancelBooking(), tracker(slots={**verified(code), "cancel_confirmed": True})
    )
    assert responses(messages) == ["utter_booking_already_cancelled"]


async def test_cancel_with_a_forged_phone_value_does_nothing(db: str) -> None:
    code = booked_code(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    forged = {"booking_code": code, "booker_phone": {"masked": "138****5678"}}
    _, messages = await act(
        lk.ActionCancelBooking(), tracker(slots={**forged, "cancel_confirmed": True})
    )
    assert messages == [] and status(code) == "active"
    other = {"booking_code": code, "booker_phone": phone_value(PHONE2), "cancel_confirmed": True}
    _, messages = await act(lk.ActionCancelBooking(), tracker(slots=other))
    assert responses(messages) == ["utter_booking_not_found"] and status(code) == "active"


# --- reschedule ----------------------------------------------------------------------------


async def test_reschedule_form_and_action(db: str) -> None:
    old = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    code = booked_code(old)
    form = f.ValidateRescheduleBookingForm()
    found, _ = await lookup(form, PHONE, {"booking_code": code}, "booker_phone")
    assert found["business_type"] == "id_card" and found["booking_county"] == "固安县"
    state = {"booking_code": code, **found}
    picked, _ = await lookup(form, "周四下午三点", state, "booking_date")
    new = slot_id("固安县", D(2026, 12, 3), T(15, 0))
    assert picked["booking_date"] == "2026-12-03" and picked["booking_slot"] == str(new)
    state.update(picked)
    slots, messages = await act(lk.ActionRescheduleBooking(), tracker(slots=state))
    text = said(messages)[0]
    assert "改约成功" in text and code in text and "15:00-15:30" in text
    assert slots["booker_phone"] is None
    with session_scope() as session:
        assert q.find_booking(session, code, hash_phone(PHONE)).slot_id == new  # type: ignore[union-attr]


async def test_a_place_is_not_changed_before_code_and_phone_are_verified(db: str) -> None:
    form = f.ValidateRescheduleBookingForm()
    slots, _ = await lookup(form, "YY2345AB 改到三河后天", {}, None)
    assert slots["booking_code"] == "YY2345AB"  # no county or day for an unverified code
    assert not slots.get("booking_date") and not slots.get("booking_county")


async def test_reschedule_to_a_slot_taken_meanwhile_asks_again_and_keeps_the_booking(
    db: str,
) -> None:
    old = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    taken = slot_id("固安县", D(2026, 12, 4), T(9, 0))
    code = booked_code(old)
    set_capacity(taken, 1, booked=1)
    state = {
        **verified(code),
        "business_type": "id_card",
        "booking_county": "固安县",
        "booking_date": "2026-12-04",
        "booking_slot": str(taken),
    }
    events, messages = await run_action(lk.ActionRescheduleBooking(), tracker(slots=state))
    assert "约满" in said(messages)[0]
    assert followups(events) == ["reschedule_booking_form"]
    with session_scope() as session:
        found = q.find_booking(session, code, hash_phone(PHONE))
    assert found is not None and found.slot_id == old and found.status == "active"


async def test_unreachable_database_says_busy(no_database: None) -> None:
    for action in (lk.ActionMyBooking(), lk.ActionCancelBooking(), lk.ActionAskCancelConfirmed()):
        state = {**verified("YY2345AB"), "cancel_confirmed": True}
        slots, messages = await act(action, tracker(slots=state))
        assert responses(messages) == ["utter_service_unavailable"], action.name()
        assert slots["booker_phone"] is None
