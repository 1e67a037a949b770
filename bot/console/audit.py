"""The console's audit log: every view and every change, with who and when."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console.models import ConsoleAuditLog
from bot.numbers import mask_data, mask_text


def record(
    session: Session,
    username: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    user_id: int | None = None,
    remote: str = "",
) -> None:
    """Append one entry to the audit log (personal numbers in target/detail are masked).

    Args:
        session: app database session (committed by the caller).
        username: who did it ("-" before login).
        action: what, e.g. ``view_inbox``, ``annotate``, ``login_failed``.
        target: on what, e.g. ``group:1a2b…`` or a path with its query.
        detail: extra facts (JSON-serialisable).
        user_id: the account id, when logged in.
        remote: client address.

    """
    session.add(
        ConsoleAuditLog(
            user_id=user_id,
            username=mask_text(username or "-")[:64],
            action=action[:40],
            target=mask_text(target or "")[:200],
            detail=json.dumps(mask_data(detail), ensure_ascii=False) if detail else None,
            remote=(remote or "")[:64],
        )
    )


def recent(
    session: Session, limit: int = 200, offset: int = 0, username: str = ""
) -> list[ConsoleAuditLog]:
    """Return the latest audit entries, optionally for one user."""
    query = sa.select(ConsoleAuditLog).order_by(ConsoleAuditLog.id.desc())
    if username:
        query = query.where(ConsoleAuditLog.username == username)
    return list(session.execute(query.limit(limit).offset(offset)).scalars())
