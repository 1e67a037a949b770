"""Rasa SQL tracker store that never stores personal numbers in full.

Configured in ``endpoints.yml``::

    tracker_store:
      type: bot.tracker_store.MaskingSQLTrackerStore
      url: "${TRACKER_DATABASE_URL}"     # sqlite:///var/tracker.db or postgresql://…

Every event is serialised as Rasa would, then every string in it (user text, parse data,
entity values, slot values, bot text) is passed through :func:`bot.privacy.mask_data`
before the row is written. Phone and ID numbers therefore reach the actions in the turn in
which they were typed, but only the masked form is ever kept.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import make_url

from bot.privacy import mask_data

logger = logging.getLogger(__name__)

#: ``session.info`` key of the rows inserted in a transaction, published on commit.
_INSERTED = "bot.tracker_store.inserted"


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
        from bot import rasa_speedups

        rasa_speedups.install()  # the server starts here: see bot/rasa_speedups.py
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

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, masked."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = mask_data(event.as_dict())
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
