"""Rasa SQL tracker store that never stores personal numbers in full.

Configured in ``endpoints.yml``::

    tracker_store:
      type: bot.tracker_store.MaskingSQLTrackerStore
      url: "${TRACKER_DATABASE_URL}"     # sqlite:///var/tracker.db or postgresql://…

Every event is serialised as Rasa would, then every string in it (user text, parse data,
entity values, slot values, bot text) is passed through :func:`bot.numbers.mask_data`
before the row is written. Phone and ID numbers therefore reach the actions in the turn in
which they were typed, but only the masked form is ever kept.

Nothing a turn did is dropped when two turns of one conversation overlap. Rasa writes "the
tracker's events beyond as many as are stored", so a turn that ran beside another (the lock
store failed, or a turn outlived its lock) lost its own message and replies behind the other
turn's. Here the store remembers how many events each tracker held when it was read and
writes every event added since then; an overlap is logged.

A failure never stops the process. Rasa's own ``session_scope`` takes *any* ``ValueError``
(``UnicodeEncodeError`` from a lone surrogate is one) for a missing PostgreSQL schema and calls
``sys.exit(1)``; here only a real missing schema is reported as such, strings that no database
can store (lone UTF-16 surrogates, NUL) are replaced before writing, and an error while
saving is logged (masked, with the conversation id) and raised to the channel, which answers
"系统繁忙" while the server keeps serving.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, ensure_schema_exists
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import make_url

from bot.numbers import mask_data

logger = logging.getLogger(__name__)

#: ``session.info`` key of the rows inserted in a transaction, published on commit.
_INSERTED = "bot.tracker_store.inserted"
#: Tracker attribute set when it is read or saved: (how many of its events are stored, how
#: many the database then held since the session's start).
_STORED = "_ehuzheng_stored_events"


def _remember_stored(tracker: DialogueStateTracker) -> None:
    events = list(tracker.events)
    starts = [i for i, event in enumerate(events) if isinstance(event, SessionStarted)]
    setattr(tracker, _STORED, (len(events), len(events) - (starts[-1] if starts else 0)))


class TrackerStoreUnavailable(RuntimeError):
    """The conversation store could not be read or written (the turn fails, the server lives)."""


@dataclass
class TurnHealth:
    """What the conversation store did during one turn (see :func:`watch_turn`).

    Attributes:
        store_failed: a read or write failed.
        saved_events: the events of the tracker as the turn saved it (None: not saved), so
            the channel need not read back what was just written.
    """

    store_failed: bool = False
    saved_events: list[Any] | None = None


_TURN: ContextVar[TurnHealth | None] = ContextVar("ehuzheng_turn_health", default=None)


def watch_turn() -> TurnHealth:
    """Start watching the store for the turn about to run in this context.

    Rasa wraps every tracker store in a ``FailSafeTrackerStore`` that swallows errors and
    carries on with an empty in-memory tracker, so the turn would be answered without its
    context and not be saved. A channel calls this before handing a message to Rasa and,
    when ``store_failed`` is set afterwards, answers "系统繁忙" instead.

    Returns:
        The turn's health, updated by the store.
    """
    health = TurnHealth()
    _TURN.set(health)
    return health


def _note_saved(tracker: DialogueStateTracker) -> None:
    health = _TURN.get()
    if health is not None:
        health.saved_events = list(tracker.events)


def _note_failure() -> None:
    health = _TURN.get()
    if health is not None:
        health.store_failed = True


def storable(value: Any) -> Any:
    """Replace what no database can store: lone UTF-16 surrogates and NUL characters.

    Args:
        value: a JSON-like structure (a serialised event).

    Returns:
        A copy whose strings encode as UTF-8 and hold no NUL.
    """
    if isinstance(value, str):
        if value.isascii():
            return value.replace("\x00", "")
        return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    return value


class MaskingSQLTrackerStore(SQLTrackerStore):
    """A :class:`SQLTrackerStore` taking a database URL and masking events before storing.

    Args:
        domain: the assistant's domain.
        url: SQLAlchemy URL, e.g. ``sqlite:///var/tracker.db`` or
            ``postgresql://postgres@127.0.0.1:5432/ehuzheng``. Relative SQLite paths are
            relative to the working directory.
        event_broker: optional event broker (events sent to it are masked too).
        **kwargs: passed to :class:`SQLTrackerStore` (``dialect``, ``host`` … when no URL).
    """

    def __init__(
        self,
        domain: Domain | None = None,
        url: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        """Create the store from a URL (or Rasa's usual dialect/host/db arguments)."""
        # Rasa passes the endpoint's `url` as `host` to custom tracker stores.
        host = kwargs.get("host")
        if url is None and isinstance(host, str) and "://" in host:
            url = kwargs.pop("host")
        if url:
            parsed = make_url(url)
            kwargs.update(
                dialect=parsed.drivername,
                host=parsed.host,
                port=parsed.port,
                db=parsed.database,
                username=parsed.username,
                password=parsed.password,
            )
            if parsed.drivername.startswith("sqlite") and parsed.database:
                from pathlib import Path

                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(domain=domain, event_broker=event_broker, **kwargs)
        from bot import rasa_speedups

        rasa_speedups.install()  # also under a plain `rasa run` / `rasa shell`

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Arrange for the stored events to reach the event broker, masked, once committed.

        Rasa's version publishes the tracker's new events *before* writing them, unmasked,
        and reads the whole tracker again to find them. Here nothing is sent before the
        write: every ``events`` row is published after its transaction commits, exactly as
        stored (masked), with its row id as ``tracker_event_id`` (the consumer's idempotency
        key and order). A failed write publishes nothing.
        """
        if self.event_broker is not None:
            _publish_rows_on_commit(self)

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Any]:
        """A session; errors are raised (never ``sys.exit``), a failed transaction rolled back."""
        session = self.sessionmaker()
        try:
            try:
                ensure_schema_exists(session)
            except ValueError as error:
                raise TrackerStoreUnavailable(f"database schema {error} not found") from None
            yield session
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

    @staticmethod
    def failed(what: str, sender_id: str, error: BaseException) -> None:
        """Log (masked, with the conversation) and note for the channel that the store failed.

        Args:
            what: ``read`` or ``write``.
            sender_id: the conversation.
            error: what went wrong.
        """
        _note_failure()
        logger.error("could not %s conversation %s…: %s", what, sender_id[:8], type(error).__name__)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, masked; a failure is logged and raised, not fatal."""
        try:
            await self._save(tracker)
        except Exception as error:
            self.failed("write", tracker.sender_id, error)
            raise

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Read the latest session of a conversation; a failure is noted for the channel."""
        try:
            return await self._read(sender_id)
        except Exception as error:
            self.failed("read", sender_id, error)
            raise

    async def _read(self, sender_id: str) -> DialogueStateTracker | None:
        tracker = await SQLTrackerStore.retrieve(self, sender_id)
        if tracker is not None:
            _remember_stored(tracker)
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Any]:
        """The events this tracker gained since it was read (or last saved).

        Rasa's version skips as many events as are stored now: had another turn stored its
        events meanwhile, this turn's would be skipped in their place. Here they are written
        after the other turn's. A tracker this store never read (a new conversation) is
        treated as Rasa does.
        """
        stored_now = self._event_query(
            session, tracker.sender_id, fetch_events_from_all_sessions=False
        ).count()
        remembered = getattr(tracker, _STORED, None)
        if remembered is None:
            return itertools.islice(tracker.events, stored_now, None)
        start, stored_then = remembered
        if stored_now != stored_then:
            logger.warning(
                "conversation %s…: another turn was stored while this one ran (%d events "
                "then, %d now); this turn's events are written after it",
                tracker.sender_id[:8],
                stored_then,
                stored_now,
            )
        return itertools.islice(tracker.events, start, None)

    async def _save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = storable(mask_data(event.as_dict()))
                intent = (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data, ensure_ascii=False),
                    )
                )
            session.commit()
        _remember_stored(tracker)
        _note_saved(tracker)
        logger.debug("Tracker stored (masked).")


def _remember_inserted(_mapper: Any, _connection: Any, row: Any) -> None:
    session = sa.orm.object_session(row)
    if session is not None:
        session.info.setdefault(_INSERTED, []).append((row.id, row.sender_id, row.data))


def _forget_inserted(session: Any, *_: Any) -> None:
    session.info.pop(_INSERTED, None)


def _publish_rows_on_commit(store: MaskingSQLTrackerStore) -> None:
    """Install (once per store) the hooks that publish committed ``events`` rows."""
    if getattr(store, "_publishes_on_commit", False):
        return
    if not sa.event.contains(store.SQLEvent, "after_insert", _remember_inserted):
        sa.event.listen(store.SQLEvent, "after_insert", _remember_inserted)

    def publish(session: Any) -> None:
        broker = store.event_broker
        for event_id, sender_id, data in session.info.pop(_INSERTED, []):
            if broker is not None:
                body = {"sender_id": sender_id, **json.loads(data), "tracker_event_id": event_id}
                broker.publish(body)

    sa.event.listen(store.sessionmaker, "after_commit", publish)
    sa.event.listen(store.sessionmaker, "after_soft_rollback", _forget_inserted)
    store._publishes_on_commit = True  # type: ignore[attr-defined]
