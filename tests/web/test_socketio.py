"""The socket.io channel (bot/channels/socketio.py) as a client sees it, against the stub server.

A python-socketio client plays the rasa-webchat widget's protocol (``session_request`` →
``session_confirm``, ``user_uttered`` → ``bot_uttered``) the way the widget connects: long
polling first, then the upgrade to a WebSocket (which failed on Sanic 21.12 + Python 3.11
before ``fix_sanic_websocket_recv``). The real widget in Chromium: tests/web/test_widget.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio

from bot.channels.rating import load_feedback_options
from bot.channels.socketio import SafeSocketIOOutput, allowed_origins
from tests.web.conftest import ChatServer
from tests.web.helpers import ChatClient


class Widget:
    """A socket.io client speaking rasa-webchat's protocol."""

    def __init__(self, base_url: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.messages: list[dict[str, Any]] = []
        self.tokens: list[str] = []
        self._event = threading.Event()
        self.client.on("bot_uttered", self._bot)
        self.client.on("session_confirm", self._confirm)
        self.client.connect(base_url, socketio_path="/socket.io", wait_timeout=10)

    def _bot(self, data: dict[str, Any]) -> None:
        self.messages.append(data)
        self._event.set()

    def _confirm(self, token: str) -> None:
        self.tokens.append(token)
        self._event.set()

    def wait(self, check: Any, timeout: float = 15) -> None:
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not check():
                assert not deadline.is_set(), "no answer from the socket.io channel"
                self._event.wait(0.1)
                self._event.clear()
        finally:
            timer.cancel()

    def session(self, session_id: Any = None) -> str:
        count = len(self.tokens)
        self.client.emit("session_request", {"session_id": session_id})
        self.wait(lambda: len(self.tokens) > count)
        return self.tokens[-1]

    def say(self, data: Any, replies: int = 1) -> list[dict[str, Any]]:
        start = len(self.messages)
        self.client.emit("user_uttered", data)
        self.wait(lambda: len(self.messages) >= start + replies)
        return self.messages[start:]

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture()
def widget(stub: ChatServer) -> Iterator[Widget]:
    client = Widget(stub.base_url)
    yield client
    client.close()


def test_the_connection_is_upgraded_to_a_websocket(widget: Widget) -> None:
    widget.session()
    assert widget.client.transport() == "websocket"


def test_the_server_issues_and_signs_the_session(widget: Widget) -> None:
    token = widget.session("my-own-conversation")
    assert token != "my-own-conversation" and token.startswith("v1.")
    assert widget.session(token) == token, "a valid token keeps its conversation"
    assert widget.session(None) != token
    assert widget.session({"a": 1}) != token


def test_a_web_chat_token_does_not_open_its_conversation(stub: ChatServer, widget: Widget) -> None:
    chat = ChatClient(stub.base_url).start()
    chat.say("我的网页对话")
    assert widget.session(chat.token) != chat.token
    replies = widget.say({"message": "偷看", "session_id": chat.token}, replies=1)
    assert replies[0]["text"] == "会话已失效，已为您开始新的对话，请重新发送您的问题。"
    texts = [m["text"] for m in chat.history().json()["messages"]]
    assert texts == ["我的网页对话", "收到：我的网页对话"], "the web-chat conversation is untouched"


def test_answers_with_line_breaks_buttons_and_place_links(widget: Widget) -> None:
    token = widget.session()
    first, second = widget.say({"message": "身份证丢了怎么补办", "session_id": token}, replies=2)
    assert first["text"] == "省内户籍、两年内办过身份证的，可网上补领。  \n工本费40元，邮寄费20元。"
    assert "https://example.gov.cn/id-card" in second["text"]
    (question,) = widget.say({"message": "/check_name", "session_id": token})
    assert question["quick_replies"] == [
        {"content_type": "text", "title": "男孩", "payload": '/inform{"gender":"male"}'},
        {"content_type": "text", "title": "女孩", "payload": '/inform{"gender":"female"}'},
    ]
    heading, card, closing = widget.say({"message": "固安县窗口", "session_id": token}, replies=3)
    assert heading == {"text": "固安县的户籍窗口："}
    assert card["text"].startswith("【固安县户政服务大厅（示例）】")
    assert card["buttons"] == [
        {
            "type": "web_url",
            "title": "地图导航",
            "url": "https://uri.amap.com/marker?position=116.299000,39.438000&name=x",
        }
    ]
    assert closing["quick_replies"][0]["title"] == "预约办理"


def test_bad_input_gets_a_polite_reply(widget: Widget) -> None:
    token = widget.session()
    assert widget.say({"message": "长" * 501, "session_id": token})[0]["text"] == (
        "消息太长了，请控制在500字以内。"
    )
    assert widget.say({"message": 42, "session_id": token})[0]["text"] == "消息内容必须是文字。"
    bad_request = load_feedback_options().bad_request
    assert bad_request.startswith("消息格式不正确")
    assert widget.say(["not", "an", "object"])[0]["text"] == bad_request
    assert widget.say("text")[0]["text"] == bad_request
    (echo,) = widget.say(
        {
            "message": "\x00你好\x07",
            "session_id": token,
            "customData": {"webchat": {"title": "伪造"}},
            "metadata": {"webchat": {"title": "伪造"}},
        }
    )
    assert echo["text"] == "收到：你好"  # cleaned; the metadata is checked on the real bot


def test_no_bot_reply_gives_the_polite_fallback(widget: Widget) -> None:
    token = widget.session()
    (reply,) = widget.say({"message": "__silent__", "session_id": token})
    assert reply["text"].startswith("系统繁忙")


def test_replies_reach_only_their_own_conversation(stub: ChatServer, widget: Widget) -> None:
    other = Widget(stub.base_url)
    try:
        other.session()
        widget.say({"message": "只给我", "session_id": widget.session()})
        widget.say({"message": "再来一条", "session_id": widget.tokens[-1]})
        assert other.messages == [], "the other conversation received nothing"
    finally:
        other.close()


def test_only_configured_origins_may_connect(stub: ChatServer) -> None:
    url = f"{stub.base_url}/socket.io/?EIO=4&transport=polling"
    allowed = requests.get(url, headers={"Origin": stub.widget_origin}, timeout=10)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == stub.widget_origin
    refused = requests.get(url, headers={"Origin": "http://evil.example"}, timeout=10)
    assert refused.status_code == 400
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_allowed_origins_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOCKETIO_CORS_ORIGINS", raising=False)
    assert allowed_origins([]) is None, "none configured: same origin only (never 'anyone')"
    assert allowed_origins(None) is None
    monkeypatch.setenv("SOCKETIO_CORS_ORIGINS", "https://a.gov.cn, https://b.gov.cn/")
    assert allowed_origins(["https://c.gov.cn"]) == [
        "https://a.gov.cn",
        "https://b.gov.cn",
        "https://c.gov.cn",
    ]
    with pytest.raises(ValueError):
        allowed_origins("*")


class FakeServer:
    """Records what the output channel emits."""

    def __init__(self) -> None:
        self.emitted: list[dict[str, Any]] = []

    async def emit(self, event: str, data: Any = None, room: str | None = None) -> None:
        self.emitted.append(data)


def test_output_turns_rasa_messages_into_what_the_widget_shows() -> None:
    fake = FakeServer()
    output = SafeSocketIOOutput(fake, "bot_uttered", "地图导航")  # type: ignore[arg-type]
    messages = [
        {"text": "看这里", "buttons": [{"title": "官网", "url": "https://www.gov.cn"}]},
        {"text": "一处", "custom": {"type": "location", "name": "甲", "address": "乙"}},
        {"custom": {"text": "自定义文字"}},
        {"custom": {"type": "something-else", "x": 1}},
    ]
    for message in messages:
        asyncio.run(output.send_response("room", dict(message)))
    assert fake.emitted == [
        {
            "text": "看这里",
            "quick_replies": [{"type": "web_url", "title": "官网", "url": "https://www.gov.cn"}],
        },
        {"text": "一处"},
        {"text": "自定义文字"},
    ]
