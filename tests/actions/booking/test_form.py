"""The booking forms' validation actions (actions/booking/form.py), turn by turn.

Each turn is a tracker as Rasa sends it (the real domain: the forms' required slots come from
it); the test reads the slot events and what the citizen reads.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from rasa_sdk.executor import ActionExecutor

from actions.booking import form as f
from actions.booking import prompts as pr
from tests.actions.booking.conftest import (
    DOMAIN,
    PHONE,
    D,
    T,
    act,
    answered_again,
    answered_now,
    form_tracker,
    phone_value,
    responses,
    said,
    slot_id,
    tracker,
)

PLACE = {"business_type": "id_card", "booking_county": "固安县"}
DAY = {**PLACE, "booking_date": "2026-12-03"}


async def validate(t: Any) -> tuple[dict[str, Any], list[str]]:
    """Run validate_booking_form; slot events and rendered replies."""
    slots, messages = await act(f.ValidateBookingForm(), t)
    return slots, said(messages)


def summary_state() -> dict[str, Any]:
    """Every slot filled: the form is at its confirmation question."""
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 30))
    return {
        **DAY,
        "booking_slot": str(sid),
        "booking_window": "8",
        "booker_name": "张某",
        "booker_phone": phone_value(PHONE),
    }


def at_confirmation(text: str, intent: str = "inform", **kw: Any) -> Any:
    return form_tracker(
        "booking_form", text, summary_state(), "booking_confirmed", intent=intent, **kw
    )


async def test_activation_sentence_then_county_then_window_keeps_the_half_day(db: str) -> None:
    slots, messages = await validate(tracker(fixture="booking_start"))
    assert slots == {
        "business_type": "id_card",
        "booking_date": "2026-12-03",
        "booking_slot": None,
        "booking_time_pref": "morning",
    }
    assert messages == []
    slots2, _ = await validate(tracker(fixture="booking_ask_county", slots=slots))
    assert slots2["booking_county"] == "固安县"
    # the day is re-checked for the county and the morning preference kept for the buttons
    assert slots2.get("booking_slot") is None and slots2.get("booking_time_pref") == "morning"
    state = {**slots, **slots2}
    _, (question,) = await act(pr.ActionAskBookingSlot(), tracker(slots=state))
    window = question["buttons"][0]["payload"]  # two windows: the window is asked first
    slots3, messages = await validate(form_tracker("booking_form", window, state, "booking_slot"))
    assert slots3["booking_window"] and messages == []
    _, (times,) = await act(pr.ActionAskBookingSlot(), tracker(slots={**state, **slots3}))
    titles = [x["title"] for x in times["buttons"]]
    assert titles and all(re.match(r"(09|10|11):\d\d-", t) for t in titles)


async def test_a_bad_answer_is_explained_by_the_validator(db: str) -> None:
    slots, messages = await validate(form_tracker("booking_form", "这周六", PLACE, "booking_date"))
    assert slots["booking_date"] is None and "周末" in messages[0]


async def test_a_correction_while_the_name_is_asked_changes_the_day(db: str) -> None:
    chosen = str(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    t = tracker(fixture="booking_correction_at_name", slots={"booking_slot": chosen})
    slots, _ = await validate(t)
    assert slots["booking_date"] == "2026-12-04"
    assert slots["booking_slot"] is None
    assert "booker_name" not in slots  # the correction is not taken as a name


async def test_changing_the_county_drops_the_chosen_time_slot(db: str) -> None:
    chosen = str(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    state = {**DAY, "booking_slot": chosen, "booking_window": "8"}
    slots, _ = await validate(form_tracker("booking_form", "地点换成三河", state, "booker_name"))
    assert slots["booking_county"] == "三河市" and slots["booking_slot"] is None
    assert slots["booking_window"] is None and "booker_name" not in slots


async def test_confirmation_yes_completes_the_form(db: str) -> None:
    # typed answers keep their meaning whatever the NLU makes of them (确认预约 -> my_booking)
    answers = [("/affirm", "affirm"), ("确认", "affirm"), ("确认预约", "my_booking")]
    answers += [("没问题", "nlu_fallback"), ("好的", "inform")]
    for text, intent in answers:
        slots, messages = await validate(at_confirmation(text, intent))
        assert slots == {"booking_confirmed": True} and messages == [], text


async def test_confirmation_no_asks_what_to_change(db: str) -> None:
    slots, messages = await validate(at_confirmation("不对", "deny"))
    assert slots == {"booking_confirmed": None}
    assert len(messages) == 1 and "要修改什么" in messages[0]


async def test_confirmation_unclear_answer_asks_again(db: str) -> None:
    slots, messages = await validate(at_confirmation("我再想想"))
    assert slots == {"booking_confirmed": None}
    assert len(messages) == 1 and "确认预约" in messages[0]


async def test_a_correction_at_the_confirmation_changes_the_booking(db: str) -> None:
    slots, messages = await validate(at_confirmation("不对，改成后天"))
    assert slots["booking_date"] == "2026-12-04" and slots["booking_slot"] is None
    assert slots["booking_confirmed"] is None and messages == []  # the time is asked next
    slots, messages = await validate(at_confirmation("改成下午三点", "reschedule_booking"))
    assert slots["booking_slot"] == str(slot_id("固安县", D(2026, 12, 3), T(15, 0)))
    assert slots.get("booking_confirmed") is None and messages == []  # the summary again
    slots, _ = await validate(at_confirmation("手机号错了，是13987654321"))
    assert slots["booker_phone"] == phone_value("13987654321")
    assert slots["booking_confirmed"] is None


async def test_a_stop_or_a_question_at_the_confirmation_is_left_to_the_rules(db: str) -> None:
    for text, intent in (("/stop", "stop"), ("算了不约了", "stop"), ("要带什么材料", "faq")):
        slots, messages = await validate(at_confirmation(text, intent))
        assert slots == {} and messages == [], text  # nothing filled: the form rejects


async def test_a_payload_carrying_personal_slots_fills_nothing(db: str) -> None:
    payload = '/inform{"booker_phone":"13812345678","booker_name":"王五","booking_code":"YY7KQ2MD"}'
    forged = [
        {"entity": "booker_phone", "value": {"masked": "138****5678", "hash": "x"}},
        {"entity": "booker_name", "value": "王某"},
        {"entity": "booking_code", "value": "YY7KQ2MD"},
        {"entity": "booking_confirmed", "value": True},
    ]
    state = {**DAY, "booking_slot": str(slot_id("固安县", D(2026, 12, 3), T(9, 30)))}
    for requested in ("booker_name", "booker_phone"):
        t = form_tracker("booking_form", payload, state, requested, entities=forged)
        slots, messages = await validate(t)
        assert slots == {} and messages == [], requested
    # the same values typed by the citizen are read (and masked)
    slots, _ = await validate(form_tracker("booking_form", "王五", state, "booker_name"))
    assert slots["booker_name"] == "王某"


async def test_the_phone_is_never_kept_or_echoed(db: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    slots, messages = await validate(tracker(fixture="booking_phone"))
    assert slots["booker_phone"]["masked"] == "138****5678"
    assert PHONE not in repr(slots) and "12345678" not in repr(slots)
    state = {**DAY, "booker_name": "张某"}
    bad, bad_messages = await validate(
        form_tracker("booking_form", "1381234", state, "booker_phone")
    )
    assert bad["booker_phone"] is None
    assert bad_messages and "1381234" not in bad_messages[0] and "11位" in bad_messages[0]
    assert PHONE not in caplog.text


async def test_a_message_already_answered_is_not_read_again(db: str) -> None:
    assert await validate(answered_again("明天能办吗", "faq", PLACE)) == ({}, [])
    assert await validate(answered_now("明天", PLACE)) == ({"booking_date": "2026-12-03"}, [])


async def test_the_county_said_earlier_in_the_conversation_is_used(db: str) -> None:
    t = tracker(
        text="我要预约身份证",
        intent="book_appointment",
        slots={"county": "三河市"},
        entities=[{"entity": "business_type", "value": "id_card"}],
    )
    slots, _ = await validate(t)
    assert slots["business_type"] == "id_card" and slots["booking_county"] == "三河市"


def _after_answer(topic: str, text: str = "预约窗口", **kw: Any) -> Any:
    """A booking asked for right after the bot answered ``topic`` (faq/… or an intent)."""
    t = tracker(text=text, intent="book_appointment", **kw)
    intent, _, _ = topic.partition("/")
    previous = {"intent": {"name": intent, "confidence": 0.99}, "entities": []}
    if "/" in topic:
        ranked = [{"intent_response_key": topic, "confidence": 0.99}]
        previous["response_selector"] = {
            intent: {"response": {"intent_response_key": topic}, "ranking": ranked}
        }
    t.events[:0] = [
        {"event": "user", "text": "身份证丢了", "parse_data": previous},
        {"event": "action", "name": "utter_faq"},
        {"event": "bot", "text": "身份证丢了或坏了：…"},
    ]
    return t


async def test_booking_right_after_an_answer_books_for_its_business(db: str) -> None:
    # "身份证丢了" was answered, then "预约窗口": the form does not ask which business again.
    slots, replies = await validate(_after_answer("faq/id_card_lost_online"))
    assert slots["business_type"] == "id_card"
    assert not any("哪项业务" in r for r in replies)
    slots, _ = await validate(_after_answer("ask_move_in"))
    assert slots["business_type"] == "hukou_move_in"


async def test_what_the_citizen_says_wins_over_the_previous_answer(db: str) -> None:
    said_now = [{"entity": "business_type", "value": "residence_permit"}]
    t = _after_answer("faq/id_card_lost_online", "预约办居住证", entities=said_now)
    slots, _ = await validate(t)
    assert slots["business_type"] == "residence_permit"


async def test_an_answer_without_a_bookable_business_still_asks(db: str) -> None:
    for topic in ("faq/move_out", "out_of_scope/traffic", "greet"):
        slots, _ = await validate(_after_answer(topic))
        assert "business_type" not in slots, topic


async def test_without_the_forms_slots_in_the_domain_nothing_is_filled(db: str) -> None:
    # The validator reads the form's slots from the domain Rasa sends (never a copy in code).
    assert await act(f.ValidateBookingForm(), tracker(fixture="booking_start"), {}) == ({}, [])


async def test_unreachable_database_says_busy_and_leaves_the_form(no_database: None) -> None:
    slots, messages = await act(f.ValidateBookingForm(), tracker(fixture="booking_start"))
    assert responses(messages) == ["utter_service_unavailable"]
    assert slots["requested_slot"] is None and slots["booker_phone"] is None


def test_every_booking_action_of_the_domain_is_served_by_the_action_server() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")  # as bot/action_server.py does: every action class
    mine = [
        a
        for a in DOMAIN["actions"]
        if "book" in a or "cancel" in a or "business" in a or a.startswith("action_find")
    ]
    assert len(mine) == 18
    assert set(mine) <= set(executor.actions)
    for form in (
        "booking_form",
        "my_booking_form",
        "cancel_booking_form",
        "reschedule_booking_form",
    ):
        assert f"validate_{form}" in executor.actions
        validator = executor.actions[f"validate_{form}"].__self__
        for slot in DOMAIN["forms"][form]["required_slots"]:
            # custom slots are filled only by the validator's extract_/validate_ methods
            assert hasattr(validator, f"extract_{slot}") and hasattr(validator, f"validate_{slot}")
            asked = (f"action_ask_{slot}", f"utter_ask_{form}_{slot}", f"utter_ask_{slot}")
            assert any(a in executor.actions or a in DOMAIN["responses"] for a in asked), slot


async def test_a_window_name_typed_while_windows_are_offered_chooses_it(db: str) -> None:
    # The NLU reads "户政服务大厅" as find_window; at this step it is the answer, not a question.
    state = {**PLACE, "booking_date": "2026-12-03"}
    t = form_tracker("booking_form", "户政服务大厅", state, "booking_slot", intent="find_window")
    slots, messages = await validate(t)
    assert slots.get("booking_window") and messages == []
    _, (times,) = await act(pr.ActionAskBookingSlot(), tracker(slots={**state, **slots}))
    assert all(re.match(r"\d\d:\d\d-", b["title"]) for b in times["buttons"])


async def test_a_question_about_the_windows_while_they_are_offered_gets_their_addresses(
    db: str,
) -> None:
    state = {**PLACE, "booking_date": "2026-12-03"}
    text = "这两个窗口在哪里"
    slots, messages = await validate(
        form_tracker("booking_form", text, state, "booking_slot", intent="find_window")
    )
    assert not slots.get("booking_window")
    said = "\n".join(messages)
    assert "固安县" in said and "地址" in said and "没听懂" not in said


@pytest.mark.parametrize(
    ("text", "window_chosen"),
    [("12月3号去户政服务大厅", True), ("12月3号上午 派出所那个就行", True), ("12月3号", False)],
)
async def test_a_window_named_with_the_day_is_kept(db: str, text: str, window_chosen: bool) -> None:
    # Before, "12月3号去户政服务大厅" kept the day and asked which of the two windows.
    t = form_tracker("booking_form", text, PLACE, "booking_date")
    slots, messages = await validate(t)
    assert slots.get("booking_date") == "2026-12-03", (slots, messages)
    assert bool(slots.get("booking_window")) is window_chosen, slots
    _, (question,) = await act(pr.ActionAskBookingSlot(), tracker(slots={**PLACE, **slots}))
    titles = [b["title"] for b in question.get("buttons") or []]
    offers_windows = not any(re.match(r"\d\d:\d\d-", title) for title in titles)
    assert offers_windows is not window_chosen, titles
