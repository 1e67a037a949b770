"""Unit tests of the web-chat channel's logic: tokens, validation, message ids, history."""

from __future__ import annotations

import asyncio
import stat
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from bot.channels.webchat.history import (
    WebChatCollector,
    assign_message_ids,
    bot_events_with_ids,
    render_bot_message,
    visible_history,
)
from bot.channels.webchat.inputs import ApiError, parse_json_body, validate_message
from bot.channels.webchat.tokens import issue_token, load_secret, new_conversation_id, verify_token

T = TypeVar("T")
SECRET = b"unit-test-secret"
DAY = 86400


def test_token_round_trip_and_tampering() -> None:
    cid = new_conversation_id()
    token = issue_token(SECRET, cid)
    assert verify_token(SECRET, token, DAY) == cid
    version, _, issued, sig = token.split(".")
    other = new_conversation_id()
    assert verify_token(SECRET, f"{version}.{other}.{issued}.{sig}", DAY) is None
    assert verify_token(SECRET, f"{version}.{cid}.{issued[::-1]}.{sig}", DAY) is None
    assert verify_token(b"another-secret", token, DAY) is None
    assert verify_token(SECRET, token + "x", DAY) is None
    assert verify_token(SECRET, "", DAY) is None
    assert verify_token(SECRET, "a.b.c", DAY) is None


def test_token_expiry_and_future_tokens() -> None:
    cid = new_conversation_id()
    old = issue_token(SECRET, cid, issued_at=int(time.time()) - 2 * DAY)
    assert verify_token(SECRET, old, DAY) is None
    assert verify_token(SECRET, old, 3 * DAY) == cid
    future = issue_token(SECRET, cid, issued_at=int(time.time()) + 3600)
    assert verify_token(SECRET, future, DAY) is None


def test_conversation_ids_are_random() -> None:
    ids = {new_conversation_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 24 and "." not in i for i in ids)


def test_secret_env_wins_and_file_is_generated_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBCHAT_TEST_SECRET", raising=False)
    path = tmp_path / "var" / "secret"
    first = load_secret("WEBCHAT_TEST_SECRET", path)
    assert len(first) >= 43  # 256 bits, URL-safe
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret("WEBCHAT_TEST_SECRET", path) == first, "stable across restarts"
    monkeypatch.setenv("WEBCHAT_TEST_SECRET", "from-env")
    assert load_secret("WEBCHAT_TEST_SECRET", path) == b"from-env"


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", b"{}", 415),
        (None, b"{}", 415),
        ("application/json", b"{", 400),
        ("application/json", b"[]", 400),
        ("application/json", b"\xff", 400),
        ("application/json", b" " * (65 * 1024), 413),
    ],
)
def test_parse_json_body_rejects(content_type: str | None, body: bytes, status: int) -> None:
    with pytest.raises(ApiError) as err:
        parse_json_body(content_type, body)
    assert err.value.status == status


def test_parse_json_body_accepts_charset() -> None:
    assert parse_json_body("Application/JSON; charset=utf-8", '{"a": "中"}'.encode()) == {"a": "中"}


def test_validate_message() -> None:
    msg = validate_message({"message": "  你好\x00\x07 ", "title": " 按钮 "}, 500)
    assert msg.text == "你好" and msg.title == "按钮"
    assert validate_message({"message": "a" * 500}, 500).text == "a" * 500
    assert validate_message({"message": "x", "title": 3}, 500).title is None
    assert validate_message({"message": "x\ud800y"}, 500).text == "xy"
    for data, code in [
        ({}, "missing_message"),
        ({"message": None}, "missing_message"),
        ({"message": 1}, "invalid_message"),
        ({"message": " \n "}, "empty_message"),
        ({"message": "\x00"}, "empty_message"),
        ({"message": "a" * 501}, "message_too_long"),
    ]:
        with pytest.raises(ApiError) as err:
            validate_message(data, 500)
        assert err.value.status == 400 and err.value.code == code


