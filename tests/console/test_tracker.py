"""The conversation view: what an officer reads (no developer trace, line breaks kept)."""

from __future__ import annotations

import datetime as dt
import re

from bot.console.config import ConsoleSettings
from tests.console.conftest import FULL_ID, MASKED_ID, now_utc
from tests.console.helpers import Client, TrackerWriter, Turn


def test_conversation_reads_like_a_chat_not_a_trace(
    officer: Client, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    writer.write(
        "conv-read",
        [
            Turn(
                f"我的身份证号{FULL_ID}丢了",
                "faq",
                0.95,
                sub_intent="faq/id_card_lost_online",
                bot="请按以下步骤补领：\n1. 挂失\n2. 网上申请",
                buttons=(("预约窗口", "/book_appointment"), ("留言给民警", "/leave_message")),
            ),
            Turn("/book_appointment", "book_appointment", 1.0, action="booking_form"),
            Turn("/leave_message", "leave_message", 1.0),
        ],
        now_utc() - dt.timedelta(minutes=5),
    )
    page = officer.get("/conversations/conv-read").text
    for trace in ("action_session_start", "action_listen", "requested_slot", "booking_form"):
        assert trace not in page, trace
    assert FULL_ID not in page and MASKED_ID in page
    # The bot's line breaks are kept (shown with white-space: pre-wrap, not collapsed).
    assert "请按以下步骤补领：\n1. 挂失\n2. 网上申请" in page
    # Intents by their Chinese names; a button click by the title the citizen saw.
    assert "识别为：身份证丢失补领" in page and "faq/id_card_lost_online</span>" not in page
    assert "点击按钮：预约窗口" in page
    assert "按钮：预约窗口 / 留言给民警" in page
    # A click on a button the bot did not offer in its last answer: the intent's name.
    assert "点击按钮：留言给民警" in page
    assert page.count("新会话开始") == 1
    css = officer.get("/static/console.css").text
    assert re.search(r"\.turn \.say \{[^}]*white-space: pre-wrap", css)


def test_links_to_a_conversation_do_not_carry_its_id(
    officer: Client, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    """A trusted channel may use a phone number as conversation id: it stays out of URLs."""
    writer.write("13812345678", [Turn("阿巴阿巴", "nlu_fallback", 0.3)], now_utc())
    inbox = officer.get("/inbox?view=items").text
    assert "13812345678" not in inbox
    link = re.search(r'href="(/items/\d+/conversation)"', inbox)
    assert link
    page = officer.get(link.group(1)).text
    assert "阿巴阿巴" in page and "13812345678" not in page and "138****5678" in page
