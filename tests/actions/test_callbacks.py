"""Leaving a message for an officer: validation, storage (masked/encrypted), call-back time."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions import callbacks as callback_actions
from actions.callbacks import (
    ActionClearMessageSlots,
    ActionSaveMessage,
    ValidateLeaveMessageForm,
    describe_due,
    kept_phone,
)
from bot.db.crypto import decrypt_phone, hash_phone
from bot.db.models import CallbackRequest
from bot.db.session import session_scope
from tests.actions.conftest import make_tracker, run, slot_events, texts

PHONE = "13812345678"


async def _validate(tracker: Any, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await ValidateLeaveMessageForm().run(dispatcher, tracker, domain)
    return slot_events(events), texts(dispatcher)


def _save(text: str, phone: str, sender: str = "conv-msg") -> tuple[list[str], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "message_form_submitted",
        slots={"message_text": text, "contact_phone": phone},
        sender_id=sender,
    )
    events = run(ActionSaveMessage().run(dispatcher, tracker, {}))
    return texts(dispatcher), slot_events(events)


# ------------------------------------------------------------------ validation


def test_a_question_is_kept(domain: dict[str, Any]) -> None:
    text = "孩子的户口迁移一直没办好，想问问原因"
    tracker = make_tracker("message_form_requested", text=text, candidates={"message_text": text})
    slots, said = run(_validate(tracker, domain))
    assert slots["message_text"] == text and said == []


def test_activation_phrase_alone_lets_the_form_ask(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        "message_form_requested",
        text="我要留言",
        intent="leave_message",
        slots={"requested_slot": None},
        candidates={"message_text": "我要留言"},
    )
    slots, said = run(_validate(tracker, domain))
    assert slots["message_text"] is None and said == []


def test_the_button_payload_is_not_taken_for_the_question(domain: dict[str, Any]) -> None:
    # “好的，我要留言” sends /leave_message: the form must still ask for the question.
    tracker = make_tracker(
        "message_form_requested",
        text="/leave_message",
        intent="leave_message",
        slots={"requested_slot": None},
        candidates={"message_text": "/leave_message"},
    )
    slots, said = run(_validate(tracker, domain))
    assert slots["message_text"] is None and said == []


def test_activation_with_the_question_fills_it(domain: dict[str, Any]) -> None:
    text = "我要留言，我家老人的户口簿丢了能不能邮寄补办"
    tracker = make_tracker(
        "message_form_requested",
        text=text,
        intent="leave_message",
        slots={"requested_slot": None},
        candidates={"message_text": text},
    )
    slots, _ = run(_validate(tracker, domain))
    assert slots["message_text"] == text


def test_too_short_an_answer_is_asked_again(domain: dict[str, Any]) -> None:
    tracker = make_tracker("message_form_requested", text="嗯", candidates={"message_text": "嗯"})
    slots, said = run(_validate(tracker, domain))
    assert slots["message_text"] is None
    assert len(said) == 1 and "问题" in said[0]


def test_phone_inside_the_question_is_masked_and_used(domain: dict[str, Any]) -> None:
    text = "身份证补办进度一直查不到，我电话138 1234 5678"
    tracker = make_tracker("message_form_requested", text=text, candidates={"message_text": text})
    slots, said = run(_validate(tracker, domain))
    assert kept_phone(slots["contact_phone"]) == PHONE
    assert "138****5678" in slots["message_text"]
    assert "12345678" not in slots["message_text"].replace(" ", "")
    assert said == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (PHONE, PHONE),
        ("138-1234-5678", PHONE),
        ("+86 138 1234 5678", PHONE),
        ("１３８１２３４５６７８", PHONE),
    ],
)
def test_phone_formats(typed: str, expected: str, domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        "message_form_requested",
        text=typed,
        slots={"message_text": "户口迁移问题", "requested_slot": "contact_phone"},
        candidates={"contact_phone": typed},
    )
    slots, said = run(_validate(tracker, domain))
    assert kept_phone(slots["contact_phone"]) == expected and said == []


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("1381234", "7位"), ("12345678901", "格式不正确"), ("不想给", "11位手机号码")],
)
def test_bad_phones_are_rejected_with_a_reason(
    typed: str, reason: str, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        "message_form_requested",
        text=typed,
        slots={"message_text": "户口迁移问题", "requested_slot": "contact_phone"},
        candidates={"contact_phone": typed},
    )
    slots, said = run(_validate(tracker, domain))
    assert slots["contact_phone"] is None
    assert len(said) == 1 and reason in said[0]
    assert typed not in said[0] or not typed.isdigit()


# ------------------------------------------------------------------ storing (SQLite + PostgreSQL)


def test_message_is_stored_masked_and_encrypted(action_db: str) -> None:
    said, slots = _save("我的身份证号110105194912310021办不了居住证，回电13987654321也行", PHONE)
    assert slots == {"message_text": None, "contact_phone": None}
    reply = said[0]
    assert "138****5678" in reply and PHONE not in reply
    assert re.search(r"留言编号 \d+", reply)
    assert "回电" in reply
    with session_scope() as session:
        row = session.scalars(select(CallbackRequest)).one()
        assert row.phone_masked == "138****5678"
        assert row.phone_hash == hash_phone(PHONE)
        assert PHONE not in row.phone_encrypted
        assert decrypt_phone(row.phone_encrypted) == PHONE
        assert "110105194912310021" not in row.text and "1101**********0021" in row.text
        assert "13987654321" not in row.text and "139****4321" in row.text
        assert row.status == "new" and row.conversation_id == "conv-msg"
        assert row.callback_due is not None and row.callback_due > row.created_at


def test_a_retried_message_is_not_stored_twice(action_db: str) -> None:
    first, _ = _save("户口簿补领需要什么材料", PHONE, sender="conv-retry")
    second, _ = _save("户口簿补领需要什么材料", PHONE, sender="conv-retry")
    assert first == second
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(CallbackRequest)) == 1


def test_log_lines_mask_the_phone(action_db: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        _save("居住证签注怎么办理", PHONE)
    assert "138****5678" in caplog.text and PHONE not in caplog.text


def test_database_outage_gets_busy_reply_and_stores_nothing(
    unreachable_db: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        said, slots = _save("户口迁移问题咨询", PHONE)
    assert said[0].startswith("系统繁忙，请稍后再试")
    assert slots["contact_phone"] is None
    assert PHONE not in caplog.text


def test_failure_inside_the_transaction_leaves_nothing(
    action_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from bot.db.queries import callbacks as queries

    def broken(session: Any, *args: Any, **kwargs: Any) -> Any:
        queries.save_callback(session, *args, **kwargs)  # row flushed ...
        raise OperationalError("INSERT", {}, Exception("connection lost"))  # ... then the link dies

    monkeypatch.setattr(callback_actions, "save_callback", broken)
    said, _ = _save("出生登记需要带什么", PHONE, sender="conv-broken")
    assert said[0].startswith("系统繁忙")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(CallbackRequest)) == 0


def test_stop_clears_the_form_slots() -> None:
    tracker = make_tracker("message_form_submitted")
    events = run(ActionClearMessageSlots().run(CollectingDispatcher(), tracker, {}))
    assert slot_events(events) == {"message_text": None, "contact_phone": None}


def test_call_back_phrases() -> None:
    now = dt.datetime(2026, 12, 2, 10, 0)  # a Wednesday
    assert describe_due(dt.datetime(2026, 12, 2, 17, 0), now) == "今天17:00前"
    assert describe_due(dt.datetime(2026, 12, 3, 12, 0), now) == "明天12月3日（周四）12:00前"
    assert describe_due(dt.datetime(2026, 12, 7, 12, 0), now) == "12月7日（周一）12:00前"


def test_a_phone_given_before_the_question_survives_the_conversation_store(
    domain: dict[str, Any],
) -> None:
    """“我要留言，电话…” then the question: the number comes back from the store usable."""
    from bot.numbers import mask_data

    tracker = make_tracker(
        "message_form_requested",
        text="我要留言，电话13812345678",
        candidates={"message_text": "我要留言，电话13812345678"},
    )
    slots, _ = run(_validate(tracker, domain))
    assert slots["message_text"] is None
    stored = mask_data(slots["contact_phone"])  # what the masking tracker store keeps
    assert "13812345678" not in str(stored)
    assert kept_phone(stored) == "13812345678"
    assert kept_phone("enc:forged") is None and kept_phone("138****5678") is None


def test_the_call_back_deadline_reads_naturally() -> None:
    import datetime as dt

    from actions.callbacks import describe_due

    now = dt.datetime(2026, 12, 2, 10, 0)  # a Wednesday
    assert describe_due(dt.datetime(2026, 12, 2, 17, 0), now) == "今天17:00前"
    assert describe_due(dt.datetime(2026, 12, 3, 12, 0), now) == "明天12月3日（周四）12:00前"
    assert describe_due(dt.datetime(2026, 12, 7, 12, 0), now) == "12月7日（周一）12:00前"
