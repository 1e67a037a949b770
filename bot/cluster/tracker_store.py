"""The replicas' tracker store: the masking SQL store, riding out a database restart.

Configured in ``deploy/endpoints.cluster.yml``::

    tracker_store:
      type: bot.cluster.tracker_store.ClusterTrackerStore
      url: ${TRACKER_DATABASE_URL}

Three additions to :class:`bot.tracker_store.MaskingSQLTrackerStore`:

- reads and writes run in a worker thread: Rasa's SQL store is synchronous, and on the event
  loop every PostgreSQL round trip and commit (~17 ms a turn) stalled every other
  conversation of the replica; now the loop runs other turns' NLU meanwhile;

- pooled connections are checked before use (``pool_pre_ping``), so the connections a
  PostgreSQL restart killed are replaced instead of failing the next turns;
- while the database is unreachable, ``retrieve`` and ``save`` wait and try again (with
  ``asyncio.sleep``, so other conversations go on) for up to ``retry_seconds``. A restart
  (a few seconds) thus delays the turns in flight instead of losing them. Past that the error
  goes to Rasa, whose fail-safe store answers from memory: those turns are not in the
  database (see docs/deploy.md, "What holds state").
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker

from bot.db.retry import retry_transient
from bot.tracker_store import MaskingSQLTrackerStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

_thread_state = threading.local()


def _run_on_thread_loop(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on this worker thread's own (long-lived) event loop."""
    loop = getattr(_thread_state, "loop", None)
    if loop is None:
        loop = _thread_state.loop = asyncio.new_event_loop()
    return loop.run_until_complete(make())  # type: ignore[arg-type]


class ClusterTrackerStore(MaskingSQLTrackerStore):
    """A :class:`MaskingSQLTrackerStore` with pre-pinged connections and bounded retries.

    Args:
        retry_seconds: how long a read or write waits for the database to come back.
        *args: as for :class:`MaskingSQLTrackerStore`.
        **kwargs: as for :class:`MaskingSQLTrackerStore`.
    """

    def __init__(self, *args: Any, retry_seconds: float = 20.0, **kwargs: Any) -> None:
        """Create the store, then rebuild its engine with connection checks."""
        super().__init__(*args, **kwargs)
        self.retry_seconds = float(retry_seconds)
        old: Any = self.engine  # type: ignore[has-type]
        url = old.url
        old.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        return await retry_transient(call, f"tracker store: {what}", self.retry_seconds)

    @staticmethod
    async def _off_loop(make: Callable[[], Awaitable[T]]) -> T:
        """Run a (blocking) store coroutine in a worker thread, off the event loop."""
        return await asyncio.to_thread(_run_on_thread_loop, make)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Retrieve the tracker, waiting (bounded) for a restarting database."""
        try:
            return await self._retrying(
                "read", lambda: self._off_loop(lambda: self._read(sender_id))
            )
        except Exception as error:
            self.failed("read", sender_id, error)
            raise

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """Retrieve every session of the tracker, waiting (bounded) for the database."""
        parent: Any = super()
        return await self._retrying(
            "read", lambda: self._off_loop(lambda: parent.retrieve_full_tracker(conversation_id))
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events, waiting (bounded) for a restarting database."""
        try:
            await self._retrying("write", lambda: self._off_loop(lambda: self._save(tracker)))
        except Exception as error:
            self.failed("write", tracker.sender_id, error)
            raise
