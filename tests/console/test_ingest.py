"""Sync of the inbox: tracker store, feedback and left messages become inbox items."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.inbox import InboxFilter, group_page
from bot.console.ingest import Syncer
from tests.console.conftest import (
    FULL_ID,
    MASKED_ID,
    PHONE,
    items_by_text,
    now_utc,
    seed_standard,
)
from tests.console.helpers import TrackerWriter, Turn

TZ = "Asia/Shanghai"


def test_fresh_install_without_tracker_store_is_empty_not_broken(db: ConsoleDB) -> None:
    result = Syncer(db).sync()
    assert result.user_messages == 0 and result.items == 0
    from zoneinfo import ZoneInfo

    with db.session() as session:
        page = group_page(session, InboxFilter(), ZoneInfo(TZ))
    assert page.groups == [] and page.total_items == 0 and page.pages == 1


def test_unanswered_messages_become_items_with_their_reasons(
    db: ConsoleDB, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    result = Syncer(db).sync()
    assert result.user_messages == 10  # every user message is counted for the trend
    items = items_by_text(db)
    reasons = {
        text: [
            r
            for r in ("fallback", "low_confidence", "out_of_scope", "thumbs_down", "message")
            if getattr(item, f"is_{r}")
        ]
        for text, item in items.items()
    }
    id_text = f"我的身份证号{MASKED_ID}丢了怎么补"
    assert reasons["身份证掉了咋整"] == ["fallback"]
    assert reasons[id_text] == ["low_confidence"]
    assert items[id_text].intent == "faq/id_card_lost_online"
    assert items[id_text].confidence == pytest.approx(0.61)
    assert reasons["今天天气怎么样"] == ["out_of_scope"]
    # A referral to the right department (交管 122) answered the question: not unanswered.
    assert "驾照扣分怎么查" not in items
    assert reasons["户口迁入要什么材料"] == ["thumbs_down"]
    assert items["户口迁入要什么材料"].sender_id == "conv-thumbs-down"
    assert reasons["集体户口怎么迁出？我电话138****5678"] == ["message"]
    # Answered messages are not in the inbox.
    assert "你好" not in items and "身份证补办多少钱" not in items
    # Nothing stored in full, although the tracker rows were not masked.
    for item in items.values():
        assert FULL_ID not in item.text and PHONE not in item.text
    # A second sync reads nothing again.
    again = Syncer(db).sync()
    assert again.user_messages == 0 and again.items == 0 and len(items_by_text(db)) == len(items)


def test_answers_a_form_took_are_not_unanswered_questions(
    db: ConsoleDB, writer: TrackerWriter
) -> None:
    start = now_utc() - dt.timedelta(hours=1)
    writer.write(
        "conv-booking",
        [
            Turn("我要预约", "book_appointment", 0.98, action="booking_form"),
            # The NLU cannot classify a name, but the booking form took it as the answer.
            Turn("王小明", "nlu_fallback", 0.55, action="booking_form"),
            Turn("Zhang Wei", "out_of_scope", 0.8, "out_of_scope/other", action="booking_form"),
            # This one the form rejected: the clarifying fallback answered it.
            Turn("阿巴阿巴阿巴", "nlu_fallback", 0.4, action="booking_form", rejected=True),
        ],
        start,
    )
    result = Syncer(db).sync()
    assert result.user_messages == 4
    assert set(items_by_text(db)) == {"阿巴阿巴阿巴"}


def test_new_conversations_and_ratings_are_picked_up_incrementally(
    db: ConsoleDB, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    syncer = Syncer(db)
    writer.write(
        "c1", [Turn("公积金怎么提取", "out_of_scope", 0.9, "out_of_scope/other")], now_utc()
    )
    assert syncer.sync().items == 1
    writer.write("c2", [Turn("身份证到期了怎么换", "faq", 0.98, "faq/id_card_renewal")], now_utc())
    assert syncer.sync().items == 0
    # A 👎 on an answered message turns it into an item, also when the rating changes later.
    from bot.db.models import Feedback
    from bot.db.session import make_engine

    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Feedback.__table__),
            [
                {
                    "conversation_id": "c2",
                    "bot_message_id": "b1",
                    "bot_text": "…",
                    "user_text": "身份证到期了怎么换",
                    "rating": "up",
                    "created_at": now_utc(),
                }
            ],
        )
    assert syncer.sync().items == 0
    with engine.begin() as conn:
        conn.execute(sa.update(Feedback.__table__).values(rating="down"))
    engine.dispose()
    assert syncer.sync().items == 1
    item = items_by_text(db)["身份证到期了怎么换"]
    assert item.is_thumbs_down and item.intent == "faq/id_card_renewal"
    assert syncer.sync().items == 0


@pytest.mark.postgres
def test_postgresql_tracker_and_app_database() -> None:
    """Production setup: tracker store and app database on PostgreSQL."""
    from bot.db import migrate

    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"console_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        migrate.upgrade(url)
        settings = ConsoleSettings(database_url=url, tracker_url=url, sync_interval=0)
        writer = TrackerWriter(url)
        seed_standard(writer, settings)
        writer.close()
        db = ConsoleDB(settings)
        result = Syncer(db).sync()
        assert result.user_messages == 10 and result.items == 8
        from zoneinfo import ZoneInfo

        with db.session() as session:
            page = group_page(session, InboxFilter(), ZoneInfo(TZ))
        assert page.groups[0].label == "身份证掉了咋整" and page.groups[0].size == 2
        db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
