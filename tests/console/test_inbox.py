"""Inbox: filters, the officer's review, the annotation flow through the web pages."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.inbox import InboxFilter, group_page
from bot.console.ingest import Syncer
from bot.console.intents import load_catalog
from bot.console.models import ConsoleAuditLog, ConsoleItem
from bot.console.review import Review, apply_review
from tests.console.conftest import (
    MASKED_ID,
    seed_standard,
)
from tests.console.helpers import Client, TrackerWriter, find

TZ = "Asia/Shanghai"


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
    assert "户口簿丢了咋办" not in default and len(default) == 7
    assert "户口簿丢了咋办" in texts(date_from=today - dt.timedelta(days=60))
    assert texts(
        date_from=today - dt.timedelta(days=45), date_to=today - dt.timedelta(days=35)
    ) == {"户口簿丢了咋办"}
    assert texts(reason="out_of_scope") == {"今天天气怎么样"}
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
