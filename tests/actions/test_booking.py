"""Booking: queries and actions on SQLite and PostgreSQL (migrated + seeded databases).

'Now' is Wednesday 2 December 2026, 10:00 Beijing time. Slots are seeded for two weeks
(09:00-11:30 and 14:00-17:00, half-hour slots) on working days; 12 December (a Saturday) is
a make-up working day; 9 December is declared a holiday *after* its slots were created.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message as RasaMessage
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, update

from actions import booking as b
from bot.db import session as db_session
from bot.db.crypto import hash_phone
from bot.db.models import Booking, County, Holiday, LookupAudit, Slot, Window
from bot.db.queries import booking as q
from bot.db.session import session_scope
from tests.actions.booking_support import (
    NOW,
    fresh_database,
    prepare_database,
    slot_events,
    tracker,
)

PHONE = "13812345678"
PHONE2 = "13987654321"
CODE_RE = re.compile(r"YY[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")
D = dt.date
T = dt.time


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    with fresh_database(request.param, tmp_path) as url:
        prepare_database(
            url,
            extra_holidays=[
                Holiday(day=D(2026, 12, 12), name="调休上班", is_workday_override=True)
            ],
        )
        db_session.configure(url)
        with session_scope() as session:
            session.add(Holiday(day=D(2026, 12, 9), name="测试假日", is_workday_override=False))
        monkeypatch.setattr(b, "now", lambda: NOW)
        try:
            yield url
        finally:
            db_session.reset()


def slot_id(county: str, day: dt.date, start: dt.time, business: str = "id_card") -> int:
    with session_scope() as session:
        return int(
            session.execute(
                select(Slot.id)
                .join(Window, Window.id == Slot.window_id)
                .join(County, County.id == Window.county_id)
                .where(
                    County.name == county,
                    Slot.business_code == business,
                    Slot.day == day,
                    Slot.start_time == start,
                )
                .order_by(Slot.window_id)
            )
            .scalars()
            .first()
        )


def slot_row(sid: int) -> tuple[int, int]:
    with session_scope() as session:
        row = session.get(Slot, sid)
        return int(row.booked), int(row.capacity)


def set_capacity(sid: int, capacity: int, booked: int = 0) -> None:
    with session_scope() as session:
        session.execute(update(Slot).where(Slot.id == sid).values(capacity=capacity, booked=booked))


def book(sid: int, phone: str = PHONE, business: str = "id_card") -> q.BookResult:
    with session_scope() as session:
        return q.book_slot(
            session, sid, business, "张*", hash_phone(phone), b.mask_phone(phone), NOW
        )


# --- queries ------------------------------------------------------------------------------


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


# --- candidate extraction (pure) -----------------------------------------------------------


def test_one_sentence_fills_business_day_and_half_day() -> None:
    message = b.Message.from_tracker(tracker(fixture="booking_start"))
    got = b.extract_candidates(message, None, b.BOOKING_FORM_SLOTS, NOW)
    assert got == {
        "business_type": "id_card",
        "booking_date": "2026-12-03",
        "booking_slot": "morning",
    }


def test_stop_and_unrelated_questions_leave_the_form_to_the_rules() -> None:
    stop = b.Message.from_tracker(tracker(fixture="booking_stop"))
    assert b.extract_candidates(stop, "booking_county", b.BOOKING_FORM_SLOTS, NOW) == {}
    faq = b.Message(text="身份证丢了要带什么材料", intent="faq")
    assert b.extract_candidates(faq, "booking_date", b.BOOKING_FORM_SLOTS, NOW) == {}
    # ... but a bad value typed as an answer is kept, so the validator can say what is wrong
    bad = b.Message(text="随便吧", intent="inform")
    assert b.extract_candidates(bad, "booking_date", b.BOOKING_FORM_SLOTS, NOW) == {
        "booking_date": "随便吧"
    }


def test_button_payloads_are_read_even_for_undeclared_entities() -> None:
    message = b.Message.from_tracker(tracker(text='/inform{"booking_slot":"42"}'))
    assert b.extract_candidates(message, "booking_slot", b.BOOKING_FORM_SLOTS, NOW) == {
        "booking_slot": "42"
    }
    county = b.Message.from_tracker(tracker(fixture="booking_ask_county"))
    assert b.extract_candidates(county, "booking_county", b.BOOKING_FORM_SLOTS, NOW) == {
        "booking_county": "固安县"
    }


def test_a_name_that_contains_a_county_alias_is_a_name() -> None:
    message = b.Message(text="李大城", intent="inform", entities={"county": "大城县"}, payload=None)
    assert b.extract_candidates(message, "booker_name", b.BOOKING_FORM_SLOTS, NOW) == {
        "booker_name": "李大城"
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我叫张三", "张三"),
        ("张三。", "张三"),
        ("姓名：欧阳娜娜", "欧阳娜娜"),
        ("买买提·艾力", "买买提·艾力"),
        ("123", None),
        ("zhang san", None),
        ("不知道", None),
        ("张", None),
    ],
)
def test_clean_name(text: str, expected: str | None) -> None:
    assert b.clean_name(text) == expected


def test_masking_helpers() -> None:
    assert b.mask_name("张三") == "张*" and b.mask_name("欧阳娜娜") == "欧***"
    value = b.phone_value("138-1234-5678")
    assert value["masked"] == "138****5678" and PHONE not in str(value)
    assert b.find_booking_code("我的预约码是 yy7kq-2md") == "YY7KQ2MD"


# --- the booking form, turn by turn --------------------------------------------------------


async def validate(t: Any) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await b.ValidateBookingForm().run(dispatcher, t, {})
    return slot_events(events), [m.get("text") or m.get("response") for m in dispatcher.messages]


async def test_activation_sentence_then_county_applies_the_half_day(db: str) -> None:
    slots, messages = await validate(tracker(fixture="booking_start"))
    assert slots == {
        "business_type": "id_card",
        "booking_date": "2026-12-03",
        "booking_time_pref": "morning",
    }
    assert messages == []
    t = tracker(fixture="booking_ask_county", slots=slots)
    slots2, _ = await validate(t)
    assert slots2["booking_county"] == "固安县"
    # the day is re-checked for the county and the morning preference kept for the buttons
    assert slots2.get("booking_slot") is None and slots2.get("booking_time_pref") == "morning"
    dispatcher = CollectingDispatcher()
    await b.ActionAskBookingSlot().run(
        dispatcher, tracker(slots={**slots, **slots2}, requested="booking_slot"), {}
    )
    buttons = dispatcher.messages[0]["buttons"]
    assert buttons and all(re.match(r"^.*(09|10|11):\d\d-", x["title"]) for x in buttons)


async def test_ask_date_offers_only_free_working_days_as_buttons(db: str) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"business_type": "id_card", "booking_county": "固安县"})
    await b.ActionAskBookingDate().run(dispatcher, t, {})
    (message,) = dispatcher.messages
    payloads = [x["payload"] for x in message["buttons"]]
    assert payloads[0] == '/inform{"booking_date":"2026-12-02"}'
    days = [re.search(r"\d{4}-\d\d-\d\d", p).group(0) for p in payloads]  # type: ignore[union-attr]
    assert "2026-12-05" not in days and "2026-12-06" not in days and "2026-12-09" not in days
    assert len(days) == b.MAX_DAY_BUTTONS
    assert "固安县" in message["text"]


async def test_every_booking_button_is_understood_by_rasa_with_its_entity(db: str) -> None:
    # Rasa drops (and warns about) payload entities the domain does not declare; the buttons
    # of every step must come through intact.
    domain = Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))
    chosen = {"business_type": "id_card", "booking_county": "固安县", "booking_date": "2026-12-03"}
    steps = [
        (b.ActionAskBusinessType(), {}),
        (b.ActionAskBookingCounty(), {"business_type": "id_card"}),
        (b.ActionAskBookingDate(), {"business_type": "id_card", "booking_county": "固安县"}),
        (b.ActionAskBookingSlot(), chosen),
        (b.ActionAskBookingSlot(), {**chosen, "booking_time_pref": "morning"}),
    ]
    payloads = []
    for action, slots in steps:
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, tracker(slots=slots), {})
        payloads += [x["payload"] for m in dispatcher.messages for x in m.get("buttons") or []]
    assert len(payloads) > 10
    for payload in payloads:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = YAMLStoryReader.unpack_regex_message(
                RasaMessage(data={"text": payload}), domain
            )
        assert parsed.get("intent")["name"] == "inform"
        expected = b.parse_payload(payload)
        assert expected
        assert {e["entity"]: e["value"] for e in parsed.get("entities")} == expected, payload


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("这周六", "周六"),
        ("12月9日", "测试假日"),
        ("昨天", "已经过去"),
        ("明年3月1日", "天以内"),
        ("随便吧", "没听懂"),
    ],
)
async def test_bad_days_are_explained_and_asked_again(db: str, text: str, reason: str) -> None:
    t = tracker(
        text=text,
        slots={"business_type": "id_card", "booking_county": "固安县"},
        active_loop="booking_form",
        requested="booking_date",
    )
    slots, messages = await validate(t)
    assert slots.get("booking_date") is None
    assert any(reason in m for m in messages), messages


async def test_many_free_slots_ask_morning_or_afternoon_first(db: str) -> None:
    chosen = {"business_type": "id_card", "booking_county": "固安县", "booking_date": "2026-12-03"}
    dispatcher = CollectingDispatcher()
    await b.ActionAskBookingSlot().run(dispatcher, tracker(slots=chosen), {})
    (message,) = dispatcher.messages
    assert "上午还是下午" in message["text"]
    assert [x["payload"] for x in message["buttons"]] == [
        '/inform{"booking_slot":"morning"}',
        '/inform{"booking_slot":"afternoon"}',
    ]
    slots, messages = await validate(
        tracker(
            text='/inform{"booking_slot":"afternoon"}',
            slots=chosen,
            active_loop="booking_form",
            requested="booking_slot",
        )
    )
    assert slots == {"booking_slot": None, "booking_time_pref": "afternoon"} and messages == []
    dispatcher = CollectingDispatcher()
    await b.ActionAskBookingSlot().run(dispatcher, tracker(slots={**chosen, **slots}), {})
    titles = [x["title"] for x in dispatcher.messages[0]["buttons"]]
    assert titles and all(re.search(r"1[4-6]:\d\d-", t) for t in titles)
    assert any(t.startswith("户政服务大厅") for t in titles)  # two windows: named shortly
    assert any(t.startswith("固安镇派出所") for t in titles)


async def test_a_time_that_is_free_is_taken_directly_else_buttons(db: str) -> None:
    t = tracker(
        text="明天下午三点",
        slots={"business_type": "id_card", "booking_county": "固安县"},
        active_loop="booking_form",
        requested="booking_date",
    )
    slots, _ = await validate(t)
    assert slots["booking_date"] == "2026-12-03"
    assert slots["booking_slot"] == str(slot_id("固安县", D(2026, 12, 3), T(15, 0)))
    # a time outside the office hours: explained, no slot, the afternoon is kept as preference
    t2 = tracker(
        text="明天晚上八点",
        slots={"business_type": "id_card", "booking_county": "固安县"},
        active_loop="booking_form",
        requested="booking_date",
    )
    slots2, messages2 = await validate(t2)
    assert slots2["booking_date"] == "2026-12-03" and slots2.get("booking_slot") is None
    assert any("20:00" in m for m in messages2)


async def test_correction_mid_form_changes_the_day_and_clears_the_slot(db: str) -> None:
    chosen = str(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    t = tracker(fixture="booking_correction_at_name", slots={"booking_slot": chosen})
    slots, _ = await validate(t)
    assert slots["booking_date"] == "2026-12-04"
    assert slots["booking_slot"] is None
    assert "booker_name" not in slots  # the correction is not taken as a name


async def test_changing_the_county_drops_the_chosen_time_slot(db: str) -> None:
    chosen = str(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    t = tracker(
        text="地点换成三河",
        slots={
            "business_type": "id_card",
            "booking_county": "固安县",
            "booking_date": "2026-12-03",
            "booking_slot": chosen,
        },
        active_loop="booking_form",
        requested="booker_name",
    )
    slots, _ = await validate(t)
    assert slots["booking_county"] == "三河市" and slots["booking_slot"] is None


async def test_stale_or_full_slot_button_is_refused(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    set_capacity(sid, 1, booked=1)
    t = tracker(
        text=f'/inform{{"booking_slot":"{sid}"}}',
        slots={
            "business_type": "id_card",
            "booking_county": "固安县",
            "booking_date": "2026-12-03",
        },
        active_loop="booking_form",
        requested="booking_slot",
    )
    slots, messages = await validate(t)
    assert slots["booking_slot"] is None and any("约满" in m for m in messages)


async def test_phone_is_never_kept_or_echoed(db: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    slots, messages = await validate(tracker(fixture="booking_phone"))
    assert slots["booker_phone"]["masked"] == "138****5678"
    assert PHONE not in repr(slots) and "12345678" not in repr(slots)
    bad, bad_messages = await validate(
        tracker(
            text="1381234",
            slots={"booker_name": "张*"},
            active_loop="booking_form",
            requested="booker_phone",
        )
    )
    assert bad["booker_phone"] is None
    assert bad_messages and "1381234" not in bad_messages[0] and "11位" in bad_messages[0]
    assert PHONE not in caplog.text


async def run_full_booking(phone: str = PHONE) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    state: dict[str, Any] = {}
    turns = [
        ("我要预约身份证", "book_appointment", None),
        ('/inform{"county":"固安县"}', "inform", "booking_county"),
        ("12月3日", "inform", "booking_date"),
        ("上午九点半", "inform", "booking_slot"),
        ("我叫张三", "inform", "booker_name"),
        (phone, "inform", "booker_phone"),
    ]
    for text, intent, requested in turns:
        slots, messages = await validate(
            tracker(
                text=text,
                intent=intent,
                slots=state,
                active_loop="booking_form",
                requested=requested,
            )
        )
        assert not [m for m in messages if m], (text, messages)
        state.update(slots)
    assert all(state.get(s) for s in b.BOOKING_FORM_SLOTS), state
    dispatcher = CollectingDispatcher()
    events = await b.ActionBookSlot().run(dispatcher, tracker(text=phone, slots=state), {})
    return events, dispatcher


async def test_full_booking_flow_confirms_with_code_and_masked_phone(
    db: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    events, dispatcher = await run_full_booking()
    text = dispatcher.messages[0]["text"]
    code = CODE_RE.search(text)
    assert code and "预约成功" in text
    assert "138****5678" in text and PHONE not in text and "张*" in text and "张三" not in text
    assert "12月3日" in text and "09:30-10:00" in text and "固安" in text
    slots = slot_events(events)
    assert slots["booker_phone"] is None and slots["booking_slot"] is None
    assert slots["booking_code"] == code.group(0)
    assert PHONE not in caplog.text
    with session_scope() as session:
        assert session.execute(select(Booking.code)).scalar_one() == code.group(0)
    # the same citizen trying again for the same business and day is told so
    _events, again = await run_full_booking()
    assert "只能预约一次" in again.messages[0]["text"]


async def test_slot_taken_meanwhile_asks_for_another_time(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    set_capacity(sid, 1, booked=1)
    state = {
        "business_type": "id_card",
        "booking_county": "固安县",
        "booking_date": "2026-12-03",
        "booking_slot": str(sid),
        "booker_name": "张*",
        "booker_phone": b.phone_value(PHONE),
    }
    dispatcher = CollectingDispatcher()
    events = await b.ActionBookSlot().run(dispatcher, tracker(text=PHONE, slots=state), {})
    assert "约满" in dispatcher.messages[0]["text"]
    assert {"event": "followup", "name": "booking_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert slot_events(events)["booking_slot"] is None
    with session_scope() as session:
        assert session.execute(select(Booking)).first() is None


# --- my booking / cancel / reschedule ------------------------------------------------------


async def lookup(
    form: Any,
    text: str,
    slots: dict[str, Any],
    requested: str | None,
    sender: str = "test-booking",
    client: str | None = None,
) -> Any:
    dispatcher = CollectingDispatcher()
    events = await form.run(
        dispatcher,
        tracker(
            text=text,
            slots=slots,
            active_loop=form.name().replace("validate_", ""),
            requested=requested,
            sender=sender,
            client=client,
        ),
        {},
    )
    return slot_events(events), [m.get("text") for m in dispatcher.messages]


async def test_my_booking_needs_code_and_the_same_phone(db: str) -> None:
    code = book(slot_id("固安县", D(2026, 12, 3), T(9, 0))).booking.code  # type: ignore[union-attr]
    form = b.ValidateMyBookingForm()
    slots, _ = await lookup(form, f"我的预约码是{code.lower()}", {}, None)
    assert slots == {"booking_code": code}
    wrong, messages = await lookup(form, PHONE2, {"booking_code": code}, "booker_phone")
    assert wrong["booking_code"] is None and wrong["booker_phone"] is None
    assert "没有找到" in messages[0]
    right, _ = await lookup(form, PHONE, {"booking_code": code}, "booker_phone")
    assert right["booker_phone"]["masked"] == "138****5678"
    dispatcher = CollectingDispatcher()
    events = await b.ActionMyBooking().run(
        dispatcher, tracker(slots={"booking_code": code, **right}), {}
    )
    text = dispatcher.messages[0]["text"]
    assert code in text and "有效" in text and "138****5678" in text and PHONE not in text
    assert slot_events(events)["booker_phone"] is None


def _age_lookups(seconds: int) -> None:
    """Move every audited lookup ``seconds`` into the past (time passing for the limits)."""
    with session_scope() as session:
        session.execute(
            update(LookupAudit).values(
                created_at=LookupAudit.created_at - dt.timedelta(seconds=seconds)
            )
        )


async def test_lookup_limits_live_in_the_database_not_in_the_conversation(db: str) -> None:
    form = b.ValidateMyBookingForm()
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
    form = b.ValidateMyBookingForm()
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
    code = book(slot_id("固安县", D(2026, 12, 3), T(9, 0))).booking.code  # type: ignore[union-attr]
    form = b.ValidateMyBookingForm()
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
    with session_scope() as session:
        assert session.get(Booking, 1).status == "active"  # the booking was never touched


async def test_cancel_through_the_action(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    code = book(sid).booking.code  # type: ignore[union-attr]
    booked = slot_row(sid)[0]
    dispatcher = CollectingDispatcher()
    events = await b.ActionCancelBooking().run(
        dispatcher,
        tracker(slots={"booking_code": code, "booker_phone": b.phone_value(PHONE)}),
        {},
    )
    assert "已为您取消" in dispatcher.messages[0]["text"]
    assert slot_row(sid)[0] == booked - 1
    assert slot_events(events)["booker_phone"] is None


async def test_reschedule_form_and_action(db: str) -> None:
    old = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    code = book(old).booking.code  # type: ignore[union-attr]
    form = b.ValidateRescheduleBookingForm()
    found, _ = await lookup(form, PHONE, {"booking_code": code}, "booker_phone")
    assert found["business_type"] == "id_card" and found["booking_county"] == "固安县"
    state = {"booking_code": code, **found}
    picked, _ = await lookup(form, "周四下午三点", state, "booking_date")
    new = slot_id("固安县", D(2026, 12, 3), T(15, 0))
    assert picked["booking_date"] == "2026-12-03" and picked["booking_slot"] == str(new)
    state.update(picked)
    dispatcher = CollectingDispatcher()
    events = await b.ActionRescheduleBooking().run(dispatcher, tracker(slots=state), {})
    assert "改约成功" in dispatcher.messages[0]["text"] and code in dispatcher.messages[0]["text"]
    assert "15:00-15:30" in dispatcher.messages[0]["text"]
    assert slot_events(events)["booker_phone"] is None
    with session_scope() as session:
        assert q.find_booking(session, code, hash_phone(PHONE)).slot_id == new  # type: ignore[union-attr]


# --- database unreachable -----------------------------------------------------------------


@pytest.fixture
def no_database(monkeypatch: pytest.MonkeyPatch) -> Any:
    db_session.configure("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere")
    monkeypatch.setattr(b, "now", lambda: NOW)
    yield
    db_session.reset()


async def test_unreachable_database_says_busy_and_leaves_the_form(no_database: None) -> None:
    slots, messages = await validate(tracker(fixture="booking_start"))
    assert messages == ["utter_service_unavailable"]
    assert slots["requested_slot"] is None and slots["booker_phone"] is None
    for action in (b.ActionAskBusinessType(), b.ActionAskBookingCounty()):
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, tracker(slots={"business_type": "id_card"}), {})
        assert [m["response"] for m in dispatcher.messages] == ["utter_service_unavailable"]
        assert slot_events(events)["requested_slot"] is None
    state = {
        "business_type": "id_card",
        "booking_county": "固安县",
        "booking_date": "2026-12-03",
        "booking_slot": "1",
        "booker_name": "张*",
        "booker_phone": b.phone_value(PHONE),
    }
    dispatcher = CollectingDispatcher()
    events = await b.ActionBookSlot().run(dispatcher, tracker(slots=state), {})
    assert dispatcher.messages[0]["response"] == "utter_service_unavailable"
    assert slot_events(events)["booker_phone"] is None  # not kept after use, even on failure


async def test_a_message_already_answered_is_not_read_again(db: str) -> None:
    # After an interruption (a FAQ answered by a rule) the form runs again without a new
    # user message: the old message must not be taken as an answer.
    stale = tracker(
        text="明天能办吗",
        intent="faq",
        slots={"business_type": "id_card", "booking_county": "固安县"},
        active_loop="booking_form",
        requested="booking_date",
        events=[
            {"event": "action", "name": "utter_faq"},
            {"event": "bot", "text": "可以办理。"},
            {"event": "slot", "name": "requested_slot", "value": "booking_date"},
            {"event": "action", "name": "booking_form"},
        ],
    )
    assert not b.message_is_fresh(stale)
    slots, messages = await validate(stale)
    assert slots == {} and messages == []
    fresh = tracker(
        text="明天",
        slots={"business_type": "id_card", "booking_county": "固安县"},
        active_loop="booking_form",
        requested="booking_date",
        events=[
            {"event": "slot", "name": "requested_slot", "value": "booking_date"},
            {"event": "action", "name": "booking_form"},
        ],
    )
    assert b.message_is_fresh(fresh)
    slots, _ = await validate(fresh)
    assert slots == {"booking_date": "2026-12-03"}


def test_every_booking_and_lookup_action_of_the_domain_is_implemented() -> None:
    import yaml
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions.booking")
    executor.register_package("actions.lookups")
    domain = yaml.safe_load((Path(__file__).parents[2] / "domain.yml").read_text("utf-8"))
    mine = [
        a
        for a in domain["actions"]
        if "book" in a or a.startswith("action_find") or a == "action_ask_business_type"
    ]
    assert len(mine) == 16
    assert set(mine) <= set(executor.actions)
    for form in (
        "booking_form",
        "my_booking_form",
        "cancel_booking_form",
        "reschedule_booking_form",
    ):
        assert f"validate_{form}" in executor.actions
        for slot in domain["forms"][form]["required_slots"]:
            assert (
                f"action_ask_{slot}" in executor.actions
                or f"utter_ask_{slot}" in domain["responses"]
            ), slot


async def test_reschedule_to_a_slot_taken_meanwhile_asks_again_and_keeps_the_booking(
    db: str,
) -> None:
    old = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    taken = slot_id("固安县", D(2026, 12, 4), T(9, 0))
    code = book(old).booking.code  # type: ignore[union-attr]
    set_capacity(taken, 1, booked=1)
    state = {
        "booking_code": code,
        "booker_phone": b.phone_value(PHONE),
        "business_type": "id_card",
        "booking_county": "固安县",
        "booking_date": "2026-12-04",
        "booking_slot": str(taken),
    }
    dispatcher = CollectingDispatcher()
    events = await b.ActionRescheduleBooking().run(dispatcher, tracker(slots=state), {})
    assert "约满" in dispatcher.messages[0]["text"]
    assert {"event": "followup", "name": "reschedule_booking_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    with session_scope() as session:
        found = q.find_booking(session, code, hash_phone(PHONE))
    assert found is not None and found.slot_id == old and found.status == "active"


async def test_my_booking_shows_a_cancelled_booking_as_cancelled(db: str) -> None:
    code = book(slot_id("固安县", D(2026, 12, 3), T(9, 0))).booking.code  # type: ignore[union-attr]
    with session_scope() as session:
        q.cancel_booking(session, code, hash_phone(PHONE), NOW)
    dispatcher = CollectingDispatcher()
    await b.ActionMyBooking().run(
        dispatcher,
        tracker(slots={"booking_code": code, "booker_phone": b.phone_value(PHONE)}),
        {},
    )
    message = dispatcher.messages[0]
    assert "已取消" in message["text"] and message["buttons"] == []
