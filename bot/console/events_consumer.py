"""The console's RabbitMQ consumer: the inbox fed by the event broker instead of polling.

When ``EVENT_BROKER_URL`` is set (``make run-cluster`` sets it), every Rasa replica publishes
the masked events it stored (:mod:`bot.cluster.broker`, :mod:`bot.tracker_store`), and the
console reads them from a durable queue instead of polling the tracker store's ``events``
table. :meth:`bot.console.ingest.Syncer.sync` starts the consumer (one thread per console
process) and keeps reading feedback and left messages itself.

- **Durable and acknowledged**: the queue is durable, messages are persistent, and a message
  is acknowledged only after its batch is committed to the console tables; a console that
  stops mid-batch gets the batch again.
- **Idempotent**: every event carries its tracker-store row id (``tracker_event_id``); a user
  message already in ``console_user_messages`` (or an inbox item with the same source key) is
  skipped, so a redelivered or re-published event never counts twice.
- **Catches up**: after every (re)connection and every ``EVENT_BROKER_RECONCILE_SECONDS``,
  user events of the tracker store that the queue never delivered (published while
  RabbitMQ was away by a replica that then died, or before the console's queue existed) are
  read from the tracker store by id and stored the same way. This is a cheap id-only scan
  from the last reconciled id, not a poll of the events' contents.

Settings: ``EVENT_BROKER_URL`` (``amqp://user:pass@host:5672/``), ``EVENT_BROKER_QUEUE``
(``ehuzheng_console_events``), ``EVENT_BROKER_EXCHANGE`` (``ehuzheng-events``),
``EVENT_BROKER_RECONCILE_SECONDS`` (300).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.console import grouping, tracker
from bot.console.models import ConsoleItem, ConsoleState, ConsoleUserMessage

if TYPE_CHECKING:
    from bot.console.ingest import Syncer

logger = logging.getLogger(__name__)

BATCH = 500
BATCH_WAIT_S = 0.2
RECONCILE_KEY = "broker_reconciled_id"
RECONCILE_OVERLAP = 200
#: While RabbitMQ is unreachable, catch up from the tracker store this often (seconds).
OFFLINE_RECONCILE_S = 10.0


@dataclass(frozen=True)
class BrokerSettings:
    """Where the console's queue is.

    Attributes:
        url: AMQP URL of RabbitMQ.
        queue: the console's durable queue (bound to the exchange).
        exchange: the fanout exchange the replicas publish to.
        reconcile_s: seconds between two catch-up scans of the tracker store.
    """

    url: str
    queue: str = "ehuzheng_console_events"
    exchange: str = "ehuzheng-events"
    reconcile_s: float = 300.0

    @classmethod
    def from_env(cls) -> BrokerSettings | None:
        """The settings, or None when no broker is configured."""
        url = os.environ.get("EVENT_BROKER_URL", "").strip()
        if not url:
            return None
        return cls(
            url=url,
            queue=os.environ.get("EVENT_BROKER_QUEUE") or cls.queue,
            exchange=os.environ.get("EVENT_BROKER_EXCHANGE") or cls.exchange,
            reconcile_s=float(os.environ.get("EVENT_BROKER_RECONCILE_SECONDS") or 300),
        )


def _row(event: dict[str, Any]) -> SimpleNamespace:
    """An ``events``-row look-alike of a published user event (for :mod:`.tracker`)."""
    intent = (event.get("parse_data") or {}).get("intent") or {}
    return SimpleNamespace(
        id=int(event["tracker_event_id"]),
        sender_id=str(event["sender_id"]),
        timestamp=event.get("timestamp"),
        intent_name=intent.get("name") if isinstance(intent, dict) else None,
        data=json.dumps(event, ensure_ascii=False),
    )


def parse_user_events(bodies: list[bytes]) -> list[tracker.UserMessage]:
    """The user messages among raw queue messages (others and malformed ones are skipped)."""
    messages: list[tracker.UserMessage] = []
    for body in bodies:
        try:
            event = json.loads(body)
            if not isinstance(event, dict) or event.get("event") != "user":
                continue
            messages.append(tracker.to_user_message(_row(event)))
        except (ValueError, KeyError, TypeError):
            logger.warning("event consumer: skipped a malformed message (%d bytes)", len(body))
    return messages


class EventConsumer:
    """Consume the queue into the console tables (in its own thread; see module docs).

    Args:
        syncer: the console's syncer (database handles, settings, row helpers).
        settings: where the queue is.
    """

    def __init__(self, syncer: Syncer, settings: BrokerSettings) -> None:
        """Prepare; :meth:`start` runs it."""
        self.syncer = syncer
        self.db = syncer.db
        self.settings = settings
        self.stored = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- storing (idempotent) ------------------------------------------------------------------

    def store(self, messages: list[tracker.UserMessage]) -> int:
        """Store user messages not stored yet; return how many were new."""
        if not messages:
            return 0
        messages = sorted({m.event_id: m for m in messages}.values(), key=lambda m: m.event_id)
        with self.db.sync_lock, self.db.session() as session:
            ids = [m.event_id for m in messages]
            present = set(
                session.scalars(
                    sa.select(ConsoleUserMessage.event_id).where(
                        ConsoleUserMessage.event_id.in_(ids)
                    )
                )
            )
            fresh = [m for m in messages if m.event_id not in present]
            if not fresh:
                return 0
            from bot.console.ingest import classify

            classified = [(m, classify(m, self.syncer.settings.low_confidence)) for m in fresh]
            flagged = [m for m, flags in classified if any(flags.values())]
            in_form: set[int] = set()
            engine = self.db.tracker_engine
            if flagged and engine is not None:
                with engine.connect() as conn:
                    in_form = tracker.form_answers(conn, flagged)
            items = []
            for message, flags in classified:
                if message.event_id in in_form:
                    flags = dict.fromkeys(flags, False)
                session.add(
                    ConsoleUserMessage(
                        event_id=message.event_id,
                        sender_id=message.sender_id,
                        day=self.syncer.day(message.timestamp),
                        is_fallback=flags["is_fallback"],
                        is_unanswered=any(flags.values()),
                    )
                )
                if any(flags.values()):
                    items.append(self.syncer.item_row(message, flags))
            keys = [r["source_key"] for r in items]
            existing = set(
                session.scalars(
                    sa.select(ConsoleItem.source_key).where(ConsoleItem.source_key.in_(keys))
                )
            )
            items = [r for r in items if r["source_key"] not in existing]
            if items:
                groups = grouping.register_texts(
                    session, {r["norm_text"]: r["occurred_at"] for r in reversed(items)}
                )
                for row in items:
                    session.add(ConsoleItem(cluster_key=groups[row["norm_text"]], **row))
        self.stored += len(fresh)
        return len(fresh)

    def reconcile(self) -> int:
        """Store the tracker store's user events the queue did not deliver; return how many."""
        engine = self.db.tracker_engine
        if engine is None or not self.db.has_table(engine, "events"):
            return 0
        with self.db.session() as session:
            row = session.get(ConsoleState, RECONCILE_KEY)
            start = max(0, int(row.value) - RECONCILE_OVERLAP) if row is not None else 0
        added, last = 0, start
        events = tracker.events
        while True:
            with engine.connect() as conn:
                ids = list(
                    conn.scalars(
                        sa.select(events.c.id)
                        .where(events.c.id > last, events.c.type_name == "user")
                        .order_by(events.c.id)
                        .limit(BATCH)
                    )
                )
                if not ids:
                    break
                with self.db.session() as session:
                    known = set(
                        session.scalars(
                            sa.select(ConsoleUserMessage.event_id).where(
                                ConsoleUserMessage.event_id.in_(ids)
                            )
                        )
                    )
                missing = [i for i in ids if i not in known]
                rows = conn.execute(sa.select(events).where(events.c.id.in_(missing))).all()
            added += self.store([tracker.to_user_message(r) for r in rows])
            last = ids[-1]
        with self.db.session() as session:
            state = session.get(ConsoleState, RECONCILE_KEY)
            if state is None:
                session.add(ConsoleState(key=RECONCILE_KEY, value=str(last)))
            elif int(state.value) < last:
                state.value = str(last)
        if added:
            logger.warning(
                "event consumer: caught up %d user messages from the tracker store", added
            )
        return added

    # -- the consumer thread -------------------------------------------------------------------

    def start(self) -> None:
        """Run the consumer in a daemon thread (no-op while it runs)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), name="event-consumer", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the consumer thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the consumer thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    async def _run(self) -> None:
        from bot.cluster.amqp import quiet_amqp_errors

        loop = asyncio.get_running_loop()
        quiet_amqp_errors(loop)
        delay, last_reconcile = 0.5, 0.0
        while not self._stop.is_set():
            try:
                await self._consume()
                delay = 0.5
            except Exception as err:  # noqa: BLE001 - RabbitMQ or a database away: retry
                logger.error("event consumer: %s: %s; retrying", type(err).__name__, err)
                self.connected.clear()
                if loop.time() - last_reconcile >= OFFLINE_RECONCILE_S:
                    # RabbitMQ away: keep the inbox current from the tracker store meanwhile.
                    last_reconcile = loop.time()
                    try:
                        await loop.run_in_executor(None, self.reconcile)
                    except Exception:  # noqa: BLE001 - the database may be away too
                        logger.exception("event consumer: catch-up from the tracker failed")
                await asyncio.sleep(delay)
                delay = min(10.0, delay * 2)

    async def _consume(self) -> None:
        import aio_pika

        loop = asyncio.get_running_loop()
        connection = await aio_pika.connect(self.settings.url, timeout=5)
        try:
            await self._read(loop, connection)
        finally:
            try:
                await asyncio.wait_for(connection.close(), timeout=3)
            except Exception:  # noqa: BLE001 - it may be dead already
                pass

    async def _read(self, loop: asyncio.AbstractEventLoop, connection: Any) -> None:
        import aio_pika

        channel = await connection.channel()
        await channel.set_qos(prefetch_count=BATCH)
        exchange = await channel.declare_exchange(
            self.settings.exchange, aio_pika.ExchangeType.FANOUT
        )
        queue = await channel.declare_queue(self.settings.queue, durable=True)
        await queue.bind(exchange, "")
        await loop.run_in_executor(None, self.reconcile)
        self.connected.set()
        logger.info("event consumer: reading queue %s", self.settings.queue)
        next_reconcile = loop.time() + self.settings.reconcile_s
        inbox: asyncio.Queue[Any] = asyncio.Queue()

        async def receive(message: Any) -> None:
            inbox.put_nowait(message)

        await queue.consume(receive)
        # (aio_pika's Connection.is_closed stays False when the server goes away; the
        # channel's does not.)
        while not self._stop.is_set() and not channel.is_closed:
            batch = await self._next_batch(inbox)
            if batch:
                await loop.run_in_executor(
                    None, self.store, parse_user_events([m.body for m in batch])
                )
                await asyncio.wait_for(batch[-1].ack(multiple=True), timeout=5)
            if loop.time() >= next_reconcile:
                await loop.run_in_executor(None, self.reconcile)
                next_reconcile = loop.time() + self.settings.reconcile_s
        if channel.is_closed and not self._stop.is_set():
            raise ConnectionError("RabbitMQ closed the connection")

    @staticmethod
    async def _next_batch(inbox: asyncio.Queue[Any]) -> list[Any]:
        batch: list[Any] = []
        try:
            batch.append(await asyncio.wait_for(inbox.get(), timeout=1.0))
        except TimeoutError:
            return batch
        while len(batch) < BATCH:
            try:
                batch.append(await asyncio.wait_for(inbox.get(), timeout=BATCH_WAIT_S))
            except TimeoutError:
                break
        return batch


_consumers: dict[int, EventConsumer] = {}
_consumers_lock = threading.Lock()


def consume_if_configured(syncer: Syncer) -> bool:
    """Keep the queue consumer of ``syncer``'s console running if a broker is configured.

    Args:
        syncer: the console's syncer.

    Returns:
        True when the inbox is fed by the queue (the caller then skips polling the tracker
        store), False when no broker is configured.
    """
    settings = BrokerSettings.from_env()
    if settings is None:
        return False
    with _consumers_lock:
        consumer = _consumers.get(id(syncer.db))
        if consumer is None:
            consumer = _consumers[id(syncer.db)] = EventConsumer(syncer, settings)
        consumer.start()
    return True
