"""Fixtures for the case / name / message action tests, on SQLite and on PostgreSQL.

``action_db_url`` is parametrised over a temporary SQLite file and a uniquely named
PostgreSQL database on 127.0.0.1:5432 (user postgres), both migrated with Alembic and seeded
with a small registry; the PostgreSQL variant is skipped with a clear message only if the
server cannot be reached. ``action_db`` points the action server's process-wide engine at it
and empties the tables the tests write to (audit, messages).
"""

from __future__ import annotations

import asyncio
import collections
import copy
import json
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import delete

from bot.db import session as db_session
from bot.db.models import CallbackRequest, LookupAudit
from bot.db.testing import postgres_unavailable_reason, temporary_database

ROOT = Path(__file__).resolve().parents[2]
TRACKERS = ROOT / "tests" / "fixtures" / "trackers"
SMALL_REGISTRY = 20_000
T = TypeVar("T")


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def action_db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated and seeded database (SQLite file / throw-away PostgreSQL database)."""
    if request.param == "postgresql":
        reason = postgres_unavailable_reason()
        if reason:
            pytest.skip(reason)
    with temporary_database(request.param, residents=SMALL_REGISTRY) as url:
        yield url


@pytest.fixture()
def action_db(action_db_url: str) -> Iterator[str]:
    """Point ``bot.db.session`` at the test database; clean the written tables around the test."""
    engine = db_session.configure(action_db_url)
    with engine.begin() as conn:
        conn.execute(delete(LookupAudit.__table__))
        conn.execute(delete(CallbackRequest.__table__))
    try:
        yield action_db_url
    finally:
        db_session.reset()


@pytest.fixture()
def unreachable_db() -> Iterator[None]:
    """Point the process-wide engine at a PostgreSQL port where nothing listens."""
    db_session.configure("postgresql+psycopg2://postgres@127.0.0.1:9/nothing")
    try:
        yield
    finally:
        db_session.reset()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain.yml as the action server receives it."""
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def make_tracker(
    fixture: str,
    text: str | None = None,
    intent: str | None = None,
    slots: dict[str, Any] | None = None,
    candidates: dict[str, Any] | None = None,
    sender_id: str | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    """Load a saved tracker and adapt it: latest text/intent, slots, fresh slot candidates.

    Args:
        fixture: file name under tests/fixtures/trackers (without .json).
        text: replaces the latest user message text.
        intent: replaces the latest intent.
        slots: merged into the tracker's slots.
        candidates: slot candidates appended as the last events (what the form extracted),
            i.e. what ``slots_to_validate()`` returns.
        sender_id: conversation id.
        entities: replaces the latest entities.

    Returns:
        The tracker.
    """
    state = json.loads((TRACKERS / f"{fixture}.json").read_text(encoding="utf-8"))
    state = copy.deepcopy(state)
    latest = state["latest_message"]
    user_events = [e for e in state["events"] if e["event"] == "user"]
    if text is not None:
        latest["text"] = text
        user_events[-1]["text"] = text
    if intent is not None:
        latest["intent"] = {"name": intent, "confidence": 0.95}
        user_events[-1]["parse_data"]["intent"] = latest["intent"]
    if entities is not None:
        latest["entities"] = entities
        user_events[-1]["parse_data"]["entities"] = entities
    if slots:
        state["slots"].update(slots)
    for name, value in (candidates or {}).items():
        state["events"].append(
            {"event": "slot", "timestamp": 1764050999.0, "name": name, "value": value}
        )
        state["slots"][name] = value
    if sender_id is not None:
        state["sender_id"] = sender_id
    return Tracker.from_dict(state)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run an action coroutine to completion."""
    return asyncio.run(coro)


def render(message: dict[str, Any]) -> str:
    """The text a citizen sees for one dispatched message (a domain response is filled in)."""
    if message.get("text"):
        return str(message["text"])
    name = message.get("response")
    if not name:
        return ""
    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    variants = [v for v in responses.get(name, []) if "condition" not in v] or [{"text": name}]
    values = {k: v for k, v in message.items() if isinstance(v, (str, int, float))}
    return str(variants[0]["text"]).format_map(collections.defaultdict(str, values))


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    """Texts the dispatcher sent (domain responses rendered with their values)."""
    return [render(m) for m in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Slot name -> value for the SlotSet events returned by an action."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
