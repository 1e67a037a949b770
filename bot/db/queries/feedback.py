"""Feedback queries: citizens' 👍/👎 on web-chat answers.

Written by the web chat (:mod:`bot.channels.webchat`), read by the officers' review console.

Every function takes an open :class:`~sqlalchemy.orm.Session` as its first argument and is
synchronous; the web-chat channel runs them in a worker thread with
:func:`bot.db.session.session_scope`. Texts are masked here again (defence in depth), so no
full phone or ID number is ever stored whatever the caller passes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import FEEDBACK_RATINGS, Feedback, utcnow
from bot.db.views import view_of
from bot.numbers import mask_text

MAX_TEXT_CHARS = 4000


@dataclass(frozen=True)
class FeedbackRow:
    """One rating as the console shows it.

    Attributes:
        id: row id.
        conversation_id: the web-chat conversation.
        bot_message_id: the rated bot message (stable id from the web chat).
        bot_text: the rated answer (masked).
        user_text: the message it answered (masked).
        rating: ``up`` or ``down``.
        created_at: when it was (last) rated, naive UTC.
        reason: 👎 only: the reason code the citizen chose (``off_topic`` …), or None.
        comment: 👎 only: the citizen's own words (masked), or None.

    """

    id: int
    conversation_id: str
    bot_message_id: str
    bot_text: str
    user_text: str
    rating: str
    created_at: dt.datetime
    reason: str | None = None
    comment: str | None = None


def _clip(text: str | None) -> str:
    return mask_text(text or "")[:MAX_TEXT_CHARS]


def save_feedback(
    session: Session,
    *,
    conversation_id: str,
    bot_message_id: str,
    bot_text: str,
    user_text: str,
    rating: str,
    reason: str | None = None,
    comment: str | None = None,
) -> Feedback:
    """Store the rating of one bot message, replacing an earlier rating of the same message.

    A 👍 clears the reason and comment of an earlier 👎.

    Args:
        session: an open session (the caller commits).
        conversation_id: the web-chat conversation id.
        bot_message_id: the rated bot message's id.
        bot_text: the bot's answer.
        user_text: the user message it answered.
        rating: ``up`` or ``down``.
        reason: 👎 only: a reason code (at most 20 characters), or None.
        comment: 👎 only: the citizen's words (masked and clipped here), or None.

    Returns:
        The stored row.

    Raises:
        ValueError: for a rating other than ``up``/``down``.

    """
    if rating not in FEEDBACK_RATINGS:
        raise ValueError(f"rating must be one of {FEEDBACK_RATINGS}, not {rating!r}")
    stmt = select(Feedback).where(
        Feedback.conversation_id == conversation_id,
        Feedback.bot_message_id == bot_message_id,
    )
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        row = Feedback(
            conversation_id=conversation_id,
            bot_message_id=bot_message_id,
            bot_text=_clip(bot_text),
            user_text=_clip(user_text),
            rating=rating,
            created_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # A concurrent click stored the same message first: update that row instead.
            row = session.execute(stmt).scalar_one()
    row.rating = rating
    row.reason = reason[:20] if rating == "down" and reason else None
    row.comment = (_clip(comment) or None) if rating == "down" else None
    row.created_at = utcnow()
    session.flush()
    return row


def ratings_for_conversation(session: Session, conversation_id: str) -> dict[str, str]:
    """Return ``{bot_message_id: rating}`` of one conversation.

    Args:
        session: an open session.
        conversation_id: the web-chat conversation id.

    Returns:
        The ratings given in that conversation.

    """
    rows = session.execute(
        select(Feedback.bot_message_id, Feedback.rating).where(
            Feedback.conversation_id == conversation_id
        )
    ).all()
    return {message_id: rating for message_id, rating in rows}


def list_feedback(
    session: Session,
    *,
    rating: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 200,
) -> list[FeedbackRow]:
    """List ratings, newest first (e.g. ``rating="down"`` for the console's review queue).

    Args:
        session: an open session.
        rating: only this rating (``up``/``down``), or all.
        since: only ratings given at or after this naive-UTC time.
        limit: at most this many rows.

    Returns:
        The ratings, newest first.

    """
    stmt = select(Feedback).order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)
    if rating is not None:
        stmt = stmt.where(Feedback.rating == rating)
    if since is not None:
        stmt = stmt.where(Feedback.created_at >= since)
    return [view_of(FeedbackRow, r) for r in session.execute(stmt).scalars()]
