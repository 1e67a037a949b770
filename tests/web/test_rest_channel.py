"""The REST channel (`bot.channels.rest.SafeRestInput`): limits and never silent."""

import json
import urllib.error
import urllib.request

import pytest

from bot.channels.rest import BUSY_REPLY, EMPTY_REPLY


def post(base: str, body: bytes, content_type: str = "application/json"):
    req = urllib.request.Request(
        f"{base}/webhooks/rest/webhook", data=body, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def send(base: str, sender, message):
    return post(base, json.dumps({"sender": sender, "message": message}).encode())


def test_a_normal_message_gets_the_bot_reply(stub):
    status, body = send(stub.base_url, "rest-1", "你好")
    assert status == 200
    assert body[0]["text"] == "收到：你好"


def test_a_turn_without_any_bot_message_gets_a_polite_busy_reply(stub):
    # the stub answers "__silent__" with nothing, like Rasa does when the action server is down
    status, body = send(stub.base_url, "rest-2", "__silent__")
    assert status == 200
    assert body == [{"recipient_id": "rest-2", "text": BUSY_REPLY}]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{not json", "application/json"), (b"[1, 2]", "application/json"), (b"hi", "text/plain")],
)
def test_malformed_requests_get_a_clear_400(stub, body, content_type):
    status, reply = post(stub.base_url, body, content_type)
    assert status == 400
    assert "error" in reply


def test_missing_sender_or_message_is_a_400(stub):
    assert send(stub.base_url, "", "你好")[0] == 400
    assert send(stub.base_url, "rest-3", None)[0] == 400


def test_empty_and_very_long_messages_get_polite_replies(stub):
    assert send(stub.base_url, "rest-4", "   ") == (
        200,
        [{"recipient_id": "rest-4", "text": EMPTY_REPLY}],
    )
    status, body = send(stub.base_url, "rest-4", "户" * 5000)
    assert status == 200
    assert "太长" in body[0]["text"]