def test_render_bot_message_keeps_what_the_client_shows() -> None:
    rendered = render_bot_message(
        {
            "text": "请选择：",
            "buttons": [
                {"title": "男孩", "payload": "/inform"},
                {"title": "", "payload": "/x"},
                {"title": "官网", "url": "https://example.gov.cn", "type": "web_url"},
                {"title": "坏链接", "url": "javascript:alert(1)"},
                "junk",
            ],
            "image": None,
            "custom": {"type": "location", "name": "固安县户政大厅"},
            "timestamp": 1.0,
            "utter_action": "utter_x",
        }
    )
    assert rendered == {
        "text": "请选择：",
        "buttons": [
            {"title": "男孩", "payload": "/inform"},
            {"title": "官网", "url": "https://example.gov.cn"},
        ],
        "custom": {"type": "location", "name": "固安县户政大厅"},
    }
    assert render_bot_message({"text": "  ", "buttons": []}) is None
    assert render_bot_message({"quick_replies": [{"title": "是", "payload": "/affirm"}]}) == {
        "buttons": [{"title": "是", "payload": "/affirm"}]
    }


def test_message_ids_are_stable_and_unique() -> None:
    assert assign_message_ids([1.000001, 1.000001, None, 2.5]) == [
        "1000001",
        "1000001-1",
        None,
        "2500000",
    ]


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh loop in a worker thread (safe whatever else is running)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_collector_ids_match_tracker_ids() -> None:
    events = [
        UserUttered("你好"),
        BotUttered("第一条", timestamp=100.25),
        BotUttered(
            "第二条", {"buttons": [{"title": "是", "payload": "/affirm"}]}, timestamp=100.25
        ),
        BotUttered(None, timestamp=100.3),  # nothing to show: no id
    ]
    collector = WebChatCollector()
    for event in events[1:]:
        assert isinstance(event, BotUttered)
        run(collector.send_response("cid", event.message()))
    client = collector.client_messages()
    assert [m["id"] for m in client] == ["100250000", "100250000-1"]
    assert client[0]["text"] == "第一条" and "_timestamp" not in client[0]
    assert "\n" not in client[0]["text"]
    from_tracker = [(mid, bot.text) for mid, bot, _ in bot_events_with_ids(events)]
    assert from_tracker == [("100250000", "第一条"), ("100250000-1", "第二条")]


def test_collector_keeps_blank_lines_inside_one_message() -> None:
    collector = WebChatCollector()
    run(collector.send_response("cid", BotUttered("第一段\n\n第二段").message()))
    (only,) = collector.client_messages()
    assert only["text"] == "第一段\n\n第二段"


def test_visible_history_masks_and_uses_button_titles() -> None:
    events = [
        SessionStarted(timestamp=1),
        ActionExecuted("action_listen", timestamp=2),
        UserUttered("我的手机13812345678", timestamp=3),
        BotUttered("已记录您的号码13812345678", timestamp=4),
        UserUttered("/check_name", metadata={"webchat": {"title": "新生儿重名"}}, timestamp=5),
        BotUttered("请输入名字", {"custom": {"text": "身份证11010519491231002X"}}, timestamp=6),
    ]
    history = visible_history(events)
    assert [(h["role"], h.get("text")) for h in history] == [
        ("user", "我的手机138****5678"),
        ("bot", "已记录您的号码138****5678"),
        ("user", "新生儿重名"),
        ("bot", "请输入名字"),
    ]
    assert history[3]["custom"] == {"text": "身份证1101**********002X"}
    assert history[1]["id"] == "4000000"
    assert len(visible_history(events, limit=2)) == 2


def test_feedback_lookup_finds_the_answered_user_message() -> None:
    events = [
        UserUttered("/check_name", metadata={"webchat": {"title": "新生儿重名"}}, timestamp=1),
        BotUttered("请输入名字", timestamp=2),
        UserUttered("王梓轩", timestamp=3),
        BotUttered("已有3人重名", timestamp=4),
    ]
    found = {
        mid: (bot.text, user.text if user else None)
        for mid, bot, user in bot_events_with_ids(events)
    }
    assert found == {"2000000": ("请输入名字", "/check_name"), "4000000": ("已有3人重名", "王梓轩")}
