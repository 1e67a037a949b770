"""Bad input the forms and the slots see, against the real bot.

- a direct ``/intent{...}`` for every intent of the domain with every slot and entity: the
  public web chat refuses each one (not a payload the bot offered) and no slot changes;
- SQL fragments, traversal strings, huge and negative numbers as the answer to every form
  question: a polite reply each time, the database intact.
"""

from __future__ import annotations

import json

import pytest
import requests
import sqlalchemy as sa
import yaml

from tests.servers import ROOT
from tests.web.helpers import ChatClient

pytestmark = pytest.mark.needs_model

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
INTENTS = [i if isinstance(i, str) else next(iter(i)) for i in DOMAIN["intents"]]
NAMES = sorted(
    set(DOMAIN["slots"]) | {e if isinstance(e, str) else next(iter(e)) for e in DOMAIN["entities"]}
)
HOSTILE_VALUES = [
    "' OR '1'='1",
    "1; DROP TABLE bookings;--",
    "SL202611050123' OR 1=1--",
    "../../../../etc/passwd",
    "-1",
    "99999999999999999999999999",
    "<script>alert(1)</script>",
    "%00",
    "户" * 400,
]


def tracker_slots(bot, conversation_id: str) -> dict:
    resp = requests.get(
        f"{bot.base_url}/conversations/{conversation_id}/tracker",
        params={"token": bot.api_token},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["slots"]


def test_every_intent_with_every_slot_is_refused_on_the_public_chat(bot):
    client = ChatClient(bot.base_url).start()
    client.say("你好")
    before = tracker_slots(bot, client.conversation_id)
    refused = 0
    for intent in INTENTS:
        for name in NAMES:
            value = {"masked": "138****5678", "hash": "0" * 64} if name == "booker_phone" else "x"
            payload = f"/{intent}" + json.dumps({name: value}, ensure_ascii=False)
            reply = client.say(payload)
            assert len(reply) == 1 and reply[0].get("notice") is True, (payload, reply)
            refused += 1
    assert refused == len(INTENTS) * len(NAMES) >= 500
    assert tracker_slots(bot, client.conversation_id) == before


FORM_STARTS = [
    ("查一下办理进度", ["case_number", "phone_last4"]),
    ("帮我查下新生儿重名", ["newborn_name"]),
    ("我要留言", ["message_text", "contact_phone"]),
    ("我要预约办身份证", ["booking_county", "booking_date", "booking_slot"]),
    ("查看我的预约", ["booking_code", "booker_phone"]),
]


def _table_counts(database_url: str) -> dict[str, int]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {n: int(conn.scalar(sa.text(f'SELECT count(*) FROM "{n}"'))) for n in names}
    finally:
        engine.dispose()


def test_hostile_answers_to_every_form_question_get_polite_replies(bot, fresh_limits):
    before = _table_counts(bot.database_url)
    for start, questions in FORM_STARTS:
        for value in HOSTILE_VALUES:
            client = ChatClient(bot.base_url).start()
            client.say(start)
            for _question in questions:
                reply = client.send(value)
                assert reply.status_code == 200, (start, value, reply.text)
                texts = [m.get("text", "") for m in reply.json()["messages"]]
                assert texts and all(texts), (start, value)
                assert not any("Traceback" in t or "Error" in t for t in texts)
    after = _table_counts(bot.database_url)
    assert set(after) == set(before)  # no table dropped
    assert after["bookings"] == before["bookings"]
    assert after["residents"] == before["residents"] and after["cases"] == before["cases"]
