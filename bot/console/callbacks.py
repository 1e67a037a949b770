"""Messages left for officers (``messages`` table of the data layer): the console's list.

Changes go through :mod:`bot.db.queries.callbacks` (the same rules as everywhere: notes masked,
statuses checked). A message still ``new`` after its call-back deadline is *overdue*.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.db.models import CALLBACK_STATUSES, CallbackRequest, utcnow
from bot.db.queries import callbacks as queries

CALLBACK_STATUS_LABELS: dict[str, str] = {
    "new": "新留言",
    "called_back": "已回电",
    "closed": "已关闭",
}


class CallbackError(ValueError):
    """A follow-up that cannot be saved (message is user-facing Chinese)."""


@dataclass
class CallbackPage:
    """One page of messages.

    Attributes:
        rows: the messages, newest first.
        total: messages matching the filter.
        overdue: messages overdue now (whatever the filter).
        overdue_ids: ids of the overdue messages on this page.

    """

    rows: list[CallbackRequest]
    total: int
    overdue: int
    overdue_ids: set[int]


def list_callbacks(
    session: Session,
    status: str = "",
    page: int = 1,
    page_size: int = 50,
    overdue_only: bool = False,
    now: dt.datetime | None = None,
) -> CallbackPage:
    """Messages, newest first, optionally by status or only the overdue ones.

    Args:
        session: app database session.
        status: new / called_back / closed, or "" for all.
        page: 1-based page.
        page_size: messages per page.
        overdue_only: only messages past their call-back deadline and not called back.
        now: current time (naive UTC), for tests.

    Returns:
        The page.

    """
    now = now or utcnow()
    conditions = []
    if status in CALLBACK_STATUSES:
        conditions.append(CallbackRequest.status == status)
    if overdue_only:
        conditions.append(queries.overdue_condition(now))
    total = int(
        session.execute(sa.select(sa.func.count(CallbackRequest.id)).where(*conditions)).scalar()
        or 0
    )
    overdue = int(
        session.execute(
            sa.select(sa.func.count(CallbackRequest.id)).where(queries.overdue_condition(now))
        ).scalar()
        or 0
    )
    rows = list(
        session.execute(
            sa.select(CallbackRequest)
            .where(*conditions)
            .order_by(CallbackRequest.created_at.desc(), CallbackRequest.id.desc())
            .limit(page_size)
            .offset((max(1, page) - 1) * page_size)
        ).scalars()
    )
    late = {int(m.id) for m in rows if queries.is_overdue(m, now)}
    return CallbackPage(rows, total, overdue, late)


def update_callback(session: Session, message_id: int, status: str, notes: str) -> None:
    """Set a message's status and notes (notes masked, at most 2,000 characters).

    Raises:
        CallbackError: unknown message or status.

    """
    if status not in CALLBACK_STATUSES:
        raise CallbackError("状态无效。")
    if queries.update_status(session, message_id, status, notes.strip()[:2000]) is None:
        raise CallbackError("留言不存在。")


def reveal_phone(session: Session, message_id: int) -> str:
    """Return the full call-back number of a message (for the officer who calls; audited by caller).

    Raises:
        CallbackError: unknown message or undecryptable number.

    """
    try:
        phone = queries.reveal_phone(session, message_id)
    except Exception as exc:  # noqa: BLE001 - wrong key or corrupted token
        raise CallbackError("无法解密该号码（密钥不一致）。") from exc
    if phone is None:
        raise CallbackError("留言不存在。")
    return phone
