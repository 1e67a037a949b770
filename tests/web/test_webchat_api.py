"""HTTP tests of the web-chat API (``/webhooks/webchat/*``) against real running servers.

The first group runs against the stub server (the channel in a real Rasa/Sanic app, scripted
agent; no model needed). The ``needs_model`` group runs the same contract against the real
``rasa run`` + action server.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from bot.channels.webchat.tokens import issue_token, new_conversation_id
from tests.web.conftest import ChatServer
from tests.web.helpers import CJK, ChatClient, assert_clear_error, stored_feedback, texts

FALLBACK = "系统繁忙"


# --------------------------------------------------------------------------------------------
# sessions, page, static files


def test_sessions_are_random_and_signed(stub: ChatServer) -> None:
    first, second = ChatClient(stub.base_url).start(), ChatClient(stub.base_url).start()
    assert first.conversation_id != second.conversation_id
    assert len(first.conversation_id or "") >= 20
    assert first.conversation_id in (first.token or "")
    assert first.token != second.token


def test_page_and_assets_are_served(stub: ChatServer) -> None:
    resp = requests.get(stub.chat_url, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert 'src="static/chat.js"' in resp.text and "智能客服" in resp.text
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    for name, kind in (("chat.js", "javascript"), ("chat.css", "text/css")):
        asset = requests.get(f"{stub.chat_url}static/{name}", timeout=10)
        assert asset.status_code == 200 and kind in asset.headers["content-type"]
    # Without the trailing slash the relative asset URLs would break: redirect.
    bare = requests.get(stub.chat_url.rstrip("/"), timeout=10, allow_redirects=False)
    assert bare.status_code == 301 and bare.headers["location"].endswith("/webhooks/webchat/")


@pytest.mark.parametrize(
    "name", ["missing.js", "..%2F..%2Fchannels%2Fwebchat.py", "index.html", "chat.js.bak"]
)
def test_static_files_outside_the_asset_folder_are_not_served(stub: ChatServer, name: str) -> None:
    resp = requests.get(f"{stub.chat_url}static/{name}", timeout=10)
    assert resp.status_code == 404
    assert "WebChatInput" not in resp.text


# --------------------------------------------------------------------------------------------
# messages


def test_message_gets_the_bot_answer_with_ids(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    resp = chat.send("身份证丢了怎么办")
    assert resp.status_code == 200
    body = resp.json()
    assert body["conversation_id"] == chat.conversation_id
    messages = body["messages"]
    assert len(messages) == 2
    assert "\n" in messages[0]["text"], "line breaks inside one answer are kept"
    assert "https://example.gov.cn/id-card" in messages[1]["text"]
    assert all(m["id"] for m in messages) and messages[0]["id"] != messages[1]["id"]
    assert [m["rateable"] for m in messages] == [True, True], "answers can be rated"


def test_a_place_comes_as_a_location_card_and_only_the_answer_end_is_rateable(
    stub: ChatServer,
) -> None:
    chat = ChatClient(stub.base_url).start()
    heading, card, closing = chat.say("固安县户籍窗口在哪")
    assert heading["text"] == "固安县的户籍窗口：" and heading["rateable"] is False
    assert "text" not in card, "the card replaces the text (which is for text-only clients)"
    assert card["custom"] == {
        "type": "location",
        "name": "固安县户政服务大厅（示例）",
        "address": "固安县新源街99号",
        "phone": "0316-0000000",
        "hours": "周一至周五 9:00-17:00",
        "lat": 39.438,
        "lng": 116.299,
        "map_url": "https://uri.amap.com/marker?position=116.299000,39.438000&name=x",
    }
    assert card["rateable"] is False
    assert closing["rateable"] is True and closing["buttons"][0]["title"] == "预约办理"
    history = [h for h in chat.history().json()["messages"] if h["role"] == "bot"]
    assert [h["rateable"] for h in history] == [False, False, True]
    assert history[1]["custom"] == card["custom"]
    # The 👎 under the closing line stores the whole answer for the officers.
    assert chat.rate(closing["id"], "down").status_code == 200
    (row,) = [
        r for r in stored_feedback(stub.database_url) if r.conversation_id == chat.conversation_id
    ]
    assert row.bot_text.splitlines()[0] == "固安县的户籍窗口："
    assert "新源街99号" in row.bot_text and row.bot_text.endswith("到窗口免排队。")
    assert_clear_error(chat.rate(card["id"], "down"), 400, "not_rateable")


def test_buttons_are_returned_and_button_titles_shown_in_history(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    (question,) = chat.say("/check_name", title="新生儿重名")
    assert question["buttons"] == [
        {"title": "男孩", "payload": '/inform{"gender":"male"}'},
        {"title": "女孩", "payload": '/inform{"gender":"female"}'},
    ]
    assert question["rateable"] is False, "a form's question is a prompt, not an answer"
    history = chat.history().json()["messages"]
    assert [h["role"] for h in history] == ["user", "bot"]
    assert history[0]["text"] == "新生儿重名", "the clicked title is shown, not the payload"
    assert history[1]["buttons"] == question["buttons"]
    assert history[1]["id"] == question["id"] and history[1]["rateable"] is False
    assert_clear_error(chat.rate(question["id"], "down"), 400, "not_rateable")


@pytest.mark.parametrize(
    ("headers", "data", "status", "code"),
    [
        ({"Content-Type": "application/json"}, b'{"message": "hi"', 400, "invalid_json"),
        ({"Content-Type": "application/json"}, b"\xff\xfe\x00", 400, "invalid_json"),
        ({"Content-Type": "application/json"}, b'["hi"]', 400, "invalid_json"),
        ({"Content-Type": "application/json"}, b"", 400, "invalid_json"),
        ({"Content-Type": "text/plain"}, b'{"message": "hi"}', 415, "unsupported_media_type"),
        ({}, b'{"message": "hi"}', 415, "unsupported_media_type"),
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"message=hi",
            415,
            "unsupported_media_type",
        ),
        ({"Content-Type": "application/json"}, b"{}", 400, "missing_message"),
        ({"Content-Type": "application/json"}, b'{"message": null}', 400, "missing_message"),
        ({"Content-Type": "application/json"}, b'{"message": ""}', 400, "empty_message"),
        ({"Content-Type": "application/json"}, b'{"message": "  \\n\\t "}', 400, "empty_message"),
        ({"Content-Type": "application/json"}, b'{"message": 42}', 400, "invalid_message"),
        ({"Content-Type": "application/json"}, b'{"message": ["a"]}', 400, "invalid_message"),
    ],
)
def test_bad_message_requests_get_clear_4xx(
    stub: ChatServer, headers: dict[str, str], data: bytes, status: int, code: str
) -> None:
    chat = ChatClient(stub.base_url).start()
    resp = requests.post(
        f"{chat.api}/message", data=data, headers=chat.headers(**headers), timeout=10
    )
    assert_clear_error(resp, status, code)


def test_message_length_limit(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    assert_clear_error(chat.send("查" * 5000), 400, "message_too_long")
    assert "500" in chat.send("查" * 501).json()["message"]
    ok = chat.send("查" * 500)
    assert ok.status_code == 200 and ok.json()["messages"][0]["text"].startswith("收到：")
    oversized = requests.post(
        f"{chat.api}/message",
        data=b'{"message": "' + b"a" * 100_000 + b'"}',
        headers=chat.headers(**{"Content-Type": "application/json"}),
        timeout=10,
    )
    assert_clear_error(oversized, 413, "payload_too_large")


@pytest.mark.parametrize("endpoint", ["message", "history", "feedback", "restart"])
def test_missing_or_forged_tokens_are_refused(stub: ChatServer, endpoint: str) -> None:
    chat = ChatClient(stub.base_url).start()
    assert chat.token
    good_id = chat.conversation_id or ""
    forged = [
        None,
        "",
        "garbage",
        chat.token[:-2] + ("AA" if not chat.token.endswith("AA") else "BB"),  # bad signature
        issue_token(b"some-other-secret", good_id),  # signed with another key
        issue_token(stub.secret.encode(), good_id, issued_at=int(time.time()) - 31 * 86400),
        chat.token.replace("v1.", "v2.", 1),
    ]
    for token in forged:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        method = requests.get if endpoint == "history" else requests.post
        kwargs = {} if endpoint == "history" else {"data": b'{"message": "hi"}'}
        resp = method(f"{chat.api}/{endpoint}", headers=headers, timeout=10, **kwargs)
        assert_clear_error(resp, 401, "invalid_token")


def test_unknown_but_valid_conversation_is_empty_not_an_error(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url)
    chat.conversation_id = new_conversation_id()
    chat.token = issue_token(stub.secret.encode(), chat.conversation_id)
    resp = chat.history()
    assert resp.status_code == 200 and resp.json()["messages"] == []
    assert_clear_error(chat.rate("1234567890", "down"), 404, "unknown_message")
    assert chat.say("你好")[0]["text"] == "收到：你好"


def test_one_client_cannot_read_or_rate_another_conversation(stub: ChatServer) -> None:
    alice, mallory = ChatClient(stub.base_url).start(), ChatClient(stub.base_url).start()
    secret_answer = alice.say("身份证丢了，我的电话13812345678")[0]
    mallory.say("你好")
    seen_by_mallory = mallory.history().json()["messages"]
    assert all("身份证" not in (m.get("text") or "") for m in seen_by_mallory)
    assert_clear_error(mallory.rate(secret_answer["id"], "down"), 404, "unknown_message")
    # A client cannot choose its conversation: the id comes from the signed token only.
    resp = requests.post(
        f"{mallory.api}/message",
        json={"message": "hi", "sender": alice.conversation_id},
        headers=mallory.headers(),
        timeout=10,
    )
    assert resp.json()["conversation_id"] == mallory.conversation_id
    assert len(alice.history().json()["messages"]) == 3


def test_history_masks_personal_numbers(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    chat.say("我的电话是13812345678，身份证号11010519491231002X")
    history = chat.history().json()["messages"]
    joined = "\n".join(m.get("text", "") for m in history)
    assert "13812345678" not in joined and "11010519491231002X" not in joined
    assert "138****5678" in joined and "1101**********002X" in joined


# --------------------------------------------------------------------------------------------
# no reply, slow reply, failures: a polite answer, never silence, never a 500


@pytest.mark.parametrize("trigger", ["__silent__", "__boom__"])
def test_no_bot_reply_gives_a_polite_fallback(stub: ChatServer, trigger: str) -> None:
    chat = ChatClient(stub.base_url).start()
    (reply,) = chat.say(trigger)
    assert FALLBACK in reply["text"] and reply["fallback"] is True and reply["id"] is None


def test_slow_reply_gives_the_fallback_then_arrives_in_history(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    started = time.monotonic()
    (reply,) = chat.say("__slow__")
    assert time.monotonic() - started < 2.8, "the reply timeout (1 s in the stub) applies"
    assert FALLBACK in reply["text"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        bot_texts = [m.get("text") for m in chat.history().json()["messages"] if m["role"] == "bot"]
        if "慢回复" in bot_texts:
            break
        time.sleep(0.3)
    else:
        pytest.fail("the late reply never reached the conversation history")


# --------------------------------------------------------------------------------------------
# feedback


def test_feedback_is_stored_masked_and_shown_in_history(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    answer = chat.say("身份证丢了怎么补，电话13812345678")[0]
    resp = chat.rate(answer["id"], "down")
    assert resp.status_code == 200 and resp.json() == {
        "ok": True,
        "message_id": answer["id"],
        "rating": "down",
        "reason": None,
    }
    rows = [
        r for r in stored_feedback(stub.database_url) if r.conversation_id == chat.conversation_id
    ]
    assert len(rows) == 1
    row = rows[0]
    assert row.rating == "down" and row.bot_message_id == answer["id"]
    assert row.bot_text == answer["text"]
    assert row.user_text == "身份证丢了怎么补，电话138****5678"
    assert chat.history().json()["messages"][1]["rating"] == "down"
    # Changing one's mind replaces the rating; it never adds a second row.
    assert chat.rate(answer["id"], "up").status_code == 200
    rows = [
        r for r in stored_feedback(stub.database_url) if r.conversation_id == chat.conversation_id
    ]
    assert [r.rating for r in rows] == ["up"]


def test_feedback_on_a_button_answer_records_the_clicked_title(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    (answer,) = chat.say("/ask_move_in", title="户口迁入")
    assert chat.rate(answer["id"], "down").status_code == 200
    (row,) = [
        r for r in stored_feedback(stub.database_url) if r.conversation_id == chat.conversation_id
    ]
    assert row.user_text == "户口迁入 [/ask_move_in]"


def test_config_gives_the_sample_notice_and_the_thumbs_down_reasons(stub: ChatServer) -> None:
    resp = requests.get(f"{stub.chat_url}config", timeout=10)
    assert resp.status_code == 200
    body = resp.json()
    assert body["sample_notice"].startswith("示例数据")
    feedback = body["feedback"]
    assert CJK.search(feedback["question"]) and feedback["max_comment_chars"] == 200
    assert [r["code"] for r in feedback["reasons"]] == [
        "off_topic",
        "wrong_info",
        "unclear",
        "not_solved",
        "other",
    ]
    assert all(CJK.search(r["title"]) for r in feedback["reasons"])
    assert body["max_message_chars"] == 500


def test_thumbs_down_stores_the_reason_and_comment_masked(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    (answer, _) = chat.say("身份证丢了怎么补")
    assert chat.rate(answer["id"], "down").status_code == 200  # the 👎 itself, at once
    resp = requests.post(
        f"{chat.api}/feedback",
        json={
            "message_id": answer["id"],
            "rating": "down",
            "reason": "wrong_info",
            "comment": "工本费不对\x00，请回电13812345678",
        },
        headers=chat.headers(),
        timeout=10,
    )
    assert resp.status_code == 200 and resp.json()["reason"] == "wrong_info"
    (row,) = [
        r for r in stored_feedback(stub.database_url) if r.conversation_id == chat.conversation_id
    ]
    assert (row.rating, row.reason) == ("down", "wrong_info")
    assert row.comment == "工本费不对，请回电138****5678"
    # A 👍 afterwards replaces the 👎 and forgets its reason.
    assert chat.rate(answer["id"], "up").status_code == 200
    (row,) = [
        r for r in stored_feedback(stub.database_url) if r.conversation_id == chat.conversation_id
    ]
    assert (row.rating, row.reason, row.comment) == ("up", None, None)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"message_id": "x", "rating": "meh"}, 400, "invalid_rating"),
        ({"rating": "down"}, 400, "invalid_message_id"),
        ({"message_id": "x" * 200, "rating": "down"}, 400, "invalid_message_id"),
        ({"message_id": "999", "rating": "down"}, 404, "unknown_message"),
        ({"message_id": "x", "rating": "down", "reason": "rude"}, 400, "invalid_reason"),
        ({"message_id": "x", "rating": "down", "reason": 5}, 400, "invalid_reason"),
        ({"message_id": "x", "rating": "down", "comment": ["a"]}, 400, "invalid_comment"),
        ({"message_id": "x", "rating": "down", "comment": "长" * 201}, 400, "comment_too_long"),
    ],
)
def test_bad_feedback_gets_clear_4xx(
    stub: ChatServer, body: dict[str, Any], status: int, code: str
) -> None:
    chat = ChatClient(stub.base_url).start()
    chat.say("你好")
    resp = requests.post(f"{chat.api}/feedback", json=body, headers=chat.headers(), timeout=10)
    assert_clear_error(resp, status, code)


def test_fallback_messages_cannot_be_rated(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    (reply,) = chat.say("__silent__")
    assert reply["id"] is None
    assert_clear_error(chat.rate("None", "down"), 404, "unknown_message")


# --------------------------------------------------------------------------------------------
# restart, health, the Rasa HTTP API


def test_restart_gives_a_fresh_empty_conversation(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    chat.say("你好")
    resp = requests.post(f"{chat.api}/restart", headers=chat.headers(), timeout=10)
    assert resp.status_code == 201
    fresh = resp.json()
    assert fresh["conversation_id"] != chat.conversation_id
    chat.token, chat.conversation_id = fresh["token"], fresh["conversation_id"]
    assert chat.history().json()["messages"] == []


def test_health_reports_ready(stub: ChatServer) -> None:
    resp = requests.get(f"{stub.chat_url}health", timeout=10)
    assert resp.json() == {"status": "ok", "ready": True}


def test_rasa_http_api_needs_the_token(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    chat.say("你好")
    tracker_url = f"{stub.base_url}/conversations/{chat.conversation_id}/tracker"
    assert requests.get(tracker_url, timeout=10).status_code == 401
    assert requests.get(f"{stub.base_url}/status", timeout=10).status_code == 401
    assert requests.get(tracker_url, params={"token": "wrong"}, timeout=10).status_code == 401
    # With the token the request gets past the auth check (the stub agent cannot serve it).
    with_token = requests.get(tracker_url, params={"token": stub.api_token}, timeout=10)
    assert with_token.status_code != 401


def test_nothing_ever_answers_500(stub: ChatServer) -> None:
    chat = ChatClient(stub.base_url).start()
    api = chat.api
    json_ct = {"Content-Type": "application/json"}
    attempts = [
        ("POST", "message", b'{"message": "\\u0000\\u0007"}', json_ct),
        ("POST", "message", b'{"message": "\\ud800"}', json_ct),
        ("POST", "message", b'{"message": "hi", "title": 5}', json_ct),
        ("POST", "message", b'{"message": "hi", "title": "' + b"t" * 500 + b'"}', json_ct),
        ("POST", "message", b'{"message": "\xe4\xbd\xa0\xe5\xa5\xbd\xf0\x9f\x98\x80"}', json_ct),
        ("POST", "feedback", b"not json", json_ct),
        ("POST", "feedback", b'{"message_id": 5, "rating": "up"}', json_ct),
        ("POST", "feedback", b'{"message_id": "1", "rating": "up"}', {"Content-Type": "text/x"}),
        ("POST", "session", b"garbage", {"Content-Type": "text/plain"}),
        ("GET", "message", None, {}),
        ("PUT", "history", b"{}", json_ct),
        ("GET", "static/", None, {}),
        ("GET", "static/%00.js", None, {}),
        ("GET", "nonexistent", None, {}),
        ("DELETE", "session", None, {}),
    ]
    for method, path, data, headers in attempts:
        resp = requests.request(
            method, f"{api}/{path}", data=data, headers=chat.headers(**headers), timeout=10
        )
        assert resp.status_code < 500, (method, path, data, resp.status_code, resp.text[:200])
        if (
            resp.status_code >= 400
            and resp.headers.get("content-type", "").startswith("application/json")
            and "error" in resp.json()
            and "message" in resp.json()
        ):
            assert CJK.search(resp.json()["message"])


# --------------------------------------------------------------------------------------------
# the same contract against the real bot


@pytest.mark.needs_model
def test_real_bot_answers_a_chinese_policy_question(bot: ChatServer) -> None:
    chat = ChatClient(bot.base_url).start()
    answer = texts(chat.say("身份证丢了怎么补办？"))
    assert "40" in answer and ("补领" in answer or "补办" in answer), answer


@pytest.mark.needs_model
def test_real_bot_bad_requests_get_clear_4xx(bot: ChatServer) -> None:
    chat = ChatClient(bot.base_url).start()
    assert_clear_error(chat.send("查" * 5000), 400, "message_too_long")
    assert_clear_error(chat.send(""), 400, "empty_message")
    resp = requests.post(
        f"{chat.api}/message",
        data=b'{"message": ',
        headers=chat.headers(**{"Content-Type": "application/json"}),
        timeout=10,
    )
    assert_clear_error(resp, 400, "invalid_json")
    resp = requests.post(
        f"{chat.api}/message", data="你好".encode(), headers=chat.headers(), timeout=10
    )
    assert_clear_error(resp, 415, "unsupported_media_type")
    stranger = ChatClient(bot.base_url)
    stranger.token = "v1.AAAAAAAAAAAAAAAAAAAAAAAA.1.forged"
    assert_clear_error(stranger.history(), 401, "invalid_token")


@pytest.mark.needs_model
def test_real_bot_unknown_conversation_gets_a_polite_reply(bot: ChatServer) -> None:
    chat = ChatClient(bot.base_url)
    chat.conversation_id = new_conversation_id()
    chat.token = issue_token(bot.secret.encode(), chat.conversation_id)
    assert chat.history().json()["messages"] == []
    reply = chat.say("你好")
    assert reply and CJK.search(texts(reply))


@pytest.mark.needs_model
def test_real_bot_tracker_api_is_not_public(bot: ChatServer) -> None:
    chat = ChatClient(bot.base_url).start()
    chat.say("你好")
    tracker_url = f"{bot.base_url}/conversations/{chat.conversation_id}/tracker"
    assert requests.get(tracker_url, timeout=10).status_code in (401, 403)
    assert requests.get(f"{bot.base_url}/status", timeout=10).status_code in (401, 403)
    assert requests.get(tracker_url, params={"token": bot.api_token}, timeout=30).ok


@pytest.mark.needs_model
def test_real_bot_feedback_is_stored(bot: ChatServer) -> None:
    chat = ChatClient(bot.base_url).start()
    answers = chat.say("身份证丢了怎么补办？")
    rated = next(m for m in answers if m.get("id"))
    assert chat.rate(rated["id"], "down").status_code == 200
    rows = stored_feedback(bot.database_url, rating="down")
    assert any(r.conversation_id == chat.conversation_id for r in rows)


@pytest.mark.needs_model
def test_real_bot_action_server_down_gives_polite_fallback(bot: ChatServer) -> None:
    actions = bot.servers[0]
    chat = ChatClient(bot.base_url).start()
    actions.stop()
    try:
        reply = chat.say("/check_name", title="新生儿重名")
        assert len(reply) == 1 and reply[0]["fallback"] is True
        assert FALLBACK in reply[0]["text"]
        assert "40" in texts(chat.say("身份证丢了怎么补办？")), "utterances still work"
    finally:
        actions.start()
