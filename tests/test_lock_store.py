"""Lock stores: in-process by default; with Redis, turns of one conversation take turns.

The Redis tests run several stores (each with its own connections, as replicas have) in
threads against the machine's Redis, under a unique key prefix removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import read_endpoint_config

from bot.lock_store import AtomicRedisLockStore
from bot.settings import ATOMIC_REDIS_LOCK_STORE
from tests.cluster.services import missing

REPLICAS = 4


def _endpoint_env(monkeypatch: pytest.MonkeyPatch, lock_store_type: str) -> None:
    monkeypatch.setenv("LOCK_STORE_TYPE", lock_store_type)
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:///:memory:")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "test-token")  # endpoints.yml needs every variable


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test alone on the machine's Redis (its keys deleted after)."""
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError:
        missing("Redis at 127.0.0.1:6379")
    name = f"test{uuid.uuid4().hex[:12]}"
    yield name
    keys = client.keys(f"{name}:*")
    if keys:
        client.delete(*keys)


def _replicas(cls: type[RedisLockStore], prefix: str) -> list[RedisLockStore]:
    return [cls(host="127.0.0.1", port=6379, db=0, key_prefix=prefix) for _ in range(REPLICAS)]


def _in_threads(work: list) -> None:
    start = threading.Barrier(len(work))
    threads = [threading.Thread(target=lambda w=w: (start.wait(), w())) for w in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_redis_in_endpoints_yml_selects_the_atomic_store(monkeypatch) -> None:
    from bot import settings

    _endpoint_env(monkeypatch, "redis")
    # every variable apply_defaults writes is one monkeypatch restores after the test
    for name in [*settings.defaults(), *settings.SECRETS]:
        monkeypatch.setenv(name, os.environ.get(name, settings.defaults().get(name, "x")))
    monkeypatch.setattr(settings, "make_private", lambda _: None)
    monkeypatch.setattr(settings, "secret_value", lambda name, file, var: "x")
    settings.apply_defaults()
    assert os.environ["LOCK_STORE_TYPE"] == ATOMIC_REDIS_LOCK_STORE
    store = LockStore.create(read_endpoint_config("endpoints.yml", "lock_store"))
    assert isinstance(store, AtomicRedisLockStore)


def test_the_cluster_endpoints_use_the_atomic_store(monkeypatch) -> None:
    from bot.cluster.settings import cluster_defaults

    settings = {**cluster_defaults(), "REDIS_KEY_PREFIX": "ehzcheck", "ACTION_SERVER_TOKEN": "t"}
    settings["ACTION_ENDPOINT_URL"] = "http://127.0.0.1:5059/webhook"
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config("deploy/endpoints.cluster.yml", "lock_store")
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.key_prefix == "ehzcheck:lock:"
    assert store.red.connection_pool.connection_kwargs["socket_timeout"] == 2


def test_tickets_taken_at_once_by_replicas_are_all_different_and_all_kept(prefix) -> None:
    stores = _replicas(AtomicRedisLockStore, prefix)
    taken: list[int] = []

    def take(store: RedisLockStore) -> None:
        for _ in range(25):
            taken.append(store.issue_ticket("citizen", 60))

    _in_threads([lambda s=s: take(s) for s in stores])
    assert sorted(taken) == list(range(REPLICAS * 25))
    lock = stores[0].get_lock("citizen")
    assert lock is not None and len(lock.tickets) == REPLICAS * 25


def _overlaps(cls: type[RedisLockStore], prefix: str, lifetime: float = 30) -> tuple[int, int]:
    """Turns of one conversation run by REPLICAS stores at once: (overlaps seen, turns run)."""
    stores = _replicas(cls, prefix)
    inside = [0]
    overlaps = [0]
    done = [0]

    async def turns(store: RedisLockStore) -> None:
        for _ in range(6):
            try:
                async with store.lock("citizen", lifetime, wait_time_in_seconds=0.01):
                    inside[0] += 1
                    overlaps[0] += inside[0] > 1
                    await asyncio.sleep(0.02)
                    inside[0] -= 1
                    done[0] += 1
            except LockError:  # a ticket lost in Rasa's store: the turn is refused
                pass

    _in_threads([lambda s=s: asyncio.run(turns(s)) for s in stores])
    return overlaps[0], done[0]


def test_turns_of_one_conversation_on_several_replicas_never_overlap(prefix) -> None:
    overlaps, done = _overlaps(AtomicRedisLockStore, prefix)
    assert (overlaps, done) == (0, REPLICAS * 6)
    assert not redis.Redis(port=6379).keys(f"{prefix}:*"), "the lock outlived its last turn"


def test_rasas_own_redis_store_lets_replicas_overlap(prefix) -> None:
    """Why the atomic store exists: the same load on Rasa's store runs turns together."""
    for _ in range(5):  # a race: almost always on the first try
        overlaps, done = _overlaps(RedisLockStore, f"{prefix}x", lifetime=2)
        if overlaps or done < REPLICAS * 6:
            return
    pytest.fail("Rasa's RedisLockStore serialised every turn (has it become atomic?)")


def test_a_replica_that_died_holding_the_lock_blocks_only_until_its_ticket_expires(
    prefix,
) -> None:
    dead, alive = _replicas(AtomicRedisLockStore, prefix)[:2]
    dead.issue_ticket("citizen", 0.5)  # never gives it back
    started = time.monotonic()

    async def turn() -> None:
        async with alive.lock("citizen", 30, wait_time_in_seconds=0.05):
            pass

    asyncio.run(turn())
    assert 0.3 < time.monotonic() - started < 5


def test_without_redis_a_turn_is_refused_with_a_lock_error() -> None:
    store = AtomicRedisLockStore(host="127.0.0.1", port=1, socket_timeout=0.5)
    with pytest.raises(LockError):
        store.issue_ticket("citizen")


def test_default_is_the_in_process_lock_store(monkeypatch) -> None:
    _endpoint_env(monkeypatch, "in_memory")
    store = LockStore.create(read_endpoint_config("endpoints.yml", "lock_store"))
    assert type(store).__name__ == "InMemoryLockStore"
