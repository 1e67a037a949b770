"""Inbox: reading the conversation store, grouping, filters, annotation, export, trend data."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
import sqlalchemy as sa
import yaml

from bot.console.clustering import Clusterer, normalise
from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.export import clean_example, export_annotations
from bot.console.inbox import InboxFilter, Review, ReviewError, apply_review, group_page
from bot.console.ingest import Syncer
from bot.console.intents import load_catalog
from bot.console.models import ConsoleAuditLog, ConsoleItem
from tests.console.conftest import FULL_ID, MASKED_ID, PHONE, now_utc, seed_standard
from tests.console.helpers import Client, TrackerWriter, Turn, find

TZ = "Asia/Shanghai"


@pytest.fixture()
def db(settings: ConsoleSettings) -> ConsoleDB:
    handle = ConsoleDB(settings)
    yield handle
    handle.dispose()


def _items(db: ConsoleDB) -> dict[str, ConsoleItem]:
    with db.session() as session:
        return {i.text: i for i in session.execute(sa.select(ConsoleItem)).scalars()}


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
    items = _items(db)
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
    assert items["驾照扣分怎么查"].intent == "out_of_scope/traffic"
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
    assert again.user_messages == 0 and again.items == 0 and len(_items(db)) == len(items)


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
    assert set(_items(db)) == {"阿巴阿巴阿巴"}


def test_new_conversations_and_ratings_are_picked_up_incrementally(
    db: ConsoleDB, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    syncer = Syncer(db)
    writer.write(
        "c1", [Turn("社保卡怎么办", "out_of_scope", 0.9, "out_of_scope/social_security")], now_utc()
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
    item = _items(db)["身份证到期了怎么换"]
    assert item.is_thumbs_down and item.intent == "faq/id_card_renewal"
    assert syncer.sync().items == 0


def test_similar_questions_share_a_group() -> None:
    assert normalise("身份证掉了咋整") == normalise("身份证丢了咋办！") == "身份证丢了怎么办"
    assert normalise(f"身份证{MASKED_ID}丢了") == "身份证#丢了"
    texts = [
        normalise(t)
        for t in (
            "身份证掉了咋整",
            "身份证丢了怎么补办",
            "身份证不见了怎么补办呢",
            "今天天气怎么样",
            "明天天气怎么样",
            "护照怎么办理",
            "港澳通行证怎么办理",
        )
    ]
    clusterer = Clusterer(threshold=0.5)
    clusterer.load(texts, [])
    keys = [k for k, _ in clusterer.assign(texts)]
    assert keys[1] == keys[2]  # 丢了/不见了 怎么补办
    assert keys[3] == keys[4]  # weather
    assert len({keys[0], keys[3], keys[5]}) == 3
    # New texts join the existing groups (incremental), new topics lead new groups.
    later = clusterer.assign([normalise("后天天气怎么样"), normalise("结婚证在哪领")])
    assert later[0] == (keys[3], False)
    assert later[1][1] is True


def test_filters_by_date_reason_status_and_text(
    db: ConsoleDB, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    from zoneinfo import ZoneInfo

    seed_standard(writer, settings)
    Syncer(db).sync()
    tz = ZoneInfo(TZ)
    today = dt.datetime.now(tz).date()

    def texts(**kwargs: object) -> set[str]:
        flt = InboxFilter(
            **{
                "date_from": today - dt.timedelta(days=29),
                "date_to": today,
                "status": "new",
                **kwargs,
            }
        )  # type: ignore[arg-type]
        with db.session() as session:
            page = group_page(session, flt, tz, samples=10)
        return {i.text for g in page.groups for i in g.samples}

    default = texts()
    assert "户口簿丢了咋办" not in default and len(default) == 8
    assert "户口簿丢了咋办" in texts(date_from=today - dt.timedelta(days=60))
    assert texts(
        date_from=today - dt.timedelta(days=45), date_to=today - dt.timedelta(days=35)
    ) == {"户口簿丢了咋办"}
    assert texts(reason="out_of_scope") == {"今天天气怎么样", "驾照扣分怎么查"}
    assert texts(reason="message") == {"集体户口怎么迁出？我电话138****5678"}
    assert texts(query="身份证") == {
        "身份证掉了咋整",
        "身份证丢了咋办",
        f"我的身份证号{MASKED_ID}丢了怎么补",
    }
    with db.session() as session:
        ids = [i.id for i in session.execute(sa.select(ConsoleItem)).scalars() if "天气" in i.text]
        apply_review(session, ids, Review("not_useful"), load_catalog(settings.project_dir), "o")
    assert "今天天气怎么样" not in texts()
    assert texts(status="not_useful") == {"今天天气怎么样"}
    # Groups show size and first/last seen.
    flt = InboxFilter(date_from=None, date_to=None, status="")
    with db.session() as session:
        page = group_page(session, flt, tz)
    lost = next(g for g in page.groups if g.label == "身份证掉了咋整")
    assert lost.size == 2 and lost.first_seen <= lost.last_seen
    assert page.groups[0] is lost  # largest group first


def test_annotation_exports_valid_merged_nlu_without_duplicates(
    db: ConsoleDB, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    writer.write("dup", [Turn("我要预约", "nlu_fallback", 0.55)], now_utc())  # already in data/nlu
    Syncer(db).sync()
    catalog = load_catalog(settings.project_dir, settings.nlu_export_path)
    assert "faq/id_card_lost_online" in catalog.assignable
    assert "greet" in catalog.assignable
    assert "nlu_fallback" not in catalog.assignable and "faq" not in catalog.assignable
    items = _items(db)

    def annotate(texts: list[str], intent: str, edits: dict[str, str] | None = None) -> None:
        with db.session() as session:
            ids = [items[t].id for t in texts]
            edited = {items[t].id: v for t, v in (edits or {}).items()}
            apply_review(session, ids, Review("annotate", intent, edited), catalog, "officer1")
            export_annotations(session, settings, catalog)

    annotate(
        ["身份证掉了咋整", "身份证丢了咋办"],
        "faq/id_card_lost_online",
        {"身份证丢了咋办": "身份证丢了咋办呀"},
    )
    annotate(["我要预约"], "book_appointment")
    annotate([f"我的身份证号{MASKED_ID}丢了怎么补"], "faq/id_card_lost_online")
    path = settings.nlu_export_path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    examples = {e["intent"]: [x[2:] for x in e["examples"].splitlines()] for e in data["nlu"]}
    assert examples == {
        "faq/id_card_lost_online": [
            "身份证掉了咋整",
            "身份证丢了咋办呀",
            f"我的身份证号{MASKED_ID}丢了怎么补",
        ]
    }  # "我要预约" is already training data: not duplicated
    # Merge: a hand-added example survives; re-annotating moves an example, never duplicates it.
    text = path.read_text(encoding="utf-8").replace(
        "    - 身份证掉了咋整\n", "    - 身份证掉了咋整\n    - 身份证被偷了怎么办\n"
    )
    path.write_text(text, encoding="utf-8")
    annotate(["身份证掉了咋整"], "faq/id_card_lost_online")
    annotate([f"我的身份证号{MASKED_ID}丢了怎么补"], "faq/id_card_remote")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = {e["intent"]: [x[2:] for x in e["examples"].splitlines()] for e in data["nlu"]}
    assert examples["faq/id_card_remote"] == [f"我的身份证号{MASKED_ID}丢了怎么补"]
    flat = [x for v in examples.values() for x in v]
    assert sorted(flat) == sorted(set(flat))
    assert "身份证被偷了怎么办" in examples["faq/id_card_lost_online"]
    # Marking an exported item not useful withdraws it.
    with db.session() as session:
        apply_review(session, [items["身份证掉了咋整"].id], Review("not_useful"), catalog, "o")
        export_annotations(session, settings, catalog)
    assert "身份证掉了咋整" not in path.read_text(encoding="utf-8")


def test_new_intent_is_proposed_not_trained_and_names_are_validated(
    db: ConsoleDB, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    Syncer(db).sync()
    catalog = load_catalog(settings.project_dir, settings.nlu_export_path)
    item = _items(db)["集体户口怎么迁出？我电话138****5678"]
    with db.session() as session:
        for bad in ("集体户口", "AskThing", "faq", "ask thing", ""):
            with pytest.raises(ReviewError):
                apply_review(session, [item.id], Review("annotate", bad), catalog, "o")
        outcome = apply_review(
            session, [item.id], Review("annotate", "ask_collective_hukou"), catalog, "o"
        )
        assert outcome.is_new_intent
        report = export_annotations(session, settings, catalog)
    assert report.proposed == 1
    assert "ask_collective_hukou" not in settings.nlu_export_path.read_text(encoding="utf-8")
    proposed = yaml.safe_load(settings.proposed_intents_path.read_text(encoding="utf-8"))
    assert proposed == {
        "proposed_intents": [
            {"intent": "ask_collective_hukou", "examples": ["集体户口怎么迁出？我电话138****5678"]}
        ]
    }
    assert not settings.proposed_intents_path.is_relative_to(settings.project_dir / "data")


def test_examples_are_cleaned_for_rasa() -> None:
    assert clean_example(f"  我的号{PHONE}\n丢了 ") == "我的号138****5678 丢了"
    assert clean_example("[固安](county)的窗口") == "［固安］(county)的窗口"
    assert clean_example("/greet") == "greet"


def test_web_annotation_flow_and_audit(
    officer: Client, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    inbox = officer.get("/inbox").text
    key = find(r'href="/groups/([0-9a-f]{16})">身份证掉了咋整', inbox)
    page = officer.get(f"/groups/{key}").text
    ids = re.findall(r'name="item_id" value="(\d+)"', page)
    assert len(ids) == 2
    assert '<option value="faq/id_card_lost_online">' in page  # searchable intent list
    resp = officer.post_form(
        f"/groups/{key}/review",
        {
            "item_id": ids,
            "action": "annotate",
            "intent": "faq/id_card_lost_online",
            f"text_{ids[0]}": "身份证掉了咋整啊",
        },
    )
    assert resp.status_code == 303 and "notice=annotated" in resp.headers["Location"]
    assert "身份证掉了咋整啊" in settings.nlu_export_path.read_text(encoding="utf-8")
    # Items of another group cannot be changed through this group's form.
    other = find(r'href="/groups/([0-9a-f]{16})">今天天气怎么样', inbox)
    other_id = find(r'name="item_id" value="(\d+)"', officer.get(f"/groups/{other}").text)
    resp = officer.post_form(f"/groups/{key}/review", {"item_id": other_id, "action": "not_useful"})
    assert resp.status_code == 400
    # A proposal tells the officer what has to happen before training.
    resp = officer.post_form(
        f"/groups/{other}/review",
        {"item_id": other_id, "action": "annotate", "intent": "ask_weather"},
    )
    assert "notice=proposed" in resp.headers["Location"]
    assert "domain.yml" in officer.get(resp.headers["Location"]).text
    db = ConsoleDB(settings)
    with db.session() as session:
        log = [
            (a.username, a.action, a.target)
            for a in session.execute(sa.select(ConsoleAuditLog)).scalars()
        ]
    db.dispose()
    actions = [a for _, a, _ in log]
    assert ("officer1", "login", "/login") in log
    assert "view_inbox" in actions and "view_group" in actions
    assert "annotate" in actions and "propose_intent" in actions


def test_trend_numbers(officer: Client, writer: TrackerWriter, settings: ConsoleSettings) -> None:
    seed_standard(writer, settings)
    yesterday = now_utc() - dt.timedelta(days=1)
    writer.write("y1", [Turn("你好", "greet", 0.99), Turn("啥", "nlu_fallback", 0.55)], yesterday)
    writer.write("y2", [Turn("谢谢", "thank", 0.99)], yesterday)
    stats = officer.get("/api/stats").json()
    assert len(stats) == 30
    by_day = {d["day"]: d for d in stats}
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(TZ)
    y_day = yesterday.replace(tzinfo=dt.UTC).astimezone(tz).date().isoformat()
    assert by_day[y_day]["conversations"] == 2
    assert by_day[y_day]["messages"] == 3
    assert by_day[y_day]["fallback_rate"] == pytest.approx(1 / 3, abs=1e-3)
    total = sum(d["messages"] for d in stats)
    assert total == 12  # 9 recent seed messages + 3 yesterday (the 40-day-old one is out)


def test_messages_follow_up_and_phone_reveal_is_audited(
    officer: Client, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    page = officer.get("/messages").text
    assert "138****5678" in page and PHONE not in page
    resp = officer.post_form("/messages/1", {"status": "closed", "notes": "已处理"}, "/messages")
    assert resp.status_code == 303
    assert 'value="closed" selected' in officer.get("/messages").text
    assert officer.post_form("/messages/1", {"status": "bogus"}, "/messages").status_code == 400
    revealed = officer.post_form("/messages/1/reveal", {}, "/messages")
    assert PHONE in revealed.text
    assert PHONE not in officer.get("/messages").text  # shown once, not kept on the page
    db = ConsoleDB(settings)
    with db.session() as session:
        actions = [a.action for a in session.execute(sa.select(ConsoleAuditLog)).scalars()]
    db.dispose()
    assert "message_update" in actions and "reveal_phone" in actions


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
        assert result.user_messages == 10 and result.items == 9
        from zoneinfo import ZoneInfo

        with db.session() as session:
            page = group_page(session, InboxFilter(), ZoneInfo(TZ))
        assert page.groups[0].label == "身份证掉了咋整" and page.groups[0].size == 2
        db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
