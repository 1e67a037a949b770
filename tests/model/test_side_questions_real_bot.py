"""Side questions inside the booking forms, against the real bot (rasa run + actions).

Asked at a later step ("等一下，迁户口要带什么材料") it is answered and the form goes on where
it was; typed for the business ("户口迁入", which the NLU reads as a move-in question) it is
the business. A policy question naming another business leaves the booking as it is.
"""

from __future__ import annotations

import pytest

from tests.web.helpers import ChatClient, texts

pytestmark = pytest.mark.needs_model


def _button(messages: list[dict], title_part: str) -> dict:
    buttons = [b for m in messages for b in m.get("buttons") or []]
    found = [b for b in buttons if title_part in b["title"]]
    assert found, (title_part, [b["title"] for b in buttons])
    return found[0]


def _click(client: ChatClient, messages: list[dict], title_part: str) -> list[dict]:
    button = _button(messages, title_part)
    return client.say(button["payload"], title=button["title"])


def test_a_move_in_question_at_the_county_step_is_answered_and_the_form_goes_on(bot) -> None:
    client = ChatClient(bot.base_url).start()
    messages = _click(client, client.say("我想预约"), "居民身份证")
    assert "区县" in texts(messages), texts(messages)
    side = client.say("等一下，迁户口要带什么材料")
    assert "情形" in texts(side) and "区县" in texts(side), texts(side)
    # A situation clicked from the side answer lists its materials; the booking goes on.
    materials = _click(client, side, "购房")
    assert "不动产" in texts(materials) and "区县" in texts(materials), texts(materials)
    nxt = client.say("固安")
    assert "日期" in texts(nxt) and "居民身份证" in texts(nxt), texts(nxt)


def test_a_move_in_business_typed_at_the_first_question_is_the_business(bot) -> None:
    client = ChatClient(bot.base_url).start()
    client.say("我想预约")
    messages = client.say("户口迁入")
    assert "区县" in texts(messages) and "情形" not in texts(messages), texts(messages)


def test_a_policy_question_naming_another_business_does_not_change_the_booking(bot) -> None:
    client = ChatClient(bot.base_url).start()
    _click(client, client.say("我想预约"), "户口迁入")
    side = client.say("对了，身份证丢了怎么办")
    assert "补领" in texts(side) and "区县" in texts(side), texts(side)
    nxt = client.say("固安")
    assert "户口迁入" in texts(nxt) and "居民身份证" not in texts(nxt), texts(nxt)


@pytest.mark.parametrize(
    ("start", "business_step"),
    [("我想取消预约", "取消"), ("查一下我的预约", "查询"), ("我要改约", "改约")],
    ids=["cancel", "my_booking", "reschedule"],
)
def test_a_policy_question_inside_a_booking_lookup_is_answered_and_the_form_goes_on(
    bot, start: str, business_step: str
) -> None:
    client = ChatClient(bot.base_url).start()
    first = client.say(start)
    assert "预约码" in texts(first), texts(first)
    side = client.say("等一下，补办身份证要多少钱")
    # The fee answer, then the same question again (not "预约码是YY加6位…", the format error).
    assert "40元" in texts(side) and "请输入预约码" in texts(side), texts(side)
    assert "请核对后重新输入" not in texts(side), texts(side)
    nxt = client.say("YY7KQ2MD")
    assert business_step in texts(nxt) and "手机号码" in texts(nxt), texts(nxt)
