"""Fixtures for the case / name / message action tests, on SQLite and on PostgreSQL.

``action_db_url`` is parametrised over a temporary SQLite file and a uniquely named
PostgreSQL database on 127.0.0.1:5432 (user postgres), both migrated with Alembic and seeded
with a small registry; the PostgreSQL variant is skipped with a clear message only if the
server cannot be reached. ``action_db`` points the action server's process-wide engine at it
and empties the tables the tests write to (audit, messages).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import string
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


def load_domain() -> dict[str, Any]:
    """domain.yml with the responses of data/responses/*.yml, as the action server receives it.

    Rasa merges the ``responses`` of the training-data files into the trained domain, so the
    domain the action server gets holds both.
    """
    data = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    responses = dict(data.get("responses") or {})
    for path in sorted((ROOT / "data" / "responses").glob("*.yml")):
        for name, variants in (
            (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses", {}).items()
        ):
            assert name not in responses, f"{name} is defined twice ({path.name})"
            responses[name] = variants
    data["responses"] = responses
    return data


@functools.cache
def _responses() -> dict[str, Any]:
    return load_domain()["responses"]


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain (domain.yml + data/responses) as the action server receives it."""
    return load_domain()


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
    """The text a citizen sees for one dispatched message (a response is filled in).

    Fails when the response does not exist (Rasa would send nothing) or a placeholder of the
    response was not given a value (the citizen would read ``{day}``).
    """
    if message.get("text"):
        return str(message["text"])
    name = message.get("response")
    if not name:
        return ""
    assert name in _responses(), f"{name} is not a response of domain.yml or data/responses"
    variants = [v for v in _responses()[name] if "condition" not in v] or [{"text": name}]
    values = {k: v for k, v in message.items() if isinstance(v, (str, int, float))}
    template = str(variants[0]["text"])
    missing = {f for _t, f, _s, _c in string.Formatter().parse(template) if f} - set(values)
    assert not missing, f"{name}: no value for {sorted(missing)}"
    return template.format_map(values)


def rendered_buttons(message: dict[str, Any]) -> list[dict[str, str]]:
    """The buttons a citizen sees: the action's own, then the response's (placeholders filled)."""
    buttons = list(message.get("buttons") or [])
    name = message.get("response")
    if name:
        variants = [v for v in _responses()[name] if "condition" not in v]
        values = {k: v for k, v in message.items() if isinstance(v, (str, int, float))}
        for button in variants[0].get("buttons") or [] if variants else []:
            buttons.append(
                {
                    "title": str(button["title"]).format_map(values),
                    "payload": str(button["payload"]).format_map(values),
                }
            )
    return buttons


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    """Texts the dispatcher sent (domain responses rendered with their values)."""
    return [render(m) for m in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Slot name -> value for the SlotSet events returned by an action."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
