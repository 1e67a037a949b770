"""No phone or ID number, however written, reaches a store, a page or a log of the real bot whole.

hypothesis writes numbers in every way the number module reads (any Unicode spaces, dots,
dashes, tabs, invisible characters, full-width and other-script digits, Chinese numerals) and
sends them through the public web chat in three flows: a plain question, a message left for
an officer (question + call-back number) and 👎 feedback on the reply. Then every place that
keeps or shows conversation data is read back and scanned with the same number module:
the conversation store, the business database (messages, feedback, audit), ``/history``,
and the logs of the Rasa server and the action server.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.numbers import find_numbers
from tests.test_numbers import ids18, phones, written
from tests.web.helpers import ChatClient

pytestmark = pytest.mark.needs_model

FORMS = 40
SENT: list[str] = []  # canonical values of every number sent
HISTORIES: list[str] = []


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    return []


def whole_numbers(texts: list[str]) -> set[str]:
    found = {m.value for text in texts for m in find_numbers(text)}
    return found & {value.upper() for value in SENT}


@settings(
    max_examples=FORMS,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data(), phone=phones, id_number=ids18)
def test_send_numbers_in_every_form(rasa_bot, fresh_limits_module, data, phone, id_number):
    client = ChatClient(rasa_bot.base_url).start()
    phone_text = data.draw(written(phone))
    id_text = data.draw(written(id_number))
    SENT.extend([phone, id_number.upper()])
    reply = client.say(f"我的身份证{id_text}丢了，电话{phone_text}，怎么补办")
    message_id = next((m["id"] for m in reply if m.get("id")), None)
    if message_id:
        client.rate(message_id, "down")
    client.say("我要留言")
    client.say(f"身份证号{id_text}的户口迁移问题想咨询民警")
    client.say(phone_text)
    HISTORIES.append(client.history().text)


def test_no_store_page_or_log_keeps_a_whole_number(rasa_bot):
    assert len(SENT) == 2 * FORMS, "the sending test ran first"
    report: dict[str, set[str]] = {}
    tracker_url = rasa_bot.main.env["TRACKER_DATABASE_URL"]
    engine = sa.create_engine(tracker_url)
    with engine.connect() as conn:
        events = [json.loads(row[0]) for row in conn.execute(sa.text("SELECT data FROM events"))]
    engine.dispose()
    report["conversation store"] = whole_numbers(strings(events))
    engine = sa.create_engine(rasa_bot.database_url)
    with engine.connect() as conn:
        for table in ("callback_requests", "feedback", "lookup_audit", "bookings"):
            rows = conn.execute(sa.text(f"SELECT * FROM {table}")).all()
            report[f"table {table}"] = whole_numbers([str(v) for row in rows for v in row])
        stored_messages = conn.scalar(sa.text("SELECT count(*) FROM callback_requests"))
    engine.dispose()
    report["/history"] = whole_numbers(strings([json.loads(h) for h in HISTORIES]))
    for server in rasa_bot.servers:
        log = server.log_path.read_text(encoding="utf-8", errors="replace")
        report[f"log {server.name}"] = whole_numbers(log.splitlines())
    print(f"\n{len(SENT)} numbers x {len(report)} stores/pages/logs: {report}")
    assert stored_messages, "the message flow stored messages (the test reached the store)"
    assert all(not found for found in report.values()), report
