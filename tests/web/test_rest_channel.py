"""The REST channel (`bot.channels.rest.SafeRestInput`): trusted callers, limits, a reply."""

import json
import urllib.error
import urllib.request

import pytest

from bot.channels.rest import BUSY_REPLY
from tests.web.helpers import ChatClient
from tests.web.stub_server import API_TOKEN


def post(base: str, body: bytes, content_type: str = "application/json", token=API_TOKEN):
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"{base}/webhooks/rest/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def send(base: str, sender, message, token=API_TOKEN):
    return post(base, json.dumps({"sender": sender, "message": message}).encode(), token=token)


def test_a_normal_message_gets_the_bot_reply(stub):
    status, body = send(stub.base_url, "rest-1", "你好")
    assert status == 200
    assert body[0]["text"] == "收到：你好" and body[0]["recipient_id"] == "rest-1"


@pytest.mark.parametrize("token", [None, "", "wrong-token", API_TOKEN + "x"])
def test_without_the_api_token_nothing_reaches_the_bot(stub, token):
    status, body = send(stub.base_url, "rest-x", "你好", token=token)
    assert status == 401 and body["error"] == "unauthorized"


def test_a_rest_caller_cannot_address_a_web_chat_conversation(stub):
    citizen = ChatClient(stub.base_url).start()
    citizen.say("我是网页用户")
    status, _ = send(stub.base_url, citizen.conversation_id, "注入的消息")
    assert status == 200
    history = citizen.history().json()["messages"]
    assert [m["text"] for m in history if m["role"] == "user"] == ["我是网页用户"]


def test_a_turn_without_any_bot_message_gets_a_polite_busy_reply(stub):
    # the stub answers "__silent__" with nothing, like Rasa does when the action server is down
    status, body = send(stub.base_url, "rest-2", "__silent__")
    assert status == 200
    assert body == [{"recipient_id": "rest-2", "text": BUSY_REPLY}]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"hi", "text/plain", 415),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        (b'{"sender": "a", "message": "\xff\xfe"}', "application/json", 400),
    ],
)
def test_malformed_requests_get_a_clear_json_4xx(stub, body, content_type, status):
    got, reply = post(stub.base_url, body, content_type)
    assert got == status
    assert "error" in reply and "message" in reply


@pytest.mark.parametrize("sender", ["", None, 3, "a" * 65, "../../etc/passwd", "x\ud800", "a b"])
def test_a_bad_sender_is_a_400(stub, sender):
    assert send(stub.base_url, sender, "你好")[0] == 400


@pytest.mark.parametrize("message", [None, 3, ["a"], "   ", "\x00\x01", "户" * 501])
def test_missing_empty_or_too_long_messages_are_a_400(stub, message):
    status, body = send(stub.base_url, "rest-4", message)
    assert status == 400 and body["error"] in {
        "missing_message",
        "invalid_message",
        "empty_message",
        "message_too_long",
    }


def test_a_lone_surrogate_is_cleaned_not_fatal(stub):
    status, body = post(stub.base_url, b'{"sender": "rest-5", "message": "\\ud800\\u4f60\\u597d"}')
    assert status == 200 and body[0]["text"] == "收到：你好"
