"""Messages the NLU has never seen, against the real bot (rasa run + action server).

A long message made of n-grams the training data never had gets the "not ours" answer
(out_of_scope/other: 12345 and what the assistant can do), not the clarifying question; but a
long name typed where the booking form asks for one is still the name; emoji or punctuation
alone get asked for words, with no guessed topic.
"""

from __future__ import annotations

import pytest

from tests.web.helpers import ChatClient, texts

pytestmark = pytest.mark.needs_model

NOT_OURS = "12345"


@pytest.mark.parametrize("message", ["量子纠缠的原理是什么", "小区门口的共享单车堆成山了"])
def test_far_away_questions_get_the_not_ours_answer(bot, message: str) -> None:
    reply = texts(ChatClient(bot.base_url).start().say(message))
    assert NOT_OURS in reply, reply


def _walk_to_the_name_question(client: ChatClient) -> list[dict]:
    messages = client.say("我想预约办身份证，在三河市")
    for _ in range(8):
        if "姓名" in texts(messages):
            return messages
        buttons = [b for m in messages for b in m.get("buttons") or []]
        assert buttons, texts(messages)
        messages = client.say(buttons[0]["payload"], title=buttons[0]["title"])
    raise AssertionError(f"the name was never asked: {texts(messages)}")


@pytest.mark.parametrize("name", ["买买提·艾力", "阿卜杜热合曼·买买提"])
def test_a_long_minority_name_is_taken_as_the_name(bot, fresh_limits, name: str) -> None:
    client = ChatClient(bot.base_url).start()
    _walk_to_the_name_question(client)
    reply = texts(client.say(name))
    assert NOT_OURS not in reply and "手机" in reply, reply


@pytest.mark.parametrize("message", ["？", "😀😀", "……"])
def test_symbols_only_get_asked_for_words_without_guessed_topics(bot, message: str) -> None:
    messages = ChatClient(bot.base_url).start().say(message)
    assert "表情或符号" in texts(messages), texts(messages)
    buttons = [b["title"] for m in messages for b in m.get("buttons") or []]
    assert buttons == ["留言给民警"], buttons
