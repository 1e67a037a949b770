"""The booking form's questions (actions/booking/prompts.py): only bookable choices offered."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import insert

from actions.booking import prompts as pr
from bot.db.models import Slot, Window
from bot.db.session import session_scope
from tests.actions.booking.conftest import (
    DOMAIN,
    PHONE,
    D,
    T,
    act,
    horizon_days,
    phone_value,
    responses,
    said,
    set_capacity,
    slot_id,
    slot_ids,
    tracker,
)
from tests.actions.booking_support import rasa_parse

PLACE = {"business_type": "id_card", "booking_county": "固安县"}
DAY = {**PLACE, "booking_date": "2026-12-03"}


def payload_entities(payload: str) -> dict[str, Any]:
    return json.loads(payload[payload.index("{") :]) if "{" in payload else {}


async def test_ask_date_offers_only_free_working_days_as_buttons(db: str) -> None:
    _, (message,) = await act(pr.ActionAskBookingDate(), tracker(slots=PLACE))
    payloads = [x["payload"] for x in message["buttons"]]
    assert payloads[0] == '/inform{"booking_date":"2026-12-02"}'  # today's afternoon is free
    days = [payload_entities(x)["booking_date"] for x in payloads]
    assert "2026-12-05" not in days and "2026-12-06" not in days  # weekend
    assert "2026-12-09" not in days  # holiday declared after the slots were made
    assert days == sorted(days) and len(days) == pr.MAX_DAY_BUTTONS
    assert "今天" in message["buttons"][0]["title"] and "余" in message["buttons"][0]["title"]
    text = said([message])[0]
    assert "固安县" in text and "居民身份证" in text


async def test_no_free_day_is_said_and_the_county_asked_again(db: str) -> None:
    with session_scope() as session:
        session.query(Slot).update({Slot.booked: Slot.capacity})
    slots, messages = await act(pr.ActionAskBookingDate(), tracker(slots=PLACE))
    assert responses(messages) == ["utter_booking_no_days"]
    assert f"{horizon_days()}天" in said(messages)[0] and "固安县" in said(messages)[0]
    assert slots == {"booking_county": None, "requested_slot": None}


async def test_several_windows_are_chosen_first_then_only_that_windows_times(db: str) -> None:
    windows = slot_ids("固安县", D(2026, 12, 3))
    _, (message,) = await act(pr.ActionAskBookingSlot(), tracker(slots=DAY))
    assert message["response"] == "utter_booking_ask_window"
    assert "2个窗口" in said([message])[0]
    titles = [x["title"] for x in message["buttons"]]
    assert titles == ["户政服务大厅（余11个时段）", "固安镇派出所（余11个时段）"]
    chosen = [payload_entities(x["payload"])["booking_window"] for x in message["buttons"]]
    assert chosen == [str(w) for w in windows]

    state = {**DAY, "booking_window": chosen[1]}
    _, (times,) = await act(pr.ActionAskBookingSlot(), tracker(slots=state))
    assert times["response"] == "utter_booking_ask_slot"
    offered = [int(payload_entities(x["payload"])["booking_slot"]) for x in times["buttons"]]
    assert offered == windows[int(chosen[1])]  # that window's slots only, in time order
    assert "固安镇派出所" in said([times])[0]
    # with a half-day preference only that half is offered
    state["booking_time_pref"] = "afternoon"
    _, (afternoon,) = await act(pr.ActionAskBookingSlot(), tracker(slots=state))
    titles = [x["title"] for x in afternoon["buttons"]]
    assert len(titles) == 6 and all(re.match(r"1[4-6]:\d\d-", t) for t in titles)


async def test_a_county_with_one_window_shows_its_times_directly(db: str) -> None:
    state = {"business_type": "id_card", "booking_county": "香河县", "booking_date": "2026-12-03"}
    _, (message,) = await act(pr.ActionAskBookingSlot(), tracker(slots=state))
    assert message["response"] == "utter_booking_ask_slot" and len(message["buttons"]) == 11


async def test_a_window_that_filled_up_meanwhile_offers_the_windows_again(db: str) -> None:
    windows = slot_ids("固安县", D(2026, 12, 3))
    first, second = windows
    for sid in windows[second]:
        set_capacity(sid, 1, booked=1)
    state = {**DAY, "booking_window": str(second)}
    _, (message,) = await act(pr.ActionAskBookingSlot(), tracker(slots=state))
    offered = {int(payload_entities(x["payload"])["booking_slot"]) for x in message["buttons"]}
    assert offered == set(windows[first])  # the only window left: its times


async def test_more_than_twelve_times_ask_morning_or_afternoon_first(db: str) -> None:
    sid = slot_id("香河县", D(2026, 12, 3), T(9, 0))
    with session_scope() as session:  # a busy window: 4 more half-hours (12:00-14:00)
        window = session.get(Slot, sid).window_id
        extra = [dt.datetime(2026, 12, 3, 12, 0) + dt.timedelta(minutes=30 * i) for i in range(4)]
        session.execute(
            insert(Slot),
            [
                {
                    "window_id": window,
                    "business_code": "id_card",
                    "day": D(2026, 12, 3),
                    "start_time": start.time(),
                    "end_time": (start + dt.timedelta(minutes=30)).time(),
                    "capacity": 3,
                    "booked": 0,
                }
                for start in extra
            ],
        )
    state = {"business_type": "id_card", "booking_county": "香河县", "booking_date": "2026-12-03"}
    _, (message,) = await act(pr.ActionAskBookingSlot(), tracker(slots=state))
    assert message["response"] == "utter_booking_ask_half_day"
    assert "上午还是下午" in said([message])[0]
    assert [x["payload"] for x in message["buttons"]] == [
        '/inform{"booking_slot":"morning"}',
        '/inform{"booking_slot":"afternoon"}',
    ]
    _, (afternoon,) = await act(
        pr.ActionAskBookingSlot(), tracker(slots={**state, "booking_time_pref": "afternoon"})
    )
    assert afternoon["response"] == "utter_booking_ask_slot"
    assert all(re.match(r"1[2-6]:\d\d-", x["title"]) for x in afternoon["buttons"])


async def test_a_day_that_filled_up_offers_the_days_again(db: str) -> None:
    for window_slots in slot_ids("固安县", D(2026, 12, 3)).values():
        for sid in window_slots:
            set_capacity(sid, 1, booked=1)
    slots, messages = await act(pr.ActionAskBookingSlot(), tracker(slots=DAY))
    assert responses(messages) == ["utter_booking_day_no_slots", "utter_booking_ask_date"]
    assert slots == {"booking_date": None, "requested_slot": "booking_date"}
    assert "2026-12-03" not in json.dumps(messages[1]["buttons"])


async def test_the_name_question_recaps_the_choice(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 30))
    _, messages = await act(
        pr.ActionAskBookerName(), tracker(slots={**DAY, "booking_slot": str(sid)})
    )
    text = said(messages)[0]
    assert "您选择的是" in text and "居民身份证" in text and "09:30-10:00" in text
    assert "明天" in text and "示例" not in text
    _, messages = await act(pr.ActionAskBookerName(), tracker(slots=DAY))
    assert responses(messages) == ["utter_booking_ask_name"]


async def test_the_confirmation_shows_everything_masked(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 30))
    state = {
        **DAY,
        "booking_slot": str(sid),
        "booker_name": "张某",
        "booker_phone": phone_value(PHONE),
    }
    _, messages = await act(pr.ActionAskBookingConfirmed(), tracker(slots=state))
    assert responses(messages) == ["utter_ask_booking_confirmed"]
    text = said(messages)[0]
    with session_scope() as session:
        address = session.get(Window, session.get(Slot, sid).window_id).address
    for needle in ("居民身份证", "09:30-10:00", "12月3日", "张某", "138****5678", address):
        assert needle in text, needle
    assert PHONE not in text and "示例" not in text
    assert [
        b["payload"] for b in DOMAIN["responses"]["utter_ask_booking_confirmed"][0]["buttons"]
    ] == [
        "/affirm",
        "/stop",
    ]
    # the slot vanished (e.g. a stale tracker): the time is asked again instead
    slots, messages = await act(
        pr.ActionAskBookingConfirmed(), tracker(slots={**state, "booking_slot": "999999"})
    )
    assert slots == {"booking_slot": None, "requested_slot": "booking_slot"}


async def test_every_booking_button_is_understood_by_rasa_with_its_entity(db: str) -> None:
    # Rasa drops (and warns about) payload entities the domain does not declare; the buttons
    # of every step must come through intact (rasa_parse fails on the warning).
    windows = [str(w) for w in slot_ids("固安县", D(2026, 12, 3))]
    steps: list[tuple[Any, dict[str, Any]]] = [
        (pr.ActionAskBusinessType(), {}),
        (pr.ActionAskBookingCounty(), {"business_type": "id_card"}),
        (pr.ActionAskBookingDate(), PLACE),
        (pr.ActionAskBookingSlot(), DAY),
        (pr.ActionAskBookingSlot(), {**DAY, "booking_window": windows[0]}),
    ]
    payloads = []
    for action, slots in steps:
        _, messages = await act(action, tracker(slots=slots))
        payloads += [x["payload"] for m in messages for x in m.get("buttons") or []]
    assert len(payloads) > 30
    for payload in payloads:
        parsed = rasa_parse(payload)
        assert parsed["intent"] == "inform", payload
        found = {e["entity"]: e["value"] for e in parsed["entities"]}
        assert found == payload_entities(payload) and found, payload


async def test_unreachable_database_says_busy_and_leaves_the_form(no_database: None) -> None:
    for action in (
        pr.ActionAskBusinessType(),
        pr.ActionAskBookingCounty(),
        pr.ActionAskBookingDate(),
        pr.ActionAskBookingSlot(),
    ):
        slots, messages = await act(action, tracker(slots=DAY))
        assert responses(messages) == ["utter_service_unavailable"], action.name()
        assert slots["requested_slot"] is None and slots["booker_phone"] is None
