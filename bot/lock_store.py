"""Redis lock store whose ticket changes are atomic, so replicas really take turns.

Configured in ``deploy/endpoints.cluster.yml`` (and by ``LOCK_STORE_TYPE=redis`` in
``endpoints.yml``, see :mod:`bot.settings`)::

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      key_prefix: ${REDIS_KEY_PREFIX}

Rasa's ``RedisLockStore`` changes a conversation's ticket lock by reading it (``GET``),
changing it in Python and writing it back (``SET``). Two replicas that take a ticket for the
same conversation at the same moment both read the same lock: both draw the same number, or
one write replaces the other's ticket, and both turns run at once. Each then saves the
tracker it read, and the SQL tracker store, which appends only the events beyond those
already stored, drops the second turn's message while its reply has gone out (seen in CI:
two messages sent together, one answered but never stored).

Here every change is one optimistic Redis transaction (``WATCH`` the key, read, change,
``MULTI``/``EXEC``, retried when another replica changed the key in between), and the key
expires with its last ticket, so a replica that died holding it leaves nothing behind.
The ticket algorithm and the waiting loop are Rasa's own.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")

#: A change of one conversation's lock: the lock as stored (None: no key) -> (the lock to
#: store, None or without tickets to delete the key; the value to return).
Change = Callable[[TicketLock | None], tuple[TicketLock | None, T]]


class AtomicRedisLockStore(RedisLockStore):
    """A :class:`RedisLockStore` whose ticket changes are atomic across processes.

    Args:
        endpoint_config: the ``lock_store`` section of the endpoints file (Rasa passes it to
            custom lock stores): ``url`` is the Redis host; ``port``, ``db``, ``username``,
            ``password``, ``key_prefix``, ``socket_timeout`` … as for ``RedisLockStore``.
        **kwargs: ``RedisLockStore`` arguments (they win over the endpoint's).
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        """Connect to Redis as the endpoint (or the keyword arguments) say."""
        settings: dict[str, Any] = {}
        if endpoint_config is not None:
            settings.update(endpoint_config.kwargs)
            if endpoint_config.url:
                settings["host"] = endpoint_config.url
        settings.update(kwargs)
        super().__init__(**settings)

    def _change(self, conversation_id: str, change: Change[T]) -> T:
        """Apply ``change`` to the stored lock in one transaction (retried on a conflict)."""
        key = self.key_prefix + conversation_id
        outcome: list[T] = []

        def transaction(pipe: Any) -> None:
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            new, value = change(lock)
            outcome[:] = [value]
            pipe.multi()
            if new is None or not new.tickets:
                pipe.delete(key)
            else:
                pipe.set(key, new.dumps(), px=_lifetime_ms(new))

        self.red.transaction(transaction, key)
        return outcome[0]

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Take the next ticket of the conversation's queue (a number no one else holds).

        Raises:
            LockError: Redis could not be reached or answered with an error.
        """

        def take(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, take)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drop the expired tickets (a lock left with none is deleted)."""

        def prune(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, prune)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back; the lock goes when nobody else holds a ticket."""

        def release(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, release)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """End a turn: the same single transaction as :meth:`finish_serving`.

        Rasa's version first saves the lock without the ticket and then deletes it if nobody
        is waiting, in two steps: a ticket taken in between was deleted with it.
        """
        self.finish_serving(conversation_id, ticket_number)

    def save_lock(self, lock: TicketLock) -> None:
        """Store ``lock`` as it is (with the expiry of its last ticket)."""
        if lock.tickets:
            self.red.set(
                self.key_prefix + lock.conversation_id, lock.dumps(), px=_lifetime_ms(lock)
            )
        else:
            self.delete_lock(lock.conversation_id)


def _lifetime_ms(lock: TicketLock) -> int:
    """Milliseconds until the lock's last ticket expires (at least 1)."""
    last = max(ticket.expires for ticket in lock.tickets)
    return max(1, math.ceil((last - time.time()) * 1000))
