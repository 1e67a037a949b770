"""Where ratings and given-up conversations are kept (the database)."""

from __future__ import annotations

from typing import Protocol


class FeedbackStore(Protocol):
    """Where 👍/👎 ratings go (the database in production)."""

    def save(
        self,
        *,
        conversation_id: str,
        bot_message_id: str,
        bot_text: str,
        user_text: str,
        rating: str,
        reason: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Store (or replace) the rating of one bot message (with a 👎's reason)."""

    def ratings(self, conversation_id: str) -> dict[str, str]:
        """Return ``{bot_message_id: rating}`` for a conversation."""


class DatabaseFeedbackStore:
    """Feedback in the ``feedback`` table via :mod:`bot.db.queries.feedback` (blocking calls)."""

    def save(
        self,
        *,
        conversation_id: str,
        bot_message_id: str,
        bot_text: str,
        user_text: str,
        rating: str,
        reason: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Store (or replace) the rating of one bot message (with a 👎's reason)."""
        from bot.db.queries import feedback
        from bot.db.session import session_scope

        with session_scope() as session:
            feedback.save_feedback(
                session,
                conversation_id=conversation_id,
                bot_message_id=bot_message_id,
                bot_text=bot_text,
                user_text=user_text,
                rating=rating,
                reason=reason,
                comment=comment,
            )

    def ratings(self, conversation_id: str) -> dict[str, str]:
        """Return ``{bot_message_id: rating}`` for a conversation."""
        from bot.db.queries import feedback
        from bot.db.session import session_scope

        with session_scope() as session:
            return feedback.ratings_for_conversation(session, conversation_id)


class RevocationStore(Protocol):
    """Where conversations given up by ``/restart`` are remembered (the database)."""

    def revoke(self, conversation_id: str) -> None:
        """Refuse this conversation's token from now on."""

    def is_revoked(self, conversation_id: str) -> bool:
        """Whether this conversation's token is refused."""


class DatabaseRevocationStore:
    """Revocations in the ``revoked_conversations`` table (blocking calls)."""

    def revoke(self, conversation_id: str) -> None:
        """Refuse this conversation's token from now on."""
        from bot.db.queries import revocations
        from bot.db.session import session_scope

        with session_scope() as session:
            revocations.revoke(session, conversation_id)

    def is_revoked(self, conversation_id: str) -> bool:
        """Whether this conversation's token is refused."""
        from bot.db.queries import revocations
        from bot.db.session import session_scope

        with session_scope() as session:
            return revocations.is_revoked(session, conversation_id)
