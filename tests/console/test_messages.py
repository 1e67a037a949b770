"""Messages left for officers: follow-up, audited phone reveal, call-back deadline."""

from __future__ import annotations

import sqlalchemy as sa

from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.models import ConsoleAuditLog
from tests.console.conftest import (
    PHONE,
    seed_standard,
)
from tests.console.helpers import Client, TrackerWriter

TZ = "Asia/Shanghai"


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
