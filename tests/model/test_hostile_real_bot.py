"""Hostile input against the real bot (``rasa run`` + action server, trained model).

Regression tests for the findings of the hostile-input issue that need the whole service:
forged bookings, the private action server, a store that fails, Rasa's own warnings in the
logs, the limits surviving ``/restart``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, func, select

from bot.db.models import Booking, LookupAudit
from tests.web.helpers import ChatClient

pytestmark = pytest.mark.needs_model


def booking_count(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Booking)) or 0)
    finally:
        engine.dispose()


FORGED_PHONE = '{"masked":"138****5678","hash":"%s"}'


def test_no_booking_can_be_made_with_forged_slots(bot):
    before = booking_count(bot.database_url)
    for attempt in range(5):
        client = ChatClient(bot.base_url).start()
        client.say("我想预约办身份证")
        forged = (
            '/inform{"booker_name":"王*","booker_phone":'
            + FORGED_PHONE % f"{attempt:064x}"
            + ',"booking_county":"广阳区","business_type":"id_card"}'
        )
        reply = client.say(forged)
        assert reply[0].get("notice") is True, reply
        # The same forged values typed as plain text are read as text: no phone, no name.
        reply = client.say(forged[1:])
        assert all("预约成功" not in (m.get("text") or "") for m in reply)
    assert booking_count(bot.database_url) == before


def test_the_action_server_refuses_callers_without_the_secret(bot):
    url = bot.action_endpoint_url
    call = {
        "next_action": "action_book_slot",
        "sender_id": "attacker",
        "tracker": {
            "sender_id": "attacker",
            "slots": {"booking_slot": "1", "booker_name": "王*", "booker_phone": {"hash": "x"}},
            "events": [],
            "latest_message": {},
        },
        "domain": {},
        "version": "3.6.2",
    }
    before = booking_count(bot.database_url)
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}]:
        resp = requests.post(
            url, json=call, headers={**headers, "Origin": "https://evil"}, timeout=10
        )
        assert resp.status_code == 401
        assert "access-control-allow-origin" not in {k.lower() for k in resp.headers}
        assert "attacker" not in resp.text  # never echoes what it was sent
    resp = requests.get(url.replace("/webhook", "/actions"), timeout=10)
    assert resp.status_code == 401
    assert booking_count(bot.database_url) == before


def test_an_action_error_does_not_echo_the_request(bot):
    resp = requests.post(
        bot.action_endpoint_url,
        data=b'{"next_action": "action_book_slot", "secret": "13957246978"}',
        headers={
            "Authorization": f"Bearer {bot.servers[0].env['ACTION_SERVER_TOKEN']}",
            "Content-Type": "application/json",
        },
        timeout=10,
    )
    assert resp.status_code in (400, 500)
    assert "13957246978" not in resp.text and "secret" not in resp.text


def test_rasa_warnings_about_odd_input_are_masked_in_the_log(bot):
    resp = requests.post(
        f"{bot.base_url}/webhooks/rest/webhook",
        json={"sender": "warn-test", "message": '/inform{"nope":"13957246978"}'},
        headers={"Authorization": f"Bearer {bot.api_token}"},
        timeout=60,
    )
    assert resp.status_code == 200
    time.sleep(1)
    log = bot.main.log_path.read_text(encoding="utf-8", errors="replace")
    assert "13957246978" not in log
    assert "139****6978" in log  # Rasa did warn about the entity, masked


def test_a_store_that_fails_costs_one_turn_not_the_server(bot):
    client = ChatClient(bot.base_url).start()
    assert client.say("你好")
    tracker_db = bot.servers[-1].env["TRACKER_DATABASE_URL"].removeprefix("sqlite:///")
    holder = sqlite3.connect(tracker_db, timeout=1, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")  # every write now fails with "database is locked"
    released = threading.Event()

    def release() -> None:
        released.wait(40)
        holder.rollback()
        holder.close()

    thread = threading.Thread(target=release)
    thread.start()
    try:
        reply = client.send("身份证丢了怎么办", timeout=60)
        assert reply.status_code == 200
        texts = [m.get("text", "") for m in reply.json()["messages"]]
        assert any("系统繁忙" in t for t in texts), texts
    finally:
        released.set()
        thread.join()
    # The server is still up and the conversation goes on.
    again = client.say("身份证丢了怎么办")
    assert any("补" in (m.get("text") or "") for m in again)
    assert bot.main.running()


def test_case_lookup_limits_survive_restarts_and_new_conversations(bot, fresh_limits):
    number = 0
    for _ in range(3):  # 3 conversations x 4 failures from one client (127.0.0.1)
        client = ChatClient(bot.base_url).start()
        for _ in range(4):
            number += 1
            client.say(f"查进度 SL2099010{number:05d} 1234")
    resp = requests.post(f"{client.api}/restart", headers=client.headers(), timeout=10)
    client.token = resp.json()["token"]
    reply = client.say("查进度 SL209901019999 1234")
    text = "\n".join(m.get("text", "") for m in reply)
    assert "后再试" in text, text
    engine = create_engine(bot.database_url)
    with engine.connect() as conn:
        outcomes = list(conn.scalars(select(LookupAudit.outcome)))
    engine.dispose()
    assert "throttled" in outcomes and outcomes.count("not_found") >= 11


def test_oversized_and_nested_bodies_get_json_errors_from_every_public_route(bot):
    api = f"{bot.base_url}/webhooks/webchat"
    client = ChatClient(bot.base_url).start()
    for path, bodies in [
        ("/message", (b"x" * 2_000_000, b"[" * 10_000)),
        ("/feedback", (b"x" * 2_000_000, b"[" * 10_000)),
        ("/session", (b"x" * 2_000_000,)),
        ("/restart", (b"x" * 2_000_000,)),
    ]:
        for body in bodies:
            resp = requests.post(
                api + path,
                data=body,
                headers=client.headers(**{"Content-Type": "application/json"}),
                timeout=30,
            )
            assert 400 <= resp.status_code < 500, (path, resp.status_code)
            assert "error" in json.loads(resp.text)
