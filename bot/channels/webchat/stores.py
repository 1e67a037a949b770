"""Where ratings and given-up conversations are kept: the database.

Each call is one short session in a worker thread (off the event loop). While the database
restarts, a call waits and tries again for up to :data:`RETRY_SECONDS` (:mod:`bot.db.retry`),
so a restart delays a citizen's message instead of answering it with "系统繁忙".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from bot.db.queries import feedback, revocations
from bot.db.retry import retry_transient
from bot.db.session import session_scope

T = TypeVar("T")

#: How long a call waits for a restarting database (the reply timeout is 25 s).
RETRY_SECONDS = 10.0


def _in_session(query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with session_scope() as session:
        return query(session, *args, **kwargs)


async def _in_worker(query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await retry_transient(
        lambda: asyncio.to_thread(_in_session, query, *args, **kwargs),
        f"webchat: {query.__name__}",
        RETRY_SECONDS,
    )


class FeedbackStore:
    """👍/👎 ratings in the ``feedback`` table (:mod:`bot.db.queries.feedback`)."""

    async def save(self, **fields: Any) -> None:
        """Store (or replace) the rating of one bot message, with a 👎's reason and comment."""
        await _in_worker(feedback.save_feedback, **fields)

    async def ratings(self, conversation_id: str) -> dict[str, str]:
        """Return ``{bot_message_id: rating}`` for a conversation."""
        return await _in_worker(feedback.ratings_for_conversation, conversation_id)


class RevocationStore:
    """Conversations given up by ``/restart`` (:mod:`bot.db.queries.revocations`)."""

    async def revoke(self, conversation_id: str) -> None:
        """Refuse this conversation's token from now on."""
        await _in_worker(revocations.revoke, conversation_id)

    async def is_revoked(self, conversation_id: str) -> bool:
        """Whether this conversation's token is refused."""
        return await _in_worker(revocations.is_revoked, conversation_id)
