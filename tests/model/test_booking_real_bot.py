"""Booking through the real bot (rasa run + actions): a window named together with the day."""

from __future__ import annotations

import re

import pytest

from tests.web.helpers import ChatClient, texts

pytestmark = pytest.mark.needs_model

TIME = re.compile(r"\d\d:\d\d-")


def _titles(messages: list[dict]) -> list[str]:
    return [b["title"] for m in messages for b in m.get("buttons") or []]


def _at_the_day_step(client: ChatClient) -> list[dict]:
    first = client.say("我想预约办身份证")
    if "区县" not in texts(first):  # the business is asked first
        button = next(b for m in first for b in m.get("buttons") or [] if "身份证" in b["title"])
        first = client.say(button["payload"], title=button["title"])
    days = client.say("固安")
    assert "日期" in texts(days), texts(days)
    return days


def test_a_window_named_with_the_day_gets_that_windows_times(bot) -> None:
    client = ChatClient(bot.base_url).start()
    days = _at_the_day_step(client)
    day = next(t for t in _titles(days) if re.search(r"\d+月\d+日", t))
    day = re.search(r"\d+月\d+日", day).group(0)
    # Without a window, the citizen is asked which of 固安's windows.
    plain = ChatClient(bot.base_url).start()
    _at_the_day_step(plain)
    offered = plain.say(day)
    assert not any(TIME.match(t) for t in _titles(offered)), _titles(offered)
    # With one named, its times are offered at once.
    times = client.say(f"{day}去户政服务大厅")
    assert any(TIME.match(t) for t in _titles(times)), (texts(times), _titles(times))
