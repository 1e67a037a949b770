"""Events reach RabbitMQ masked, after they are stored, and survive a RabbitMQ outage."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.cluster.broker import ReliablePikaEventBroker
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

PHONE, ID_NUMBER = "13812345678", "11010519491231002X"
DOMAIN = "slots:\n  booker_phone:\n    type: text\n    mappings: []\n"


class CollectingBroker:
    """Stands in for RabbitMQ in the store tests: keeps what is published."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any], headers: Any = None) -> None:
        self.events.append(event)

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None


def _turn(sender: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_listen"),
            UserUttered(
                f"我的电话{PHONE}，身份证{ID_NUMBER}",
                intent={"name": "inform", "confidence": 0.9},
                entities=[{"entity": "phone_number", "value": PHONE, "start": 4, "end": 15}],
            ),
            SlotSet("booker_phone", PHONE),
            BotUttered(f"已记录您的电话{PHONE}"),
            ActionExecuted("action_listen"),
        ],
    )


def _store(tmp_path: Any, broker: CollectingBroker) -> MaskingSQLTrackerStore:
    return MaskingSQLTrackerStore(
        domain=Domain.from_yaml(DOMAIN),
        host=f"sqlite:///{tmp_path / 'tracker.db'}",
        event_broker=broker,  # type: ignore[arg-type]
    )


async def test_stored_events_are_published_masked_with_their_row_ids(tmp_path) -> None:
    broker = CollectingBroker()
    store = _store(tmp_path, broker)
    tracker = _turn("citizen-1")
    await store.save(tracker)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, type_name, data FROM events ORDER BY id")).all()
    assert [e["tracker_event_id"] for e in broker.events] == [r.id for r in rows]
    assert [e["event"] for e in broker.events] == [r.type_name for r in rows]
    assert all(e["sender_id"] == "citizen-1" for e in broker.events)
    blob = json.dumps(broker.events, ensure_ascii=False)
    assert PHONE not in blob and ID_NUMBER not in blob
    assert "138****5678" in blob
    # A second save publishes only what is new.
    tracker.update(UserUttered("谢谢", intent={"name": "thanks", "confidence": 0.99}))
    await store.save(tracker)
    assert [e["event"] for e in broker.events[len(rows) :]] == ["user"]
    assert broker.events[-1]["tracker_event_id"] > rows[-1].id


async def test_a_failed_write_publishes_nothing(tmp_path) -> None:
    broker = CollectingBroker()
    store = _store(tmp_path, broker)

    def refuse(_session: Any) -> None:
        raise RuntimeError("disk full")

    sa.event.listen(store.sessionmaker, "before_commit", refuse)
    with pytest.raises(RuntimeError):
        await store.save(_turn("citizen-2"))
    sa.event.remove(store.sessionmaker, "before_commit", refuse)
    assert broker.events == []
    await store.save(_turn("citizen-2"))
    assert len(broker.events) == 5


# -- the broker against the real RabbitMQ ------------------------------------------------------


@pytest.fixture()
def rabbit() -> Iterator[RabbitNames]:
    if not reachable(*RABBITMQ):
        missing("RabbitMQ at 127.0.0.1:5672")
    names = RabbitNames(exchange=unique("test-ex"), queue=unique("test_q"))
    yield names
    delete_rabbit_names(names)


def _config(port: int, names: RabbitNames) -> EndpointConfig:
    return broker_config(port, names)


async def _drain(names: RabbitNames, expected: int, timeout: float = 20.0) -> list[dict]:
    """Every message in the queue, acknowledged, once ``expected`` arrived (or timeout)."""
    got: list[dict] = []
    conn = await aio_pika.connect(host=RABBITMQ[0], port=RABBITMQ[1])
    async with conn:
        channel = await conn.channel()
        queue = await channel.declare_queue(names.queue, durable=True)
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            message = await queue.get(fail=False)
            if message is None:
                if len(got) >= expected:
                    break
                await asyncio.sleep(0.05)
                continue
            got.append(json.loads(message.body))
            await message.ack()
    return got


async def _wait(check: Any, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_no_event_is_lost_while_rabbitmq_is_down(rabbit: RabbitNames) -> None:
    proxy = TcpProxy(*RABBITMQ)
    broker = await ReliablePikaEventBroker.from_endpoint_config(_config(proxy.port, rabbit))
    assert broker is not None
    try:
        await _wait(broker.is_ready)
        for i in range(300):
            broker.publish({"event": "user", "n": i})
        await _wait(lambda: broker.buffered == 0)
        proxy.cut()  # RabbitMQ "stops"
        for i in range(300, 600):
            broker.publish({"event": "user", "n": i})
            if i % 50 == 0:
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        assert broker.buffered > 0 and not broker.is_ready()
        proxy.restore()  # and comes back
        await _wait(lambda: broker.buffered == 0)
    finally:
        await broker.close()
        proxy.close()
    got = await _drain(rabbit, 600)
    numbers = [g["n"] for g in got]
    assert set(numbers) == set(range(600))  # none lost (a resent one may come twice)
    assert len(numbers) - len(set(numbers)) <= 200


async def test_a_replica_starts_while_rabbitmq_is_down(rabbit: RabbitNames) -> None:
    proxy = TcpProxy(*RABBITMQ)
    proxy.cut()
    started = asyncio.get_running_loop().time()
    broker = await ReliablePikaEventBroker.from_endpoint_config(_config(proxy.port, rabbit))
    assert broker is not None
    assert asyncio.get_running_loop().time() - started < 1.0  # never waits for RabbitMQ
    try:
        for i in range(20):
            broker.publish({"event": "bot", "n": i})
        await asyncio.sleep(1.0)
        assert broker.buffered == 20
        proxy.restore()
        await _wait(lambda: broker.buffered == 0)
    finally:
        await broker.close()
        proxy.close()
    got = await _drain(rabbit, 20)
    assert [g["n"] for g in got] == list(range(20))  # in order
