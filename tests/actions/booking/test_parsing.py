"""Reading what a citizen said (actions/booking/parsing.py): no database, no Rasa server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actions.booking import parsing as p
from actions.booking.rules import phone_value
from tests.actions.booking.conftest import (
    BOOKING_FORM_SLOTS,
    DOMAIN,
    NOW,
    PHONE,
    answered_again,
    answered_now,
)
from tests.actions.booking_support import tracker

LOOKUP_FORM_SLOTS: list[str] = DOMAIN["forms"]["my_booking_form"]["required_slots"]
RESCHEDULE_FORM_SLOTS: list[str] = DOMAIN["forms"]["reschedule_booking_form"]["required_slots"]


def extract(
    text: str,
    requested: str | None,
    intent: str = "inform",
    slots: list[str] = BOOKING_FORM_SLOTS,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    message = p.LatestMessage.from_tracker(tracker(text=text, intent=intent, entities=entities))
    return p.extract_candidates(message, requested, slots, NOW)


def test_one_sentence_fills_business_day_and_half_day() -> None:
    message = p.LatestMessage.from_tracker(tracker(fixture="booking_start"))
    assert p.extract_candidates(message, None, BOOKING_FORM_SLOTS, NOW) == {
        "business_type": "id_card",
        "booking_date": "2026-12-03",
        "booking_slot": "morning",
        p.WINDOW_HINT: "我想约明天上午的身份证",  # a message with a day may name a window
    }


def test_stop_and_unrelated_questions_leave_the_form_to_the_rules() -> None:
    stop = p.LatestMessage.from_tracker(tracker(fixture="booking_stop"))
    assert p.extract_candidates(stop, "booking_county", BOOKING_FORM_SLOTS, NOW) == {}
    assert extract("身份证丢了要带什么材料", "booking_date", intent="faq") == {}
    assert extract("转人工", "booker_phone", intent="human_handoff") == {}
    # ... but a bad value typed as an answer is kept, so the validator can say what is wrong
    assert extract("随便吧", "booking_date") == {"booking_date": "随便吧"}


def test_a_side_question_naming_a_business_or_county_leaves_the_booking_as_it_is() -> None:
    move_in = [{"entity": "business_type", "value": "hukou_move_in"}]
    question = "等一下，迁户口要带什么材料"
    # Asked at the county step: a question, not a new business (the rules answer it).
    assert extract(question, "booking_county", intent="ask_move_in", entities=move_in) == {}
    sanhe = [{"entity": "county", "value": "三河市"}]
    assert extract("三河落户要什么材料", "booking_date", intent="ask_move_in", entities=sanhe) == {}
    # Where the form asks for it, the same words are the answer ...
    assert extract("户口迁入", "business_type", intent="ask_move_in", entities=move_in) == {
        "business_type": "hukou_move_in"
    }
    # ... and a correction changes it at any step.
    assert extract("改成户口迁入", "booking_county", intent="faq", entities=move_in) == {
        "business_type": "hukou_move_in"
    }


def test_button_payloads_are_read_from_rasas_entities() -> None:
    assert extract('/inform{"booking_slot":"42"}', "booking_slot") == {"booking_slot": "42"}
    assert extract('/inform{"booking_window":"17"}', "booking_slot") == {"booking_window": "17"}
    county = p.LatestMessage.from_tracker(tracker(fixture="booking_ask_county"))
    assert county.from_button and county.entities == {"county": "固安县"}
    assert p.extract_candidates(county, "booking_county", BOOKING_FORM_SLOTS, NOW) == {
        "booking_county": "固安县"
    }


@pytest.mark.parametrize(
    "entities",
    [
        {"booker_phone": {"masked": "138****5678", "hash": "forged"}},
        {"booker_phone": PHONE},
        {"booker_name": "王五"},
        {"booking_code": "YY7KQ2MD"},
        {"booking_confirmed": True, "cancel_confirmed": True},
    ],
)
def test_a_payload_never_fills_personal_or_confirmation_slots(entities: dict[str, Any]) -> None:
    # Rasa drops undeclared entities, but whatever reaches the action is ignored anyway.
    found = [{"entity": k, "value": v} for k, v in entities.items()]
    payload = '/inform{"booking_slot":"42"}'
    for requested in ("booker_name", "booker_phone", "booking_code", "booking_confirmed"):
        for slots in (BOOKING_FORM_SLOTS, LOOKUP_FORM_SLOTS):
            got = extract(payload, requested, slots=slots, entities=found)
            assert set(got) <= {"booking_slot"}, (requested, got)


def test_a_number_inside_a_payload_is_not_read_as_a_phone_or_code() -> None:
    value = "13812345678 YY7KQ2MD"
    payload = "/inform" + json.dumps({"booking_slot": value})
    got = extract(payload, "booker_phone", entities=[{"entity": "booking_slot", "value": value}])
    assert "booker_phone" not in got and "booking_code" not in got


def test_personal_values_come_from_typed_text() -> None:
    assert extract("我的手机是138 1234 5678", "booker_phone") == {"booker_phone": PHONE}
    assert extract("我叫张三", "booker_name") == {"booker_name": "我叫张三"}
    assert extract("预约码 yy7kq-2md", "booking_code", slots=LOOKUP_FORM_SLOTS) == {
        "booking_code": "YY7KQ2MD"
    }


def test_a_name_that_contains_a_county_alias_is_a_name() -> None:
    entities = [{"entity": "county", "value": "大城县"}]
    assert extract("李大城", "booker_name", entities=entities) == {"booker_name": "李大城"}


@pytest.mark.parametrize("name", ["买买提·艾力", "阿卜杜热合曼·买买提", "我叫热依拉·阿不都"])
def test_a_name_the_classifier_calls_out_of_scope_is_still_a_name(name: str) -> None:
    # Long names made of characters rare in the training data read as "not ours" to the NLU.
    got = extract(name, "booker_name", intent="out_of_scope")
    assert got == {"booker_name": name}


def test_a_real_out_of_scope_question_at_the_name_step_is_an_interruption() -> None:
    assert extract("路灯坏了找谁修？", "booker_name", intent="out_of_scope") == {}


def test_a_correction_while_the_name_is_asked_is_not_a_name() -> None:
    message = p.LatestMessage.from_tracker(tracker(fixture="booking_correction_at_name"))
    got = p.extract_candidates(message, "booker_name", BOOKING_FORM_SLOTS, NOW)
    assert got == {"booking_date": "2026-12-04", p.WINDOW_HINT: "不对，日期改成后天吧"}


def test_a_time_alone_at_the_confirmation_changes_the_time() -> None:
    assert extract("改成下午四点", "booking_confirmed") == {"booking_slot": "16:00"}
    assert extract("换到后天", "booking_confirmed") == {
        "booking_date": "2026-12-04",
        p.WINDOW_HINT: "换到后天",
    }
    assert extract("地点改成三河", "booking_confirmed") == {"booking_county": "三河市"}
    # a plain answer is left for the confirmation reader
    assert extract("确认", "booking_confirmed") == {"booking_confirmed": "确认"}


def test_a_time_alone_while_the_day_is_asked_is_a_preference() -> None:
    assert extract("下午", "booking_date") == {"booking_slot": "afternoon"}
    assert extract("三点半", "booking_slot") == {"booking_slot": "15:30"}


def test_only_the_running_forms_slots_are_filled() -> None:
    # The my-booking form has no day: a date in the message is not a candidate.
    got = extract("YY7KQ2MD 明天 13812345678", None, slots=LOOKUP_FORM_SLOTS)
    assert got == {"booking_code": "YY7KQ2MD", "booker_phone": PHONE}
    # rescheduling may change the place too
    got = extract("改到三河 后天上午", "booking_date", slots=RESCHEDULE_FORM_SLOTS)
    assert got == {
        "booking_county": "三河市",
        "booking_date": "2026-12-04",
        "booking_slot": "morning",
        p.WINDOW_HINT: "改到三河 后天上午",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我叫张三", "张三"),
        ("张三。", "张三"),
        ("姓名：欧阳娜娜", "欧阳娜娜"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提•艾力", "买买提·艾力"),
        ("张 三", "张三"),
        ("123", None),
        ("zhang san", None),
        ("不知道", None),
        ("张", None),
        ("买买提·", None),
    ],
)
def test_clean_name(text: str, expected: str | None) -> None:
    assert p.clean_name(text) == expected


def test_masked_names_keep_only_the_family_name_without_asterisks() -> None:
    assert p.mask_name("张三") == "张某"
    assert p.mask_name("欧阳娜娜") == "欧某某某"
    assert p.mask_name("买买提·艾力") == "买某某某某某"
    assert p.mask_name("") == "某"
    assert "*" not in p.mask_name("王二小")  # 王** would read as Markdown bold next to a phone


def test_phone_value_and_booking_codes() -> None:
    value = phone_value("138-1234-5678")
    assert value["masked"] == "138****5678" and PHONE not in str(value)
    assert value == phone_value(PHONE)  # the same number, however written, has the same key
    assert p.find_booking_code("我的预约码是 yy7kq-2md") == "YY7KQ2MD"
    assert p.find_booking_code("ＹＹ７ＫＱ２ＭＤ") == "YY7KQ2MD"
    assert p.find_booking_code("XYY7KQ2MD9") is None  # inside a longer token
    assert p.find_booking_code("YY7KQ2") is None


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("/affirm", "affirm", True),
        ("确认", "inform", True),
        ("确认预约", "inform", True),
        ("好的。", "inform", True),
        ("ＯＫ", "inform", True),
        ("嗯", "inform", True),
        ("不对", "inform", False),
        ("错了，要改一下", "inform", False),
        ("不是这个", "inform", False),
        ("算了吧", "deny", False),
        ("我再想想", "inform", None),
        ("这个地址在哪", "find_window", None),
    ],
)
def test_read_confirmation(text: str, intent: str, expected: bool | None) -> None:
    message = p.LatestMessage(text=text, intent=intent)
    assert p.read_confirmation(message) is expected


def test_latest_message_keeps_the_first_value_per_entity() -> None:
    message = p.LatestMessage.from_tracker(
        tracker(
            text="固安或者三河",
            entities=[
                {"entity": "county", "value": "固安县"},
                {"entity": "county", "value": "三河市"},
                {"entity": "business_type", "value": None},
            ],
        )
    )
    assert message.entities == {"county": "固安县"} and not message.from_button


def test_a_message_already_answered_is_not_fresh() -> None:
    # After an interruption (a FAQ answered by a rule) the form runs again without a new
    # user message: the old message must not be read as an answer.
    assert not p.message_is_fresh(answered_again("明天能办吗", "faq"))
    assert p.message_is_fresh(answered_now("明天"))


@pytest.mark.parametrize(
    ("text", "candidates", "expected"),
    [
        ("固安", None, "固安县"),
        ("在开发区", None, "廊坊经济技术开发区"),
        ("燕郊", None, "三河市"),
        ("三河", ["三河市", "固安县"], "三河市"),
        ("北京朝阳", None, None),
        ("", None, None),
    ],
)
def test_county_from_text(text: str, candidates: list[str] | None, expected: str | None) -> None:
    assert p.county_from_text(text, candidates) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("补身份证", "id_card"),
        ("新生儿落户", "birth_registration"),
        ("residence_permit", "residence_permit"),
        ("办护照", None),
    ],
)
def test_business_from_text(text: str, expected: str | None) -> None:
    assert p.business_from_text(text) == expected
