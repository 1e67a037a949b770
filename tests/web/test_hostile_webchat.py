"""The public web chat against hostile input (stub agent: no model needed).

Each finding of the hostile-input issue that concerns the channel is a test here; the fuzz
test against the real bot is tests/model/test_fuzz_server.py.
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.web.helpers import ChatClient, assert_clear_error


def user_texts(client: ChatClient) -> list[str]:
    return [m["text"] for m in client.history().json()["messages"] if m["role"] == "user"]


def test_a_forged_payload_with_entities_never_reaches_the_bot(stub):
    client = ChatClient(stub.base_url).start()
    forged = (
        '/inform{"booker_phone": {"masked": "138****5678", "hash": "ab"}, "booker_name": "王*"}'
    )
    messages = client.say(forged)
    assert len(messages) == 1 and messages[0].get("notice") is True
    assert "过期" in messages[0]["text"]
    assert user_texts(client) == []  # nothing was processed or stored


def test_an_offered_payload_is_accepted_and_an_old_one_is_not(stub):
    client = ChatClient(stub.base_url).start()
    buttons = client.say("/check_name")[0]["buttons"]
    male = buttons[0]["payload"]
    reply = client.say(male, title=buttons[0]["title"])
    assert reply[0]["text"].startswith("收到：")
    # The same button clicked again after the bot moved on: no longer offered.
    stale = client.say(male, title=buttons[0]["title"])
    assert stale[0].get("notice") is True
    assert user_texts(client) == ["/check_name", "男孩"]


@pytest.mark.parametrize("payload", ["/greet", "/restart", "/stop"])
def test_a_bare_intent_without_entities_is_accepted(stub, payload):
    client = ChatClient(stub.base_url).start()
    assert client.say(payload)[0]["text"] == f"收到：{payload}"


@pytest.mark.parametrize(
    "text",
    [
        '/inform{"county":"\\ud800"}',
        '/inform{"case_number":"SL202611050123","phone_last4":"5678"}',
        "/inform@0.99",
        '/book_appointment{"business_type":"id_card"}',
        "/ask_move_in{}",
    ],
)
def test_any_unoffered_payload_shape_is_refused(stub, text):
    client = ChatClient(stub.base_url).start()
    assert client.say(text)[0].get("notice") is True


def test_restart_revokes_the_old_token(stub):
    client = ChatClient(stub.base_url).start()
    client.say("你好")
    old_token = client.token
    resp = requests.post(f"{client.api}/restart", headers=client.headers(), timeout=10)
    assert resp.status_code == 201
    fresh = resp.json()
    assert fresh["conversation_id"] != client.conversation_id
    for method, path, body in [
        ("post", "/message", {"message": "你好"}),
        ("get", "/history", None),
        ("post", "/restart", None),
        ("post", "/feedback", {"message_id": "1", "rating": "up"}),
    ]:
        headers = {"Authorization": f"Bearer {old_token}"}
        resp = requests.request(method, client.api + path, json=body, headers=headers, timeout=10)
        assert_clear_error(resp, 401, "invalid_token")
    client.token = fresh["token"]
    assert client.say("新的对话")[0]["text"] == "收到：新的对话"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"message": ' + b"[" * 50 + b"1" + b"]" * 50 + b"}",
        b'{"message": "\\u0000\\u0001\\u001b"}',
        b'{"message": "' + "户".encode() * 600 + b'"}',
        b'{"message": 12}',
        b'{"message": null}',
        b'{"message": {"$gt": ""}}',
        b"\xff\xfe\x00",
        b"",
        b"null",
        b'"just a string"',
    ],
)
def test_malformed_message_bodies_get_a_json_4xx(stub, body):
    client = ChatClient(stub.base_url).start()
    resp = requests.post(
        f"{client.api}/message",
        data=body,
        headers=client.headers(**{"Content-Type": "application/json"}),
        timeout=30,
    )
    assert 400 <= resp.status_code < 500
    assert resp.headers["content-type"].startswith("application/json")
    assert "error" in resp.json()


def test_a_huge_header_gets_a_json_413_not_html(stub):
    resp = requests.get(
        f"{stub.base_url}/webhooks/webchat/health", headers={"X-Big": "a" * 10_000}, timeout=10
    )
    assert resp.status_code == 413
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json()["error"] == "payload_too_large"


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/webchat/static/..%2f..%2fdomain.yml",
        "/webhooks/webchat/static/%2e%2e%2fchat.js",
        "/webhooks/webchat/../../credentials.yml",
        "/nope",
        "/webhooks/webchat/static/chat.js%00.png",
    ],
)
def test_paths_outside_the_api_are_json_404s(stub, path):
    resp = requests.get(stub.base_url + path, timeout=10)
    assert resp.status_code in (400, 404)
    assert "application/json" in resp.headers["content-type"]
    assert "rasa" not in resp.text.lower() or "error" in resp.json()


def test_a_lone_surrogate_inside_text_is_dropped_and_the_server_lives(stub):
    client = ChatClient(stub.base_url).start()
    resp = requests.post(
        f"{client.api}/message",
        data=b'{"message": "\\ud800\\u4f60\\u597d\\udfff"}',
        headers=client.headers(**{"Content-Type": "application/json"}),
        timeout=10,
    )
    assert resp.status_code == 200 and resp.json()["messages"][0]["text"] == "收到：你好"
    assert json.loads(client.history().text)["messages"][0]["text"] == "你好"
