"""Where ratings and given-up conversations are kept: the database (blocking calls).

The channel calls these from a worker thread; each call is one short session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bot.db.queries import feedback, revocations
from bot.db.session import session_scope

T = TypeVar("T")


def _in_session(query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with session_scope() as session:
        return query(session, *args, **kwargs)


class FeedbackStore:
    """👍/👎 ratings in the ``feedback`` table (:mod:`bot.db.queries.feedback`)."""

    def save(self, **fields: Any) -> None:
        """Store (or replace) the rating of one bot message, with a 👎's reason and comment."""
        _in_session(feedback.save_feedback, **fields)

    def ratings(self, conversation_id: str) -> dict[str, str]:
        """Return ``{bot_message_id: rating}`` for a conversation."""
        return _in_session(feedback.ratings_for_conversation, conversation_id)


class RevocationStore:
    """Conversations given up by ``/restart`` (:mod:`bot.db.queries.revocations`)."""

    def revoke(self, conversation_id: str) -> None:
        """Refuse this conversation's token from now on."""
        _in_session(revocations.revoke, conversation_id)

    def is_revoked(self, conversation_id: str) -> bool:
        """Whether this conversation's token is refused."""
        return _in_session(revocations.is_revoked, conversation_id)
