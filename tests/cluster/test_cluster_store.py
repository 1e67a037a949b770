"""The replicas' tracker store: off the event loop, and riding out a PostgreSQL restart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.cluster.tracker_store import ClusterTrackerStore
from tests.cluster.services import PostgresServer


class Collecting:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any], headers: Any = None) -> None:
        self.events.append(event)


def _turn(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(UserUttered(text, intent={"name": "greet", "confidence": 0.9}))
    tracker.update(BotUttered("您好"))
    tracker.update(ActionExecuted("action_listen"))


@pytest.fixture()
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.init()
    server.start()
    yield server
    server.remove()


async def test_reads_and_writes_leave_the_event_loop_free(tmp_path) -> None:
    broker = Collecting()
    store = ClusterTrackerStore(
        domain=Domain.empty(),
        host=f"sqlite:///{tmp_path / 'tracker.db'}",
        event_broker=broker,  # type: ignore[arg-type]
    )
    threads: set[int] = set()
    sa.event.listen(
        store.engine, "before_cursor_execute", lambda *a, **k: threads.add(threading.get_ident())
    )
    tracker = DialogueStateTracker.from_events("c1", [ActionExecuted("action_listen")])
    for n in range(3):
        _turn(tracker, f"消息{n}")
        await store.save(tracker)
    again = await store.retrieve("c1")
    assert again is not None and [e.as_dict() for e in again.events] == [
        e.as_dict() for e in tracker.events
    ]
    assert threads and threading.get_ident() not in threads  # never on the loop's thread
    ids = [e["tracker_event_id"] for e in broker.events]
    assert ids == sorted(ids) and len(ids) == 10  # published once each, in order


async def test_a_database_restart_delays_a_write_instead_of_losing_it(postgres) -> None:
    url = postgres.create_database("tracker")
    store = ClusterTrackerStore(domain=Domain.empty(), host=url, retry_seconds=30)
    tracker = DialogueStateTracker.from_events("c2", [ActionExecuted("action_listen")])
    _turn(tracker, "第一句")
    await store.save(tracker)
    postgres.stop("fast")
    restart = threading.Timer(1.5, postgres.start)
    restart.start()
    _turn(tracker, "重启时的一句")
    started = asyncio.get_running_loop().time()
    await store.save(tracker)  # waits for the database instead of failing
    assert asyncio.get_running_loop().time() - started >= 1.0
    restart.join()
    stored = await store.retrieve("c2")
    assert stored is not None
    texts = [e.text for e in stored.events if isinstance(e, UserUttered)]
    assert texts == ["第一句", "重启时的一句"]
    store.engine.dispose()


async def test_a_long_outage_still_fails_the_turn(postgres) -> None:
    url = postgres.create_database("tracker")
    store = ClusterTrackerStore(domain=Domain.empty(), host=url, retry_seconds=1)
    postgres.stop("fast")
    with pytest.raises(sa.exc.OperationalError):
        await store.retrieve("c3")
    store.engine.dispose()
