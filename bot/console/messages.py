"""Messages left for officers (``messages`` table of the data layer): list and follow-up."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.db.models import MESSAGE_STATUSES, Message, utcnow

MESSAGE_STATUS_LABELS: dict[str, str] = {
    "new": "新留言",
    "called_back": "已回电",
    "closed": "已关闭",
}


class MessageError(ValueError):
    """A follow-up that cannot be saved (message is user-facing Chinese)."""


def list_messages(
    session: Session, status: str = "", page: int = 1, page_size: int = 50
) -> tuple[list[Message], int]:
    """Messages, newest first, optionally by status; and the total count."""
    query = sa.select(Message)
    count = sa.select(sa.func.count(Message.id))
    if status in MESSAGE_STATUSES:
        query = query.where(Message.status == status)
        count = count.where(Message.status == status)
    total = int(session.execute(count).scalar() or 0)
    rows = list(
        session.execute(
            query.order_by(Message.created_at.desc(), Message.id.desc())
            .limit(page_size)
            .offset((max(1, page) - 1) * page_size)
        ).scalars()
    )
    return rows, total


def update_message(session: Session, message_id: int, status: str, notes: str) -> Message:
    """Set a message's status and notes.

    Args:
        session: app database session.
        message_id: the message.
        status: new / called_back / closed.
        notes: the officer's notes (replaces the previous notes).

    Returns:
        The message.

    Raises:
        MessageError: unknown message or status.

    """
    if status not in MESSAGE_STATUSES:
        raise MessageError("状态无效。")
    message = session.get(Message, message_id)
    if message is None:
        raise MessageError("留言不存在。")
    message.status = status
    message.notes = (notes or "").strip()[:2000] or None
    message.updated_at = utcnow()
    session.flush()
    return message


def reveal_phone(session: Session, message_id: int) -> str:
    """Return the full call-back number of a message (for the officer who calls; audited by caller).

    Raises:
        MessageError: unknown message or undecryptable number.

    """
    from bot.db.crypto import decrypt_phone

    message = session.get(Message, message_id)
    if message is None:
        raise MessageError("留言不存在。")
    try:
        return decrypt_phone(str(message.phone_encrypted))
    except Exception as exc:  # noqa: BLE001 - wrong key or corrupted token
        raise MessageError("无法解密该号码（密钥不一致）。") from exc
