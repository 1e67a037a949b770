"""Web-chat conversations given up by ``/restart``: their tokens are refused from then on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import RevokedConversation, utcnow


def revoke(session: Session, conversation_id: str) -> None:
    """Mark a conversation as given up (idempotent).

    Args:
        session: open session (the caller commits).
        conversation_id: the web-chat conversation id.
    """
    if session.get(RevokedConversation, conversation_id) is None:
        session.add(RevokedConversation(conversation_id=conversation_id, revoked_at=utcnow()))
        session.flush()


def is_revoked(session: Session, conversation_id: str) -> bool:
    """Whether a conversation was given up.

    Args:
        session: open session.
        conversation_id: the web-chat conversation id.

    Returns:
        True when its token must be refused.
    """
    stmt = select(RevokedConversation.conversation_id).where(
        RevokedConversation.conversation_id == conversation_id
    )
    return session.scalar(stmt) is not None
