"""The console reads its inbox from RabbitMQ: once each, and catching up after outages."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.cluster.broker import ReliablePikaEventBroker
from bot.console import events_consumer, ingest
from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.models import ConsoleItem, ConsoleUserMessage
from bot.tracker_store import MaskingSQLTrackerStore
from tests.cluster.services import (
    RABBITMQ,
    RabbitNames,
    broker_config,
    delete_rabbit_names,
    missing,
    reachable,
    unique,
)
from tests.cluster.tcp_proxy import TcpProxy

PROJECT = Path(__file__).resolve().parents[2]
PHONE = "13912345678"


@pytest.fixture()
def rabbit(monkeypatch: pytest.MonkeyPatch) -> Iterator[RabbitNames]:
    if not reachable(*RABBITMQ):
        missing("RabbitMQ at 127.0.0.1:5672")
    names = RabbitNames(exchange=unique("test-ex"), queue=unique("test_q"))
    monkeypatch.setenv("EVENT_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
    monkeypatch.setenv("EVENT_BROKER_QUEUE", names.queue)
    monkeypatch.setenv("EVENT_BROKER_EXCHANGE", names.exchange)
    yield names
    delete_rabbit_names(names)


@pytest.fixture()
def syncer(tmp_path: Path, rabbit: RabbitNames) -> Iterator[ingest.Syncer]:
    from bot.db import migrate

    app_url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate.upgrade(app_url)
    settings = ConsoleSettings(
        database_url=app_url,
        tracker_url=f"sqlite:///{tmp_path / 'tracker.db'}",
        project_dir=PROJECT,
        sync_interval=0,
    )
    syncer = ingest.Syncer(ConsoleDB(settings))
    yield syncer
    consumer = events_consumer._consumers.pop(id(syncer.db), None)
    if consumer is not None:
        consumer.stop(timeout=30)
        assert not consumer.running
    syncer.db.dispose()
    import threading

    print("THREADS", [t.name for t in threading.enumerate()])


def _store(tmp_path: Path, broker: object | None) -> MaskingSQLTrackerStore:
    return MaskingSQLTrackerStore(
        domain=Domain.empty(),
        host=f"sqlite:///{tmp_path / 'tracker.db'}",
        event_broker=broker,  # type: ignore[arg-type]
    )


def _turns(sender: str, texts: list[tuple[str, str, float]]) -> DialogueStateTracker:
    events: list = [ActionExecuted("action_listen")]
    for text, intent, confidence in texts:
        events += [
            UserUttered(text, intent={"name": intent, "confidence": confidence}),
            BotUttered("好的"),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events(sender, events)


CONVERSATION = [
    ("你好", "greet", 0.99),
    (f"我电话{PHONE}怎么查飞机票", "nlu_fallback", 0.31),  # unanswered: into the inbox
    ("身份证丢了怎么办", "faq", 0.95),
    ("护照怎么办", "out_of_scope", 0.9),  # unanswered (out of scope)
]


async def _broker(port: int, names: RabbitNames) -> ReliablePikaEventBroker:
    broker = await ReliablePikaEventBroker.from_endpoint_config(broker_config(port, names))
    assert broker is not None
    return broker


def _counts(syncer: ingest.Syncer) -> tuple[int, int, int]:
    with syncer.db.session() as session:
        users = session.scalar(sa.select(sa.func.count()).select_from(ConsoleUserMessage))
        distinct = session.scalar(
            sa.select(sa.func.count(sa.distinct(ConsoleUserMessage.event_id)))
        )
        items = session.scalar(sa.select(sa.func.count()).select_from(ConsoleItem))
    return int(users or 0), int(distinct or 0), int(items or 0)


def _tracker_user_events(tmp_path: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    with engine.connect() as conn:
        count = conn.scalar(sa.text("SELECT count(*) FROM events WHERE type_name = 'user'"))
    engine.dispose()
    return int(count or 0)


async def _until(check, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_the_inbox_is_fed_by_the_queue_once_per_message(tmp_path, syncer, rabbit) -> None:
    proxy = TcpProxy(*RABBITMQ)
    broker = await _broker(proxy.port, rabbit)
    published: list[dict] = []
    real_publish = broker.publish

    def keep(event: dict, headers: object = None) -> None:
        published.append(event)
        real_publish(event)

    broker.publish = keep  # type: ignore[method-assign]
    store = _store(tmp_path, broker)
    try:
        syncer.sync()  # starts the consumer instead of polling the tracker store
        consumer = events_consumer._consumers[id(syncer.db)]
        await _until(consumer.connected.is_set)
        for n in range(10):
            await store.save(_turns(f"c{n}-{uuid.uuid4().hex[:6]}", CONVERSATION))
        await _until(lambda: _counts(syncer)[0] == 40)
        assert _counts(syncer) == (40, 40, 20)  # every message once; 2 of 4 unanswered
        # Every event delivered a second time (a resend after a lost confirm): no change.
        for event in list(published):
            real_publish(event)
        await _until(lambda: broker.buffered == 0)
        await asyncio.sleep(1.5)
        assert _counts(syncer) == (40, 40, 20)
        with syncer.db.session() as session:
            texts = list(session.scalars(sa.select(ConsoleItem.text)))
        assert all(PHONE not in t for t in texts) and any("139****5678" in t for t in texts)
    finally:
        await broker.close()
        proxy.close()


async def test_the_console_catches_up_after_every_kind_of_outage(
    tmp_path, syncer, rabbit, monkeypatch
) -> None:
    proxy = TcpProxy(*RABBITMQ)
    # Replicas and console both reach RabbitMQ through the proxy: a cut stops it for both.
    monkeypatch.setenv("EVENT_BROKER_URL", f"amqp://guest:guest@127.0.0.1:{proxy.port}/")
    broker = await _broker(proxy.port, rabbit)
    store = _store(tmp_path, broker)
    try:
        syncer.sync()
        consumer = events_consumer._consumers[id(syncer.db)]
        await _until(consumer.connected.is_set)
        await store.save(_turns("before", CONVERSATION))
        await _until(lambda: _counts(syncer)[0] == 4)

        consumer.stop()  # 1. the console is down: the durable queue keeps the events
        await store.save(_turns("console-down", CONVERSATION))
        proxy.cut()  # 2. RabbitMQ is down: the replica buffers
        await store.save(_turns("rabbitmq-down", CONVERSATION))
        # 3. A replica that stored events but died before publishing them.
        await _store(tmp_path, None).save(_turns("lost-replica", CONVERSATION))
        await asyncio.sleep(0.5)
        assert _counts(syncer)[0] == 4

        syncer.sync()  # the console is back
        # The queue brings "console-down"; the catch-up from the tracker store brings the
        # two conversations RabbitMQ never got.
        await _until(lambda: _counts(syncer)[0] == 16)
        proxy.restore()  # RabbitMQ is back: the buffered events arrive (already known)
        await _until(lambda: broker.buffered == 0)
        await asyncio.sleep(1.5)
        users, distinct, items = _counts(syncer)
        assert users == distinct == _tracker_user_events(tmp_path) == 16
        assert items == 8

        # 4. RabbitMQ stops while the console is connected, and the chat goes on.
        await _until(consumer.connected.is_set)
        proxy.cut()
        await store.save(_turns("while-cut", CONVERSATION))
        await asyncio.sleep(1.0)
        proxy.restore()
        await _until(lambda: _counts(syncer)[0] == 20)
        await _until(lambda: broker.buffered == 0)
        await asyncio.sleep(1.5)
        assert _counts(syncer) == (20, 20, 10)
    finally:
        await broker.close()
        proxy.close()


def test_malformed_queue_messages_are_skipped() -> None:
    good = (
        b'{"event": "user", "sender_id": "s", "tracker_event_id": 7, "text": "hi",'
        b' "timestamp": 1.0, "parse_data": {"intent": {"name": "greet", "confidence": 1}}}'
    )
    bodies = [b"not json", b"[]", b'{"event": "user"}', b'{"event": "bot"}', good]
    messages = events_consumer.parse_user_events(bodies)
    assert [(m.event_id, m.sender_id, m.intent) for m in messages] == [(7, "s", "greet")]
