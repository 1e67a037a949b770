"""Production lock store: the endpoints.yml settings give a working Redis lock store."""

import asyncio
import uuid

import pytest
import redis
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.utils.endpoints import read_endpoint_config


def _redis_up() -> bool:
    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except redis.exceptions.RedisError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis at 127.0.0.1:6379 is not reachable")
async def test_redis_lock_store_from_endpoints(monkeypatch):
    monkeypatch.setenv("LOCK_STORE_TYPE", "redis")
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:///:memory:")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "test-token")  # endpoints.yml needs every variable
    config = read_endpoint_config("endpoints.yml", "lock_store")
    store = LockStore.create(config)
    assert isinstance(store, RedisLockStore)
    store.key_prefix = f"test_{uuid.uuid4().hex}:"
    conversation = "citizen-lock"
    order = []

    async def turn(n):
        async with store.lock(conversation, wait_time_in_seconds=0.05):
            order.append(f"start{n}")
            await asyncio.sleep(0.2)
            order.append(f"end{n}")

    # two turns of the same conversation never interleave (as with two Rasa replicas)
    await asyncio.gather(turn(1), turn(2))
    assert order in (["start1", "end1", "start2", "end2"], ["start2", "end2", "start1", "end1"])
    keys = store.red.keys(f"{store.key_prefix}*")
    if keys:
        store.red.delete(*keys)


def test_default_is_the_in_process_lock_store(monkeypatch):
    monkeypatch.setenv("LOCK_STORE_TYPE", "in_memory")
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:///:memory:")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "test-token")  # endpoints.yml needs every variable
    store = LockStore.create(read_endpoint_config("endpoints.yml", "lock_store"))
    assert type(store).__name__ == "InMemoryLockStore"
