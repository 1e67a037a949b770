"""Messages left for officers: follow-up, audited phone reveal, call-back deadline."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.models import ConsoleAuditLog
from bot.db.session import make_engine
from tests.console.conftest import PHONE, now_utc, seed_standard
from tests.console.helpers import Client, TrackerWriter


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
    assert "callback_update" in actions and "reveal_phone" in actions


def _message(settings: ConsoleSettings, text: str, due: dt.datetime | None, status: str) -> None:
    from bot.db.models import CallbackRequest

    engine = make_engine(settings.database_url)
    now = now_utc()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(CallbackRequest.__table__),
            [
                {
                    "conversation_id": f"c-{text}",
                    "text": text,
                    "phone_masked": "139****0000",
                    "phone_hash": "h",
                    "phone_encrypted": "x",
                    "status": status,
                    "callback_due": due,
                    "created_at": now - dt.timedelta(hours=5),
                    "updated_at": now - dt.timedelta(hours=5),
                }
            ],
        )
    engine.dispose()


def test_messages_past_their_call_back_deadline_are_flagged_overdue(
    officer: Client, settings: ConsoleSettings
) -> None:
    now = now_utc()
    _message(settings, "迟迟没人回电的留言", now - dt.timedelta(hours=1), "new")
    _message(settings, "还没到期限的留言", now + dt.timedelta(hours=3), "new")
    _message(settings, "超时但已回电的留言", now - dt.timedelta(hours=1), "called_back")
    page = officer.get("/messages").text
    assert "1 条留言已过回电期限仍未回电" in page
    rows = {
        text: row
        for row in re.findall(r"<tr class=\"status-.*?</tr>", page, re.S)
        for text in ("迟迟没人回电的留言", "还没到期限的留言", "超时但已回电的留言")
        if text in row
    }
    assert "已超时" in rows["迟迟没人回电的留言"] and "overdue" in rows["迟迟没人回电的留言"]
    assert "已超时" not in rows["还没到期限的留言"]
    assert "已超时" not in rows["超时但已回电的留言"]
    # The deadline is shown in local time.
    local_due = (now + dt.timedelta(hours=3) + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert local_due in rows["还没到期限的留言"]
    only = officer.get("/messages?overdue=1").text
    assert "迟迟没人回电的留言" in only
    assert "还没到期限的留言" not in only and "超时但已回电的留言" not in only
    # Calling back clears the flag.
    message_id = re.search(
        r'action="/messages/(\d+)" class="message-form"', rows["迟迟没人回电的留言"]
    )
    assert message_id
    officer.post_form(f"/messages/{message_id.group(1)}", {"status": "called_back"}, "/messages")
    assert "已过回电期限" not in officer.get("/messages").text


@pytest.mark.parametrize(
    ("content", "left_at", "due"),
    [
        # An officer moved the same-day deadline to 16:30 and the cut-off to 14:00.
        (
            'callback:\n  office_opens: "09:00"\n  same_day_cutoff: "14:00"\n'
            '  same_day_deadline: "16:30"\n  next_day_deadline: "11:00"\n',
            dt.datetime(2026, 12, 2, 10, 0),
            dt.datetime(2026, 12, 2, 16, 30),
        ),
        (
            'callback:\n  office_opens: "09:00"\n  same_day_cutoff: "14:00"\n'
            '  same_day_deadline: "16:30"\n  next_day_deadline: "11:00"\n',
            dt.datetime(2026, 12, 2, 14, 30),
            dt.datetime(2026, 12, 3, 11, 0),
        ),
        # A broken file falls back to the defaults instead of failing the citizen's message.
        (
            "callback:\n  same_day_deadline: 'half past four'\n",
            dt.datetime(2026, 12, 2, 10, 0),
            dt.datetime(2026, 12, 2, 17, 0),
        ),
    ],
)
def test_call_back_deadline_comes_from_the_officer_editable_file(
    settings: ConsoleSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: str,
    left_at: dt.datetime,
    due: dt.datetime,
) -> None:
    from bot.db.queries import callbacks as queries

    knowledge = tmp_path / "knowledge"
    shutil.copytree(settings.project_dir / "data" / "knowledge", knowledge)
    (knowledge / "callback.yml").write_text(content, encoding="utf-8")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(knowledge))
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            assert queries.callback_due(session, left_at - dt.timedelta(hours=8)) == due
    finally:
        engine.dispose()


def test_shipped_call_back_policy_is_the_documented_one() -> None:
    from bot.db.queries.callbacks import CallbackPolicy, callback_policy

    assert callback_policy() == CallbackPolicy()
