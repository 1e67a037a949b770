"""Which bot messages can be rated, decided from the tracker's events (bot/channels/rating.py).

The event sequences are the ones Rasa logs (checked against a real tracker): an action's
``ActionExecuted`` first, then its bot messages and slot events.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from bot.channels.rating import (
    PART_MARK,
    PROMPT_MARK,
    InvalidFeedback,
    answer_text,
    load_feedback_options,
    rateable_events,
    validate_feedback,
)


def bot(text: str, **metadata: str) -> BotUttered:
    return BotUttered(text, {}, metadata)


def rateable_texts(events: list) -> list[str]:
    ids = rateable_events(events)
    return [e.text for e in events if isinstance(e, BotUttered) and id(e) in ids]


def test_answers_are_rateable_prompts_and_small_talk_are_not() -> None:
    events = [
        UserUttered("你好"),
        ActionExecuted("utter_greet"),
        bot("您好！我是廊坊e户政智能客服", utter_action="utter_greet"),
        UserUttered("身份证丢了"),
        ActionExecuted("utter_faq"),
        bot("身份证丢失或损坏……", utter_action="utter_faq/id_card_lost_online"),
        ActionExecuted("utter_anything_else"),
        bot("还有其他可以帮您的吗？", utter_action="utter_anything_else"),
        UserUttered("查进度"),
        ActionExecuted("case_status_form"),
        SlotSet("requested_slot", "case_number"),
        bot("请输入受理编号", utter_action="utter_ask_case_number"),
        UserUttered("不知道"),
        ActionExecuted("case_status_form"),
        bot("没有识别到受理编号。"),  # a validation error: still the form asking
        SlotSet("requested_slot", "case_number"),
        bot("请输入受理编号", utter_action="utter_ask_case_number"),
        UserUttered("SL202611050123"),
        ActionExecuted("case_status_form"),
        SlotSet("requested_slot", None),
        ActionExecuted("action_case_status"),
        bot("您的业务正在审核中。"),
    ]
    assert rateable_texts(events) == ["身份证丢失或损坏……", "您的业务正在审核中。"]


def test_custom_actions_mark_questions_and_inner_parts() -> None:
    events = [
        UserUttered("户籍窗口在哪"),
        ActionExecuted("action_find_window"),
        bot("请问您要查哪个区县的户籍窗口？", **PROMPT_MARK),
        UserUttered("固安"),
        ActionExecuted("action_find_window"),
        bot("固安县的户籍窗口：", **PART_MARK),
        bot("【固安县户政服务大厅】", utter_action="utter_place", **PART_MARK),
        bot("办理前可先预约。"),
        SlotSet("county", "固安县"),
        UserUttered("预约"),
        ActionExecuted("booking_form"),
        bot("请问您要预约办理哪项业务？"),  # a custom ask action's text inside the form
        SlotSet("requested_slot", "business_type"),
        UserUttered("有问题"),
        ActionExecuted("action_clarify"),
        bot("您想问的是：", **{}),
    ]
    assert rateable_texts(events) == ["办理前可先预约。"]
    (closing,) = [e for e in events if isinstance(e, BotUttered) and e.text == "办理前可先预约。"]
    assert answer_text(events, closing) == (
        "固安县的户籍窗口：\n【固安县户政服务大厅】\n办理前可先预约。"
    )


@pytest.fixture()
def options():
    return load_feedback_options()


def test_the_shipped_wording_file_has_reasons_and_a_notice(options) -> None:
    assert options.sample_notice.startswith("示例数据")
    assert len(options.reasons) >= 3 and options.reasons[-1][0] == "other"
    assert options.thanks and options.comment_hint and options.question.endswith("？")


def test_feedback_validation(options) -> None:
    up = validate_feedback(
        {"message_id": "1", "rating": "up", "reason": "x", "comment": "y"}, options, 40
    )
    assert (up.rating, up.reason, up.comment) == ("up", None, None)
    down = validate_feedback(
        {"message_id": "1", "rating": "down", "reason": "other", "comment": " 不对\x07 "},
        options,
        40,
    )
    assert (down.reason, down.comment) == ("other", "不对")
    for body, code in [
        ({"message_id": "1", "rating": "down", "reason": "nope"}, "invalid_reason"),
        ({"message_id": "1", "rating": "down", "comment": 3}, "invalid_comment"),
        ({"message_id": "1", "rating": "down", "comment": "字" * 201}, "comment_too_long"),
        ({"message_id": "", "rating": "down"}, "invalid_message_id"),
        ({"message_id": "1", "rating": None}, "invalid_rating"),
    ]:
        with pytest.raises(InvalidFeedback) as err:
            validate_feedback(body, options, 40)
        assert err.value.code == code


def test_a_broken_reasons_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feedback_reasons.yml"
    path.write_text("reasons:\n  - code: 'not a code'\n    title: 坏\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad feedback reason"):
        load_feedback_options(reasons_file=path)
    path.write_text("reasons: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="question and reasons"):
        load_feedback_options(reasons_file=path)
