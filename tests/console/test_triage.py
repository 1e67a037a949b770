"""Which user messages are unanswered questions for the officers' inbox."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.ingest import Syncer
from bot.console.tracker import UserMessage
from bot.console.triage import classify, margin
from tests.console.conftest import items_by_text, now_utc
from tests.console.helpers import TrackerWriter, Turn


def _message(
    intent: str, confidence: float = 0.95, lead: float | None = None, text: str = "问题"
) -> UserMessage:
    return UserMessage(1, "c", 0.0, text, intent, confidence, text.startswith("/"), lead)


def _flags(message: UserMessage) -> set[str]:
    return {k for k, v in classify(message, 0.7, 0.2).items() if v}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (_message("nlu_fallback", 0.4), {"is_fallback"}),
        (_message("faq/id_card_fees", 0.55), {"is_low_confidence"}),
        (_message("faq/id_card_fees", 0.95, lead=0.05), {"is_low_margin"}),
        (_message("faq/id_card_fees", 0.95, lead=0.5), set()),
        # A confident referral to the right department is an answer ...
        (_message("out_of_scope/traffic", 0.9, lead=0.6), set()),
        (_message("out_of_scope/passport", 0.93), set()),
        # ... "I can't help with that" is not, and an unsure referral is looked at too.
        (_message("out_of_scope/other", 0.93), {"is_out_of_scope"}),
        (_message("out_of_scope", 0.93), {"is_out_of_scope"}),
        (_message("out_of_scope/traffic", 0.5), {"is_low_confidence"}),
        (_message("out_of_scope/traffic", 0.9, lead=0.1), {"is_low_margin"}),
        # Button clicks are never unanswered questions.
        (_message("leave_message", 0.3, lead=0.0, text="/leave_message"), set()),
    ],
)
def test_triage_rules(message: UserMessage, expected: set[str]) -> None:
    assert _flags(message) == expected


def test_margin_is_the_smaller_of_intent_and_answer_lead() -> None:
    parse = {
        "intent": {"name": "faq", "confidence": 0.9},
        "intent_ranking": [
            {"name": "faq", "confidence": 0.9},
            {"name": "ask_move_in", "confidence": 0.05},
        ],
        "response_selector": {
            "faq": {
                "response": {"intent_response_key": "faq/kinship_certificate"},
                "ranking": [
                    {"intent_response_key": "faq/kinship_certificate", "confidence": 0.52},
                    {"intent_response_key": "faq/death_certificate", "confidence": 0.41},
                ],
            }
        },
    }
    assert margin(parse) == pytest.approx(0.11)
    assert margin({"intent": {"name": "greet", "confidence": 1.0}}) is None
    bad = {"intent": {"name": "x"}, "intent_ranking": [{"name": "x", "confidence": "nan?"}, 3]}
    assert margin(bad) is None


def test_low_margin_answers_reach_the_inbox_without_a_thumbs_down(
    db: ConsoleDB, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    start = now_utc() - dt.timedelta(hours=1)
    writer.write(
        "close-call",
        [
            Turn(
                "开无犯罪记录证明去哪",
                "faq",
                0.91,
                sub_intent="faq/kinship_certificate",
                runner_up=("faq/death_certificate", 0.85),
            ),
            Turn("身份证多少钱", "faq", 0.97, sub_intent="faq/id_card_fees"),
            Turn("车辆违章怎么处理", "out_of_scope", 0.95, sub_intent="out_of_scope/traffic"),
        ],
        start,
    )
    result = Syncer(db).sync()
    assert result.user_messages == 3
    items = items_by_text(db)
    assert set(items) == {"开无犯罪记录证明去哪"}
    item = items["开无犯罪记录证明去哪"]
    assert (
        item.is_low_margin and not item.is_thumbs_down and item.intent == "faq/kinship_certificate"
    )
