"""Databases for the booking/lookup tests: a fresh SQLite file or PostgreSQL database each.

Schema from the Alembic migrations, reference data, holidays and two weeks of slots from the
seed (fixed 'today'), so the tests see what production sees. PostgreSQL tests are skipped when
the server at 127.0.0.1:5432 is not reachable.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bot.db import migrate
from bot.db.seed import seed_holidays, seed_reference, seed_slots
from bot.db.session import make_engine

# Wednesday 2 December 2026, 10:00 Beijing time: the tests' "now".
NOW = dt.datetime(2026, 12, 2, 10, 0)
PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "trackers"


@functools.cache
def _rasa_domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


def rasa_parse(payload: str) -> dict[str, Any]:
    """What Rasa's own NLU makes of a ``/intent{...}`` payload (RegexMessageHandler).

    Entities the domain does not declare are dropped by Rasa (with a warning); this raises
    on that warning, so a button whose entity Rasa would drop fails the test.

    Returns:
        ``{"intent": name, "entities": [{"entity": ..., "value": ...}, ...]}``.
    """
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message as RasaMessage

    domain = _rasa_domain()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # rasa.shared.utils.io.raise_warning
        parsed = YAMLStoryReader.unpack_regex_message(RasaMessage(data={"text": payload}), domain)
    intent = parsed.get("intent") or {}
    assert intent.get("name"), f"Rasa does not read {payload!r} as an intent"
    entities = [{"entity": e["entity"], "value": e["value"]} for e in parsed.get("entities") or []]
    return {"intent": intent["name"], "entities": entities}


def postgres_available() -> bool:
    engine = create_engine(f"{PG_SERVER}/test", connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``kind`` (sqlite/postgres); drop it after."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'booking.db'}"
        return
    if not postgres_available():
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    name = f"booking_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def prepare_database(url: str, today: dt.date | None = None, extra_holidays: Any = ()) -> None:
    """Migrate and seed reference data, holidays and slots from ``today`` (default NOW) on."""
    today = today or NOW.date()
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine, future=True) as session, session.begin():
            seed_reference(session)
            seed_holidays(session)
            for holiday in extra_holidays:
                session.merge(holiday)
        with Session(engine, future=True) as session, session.begin():
            seed_slots(session, today)
    finally:
        engine.dispose()


def tracker(
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    requested: str | None = None,
    fixture: str | None = None,
    events: list[dict[str, Any]] | None = None,
    sender: str = "test-booking",
    client: str | None = None,
) -> Tracker:
    """Build a rasa_sdk Tracker (optionally starting from a saved JSON fixture).

    A ``/intent{...}`` text without explicit entities gets the intent and entities Rasa's
    own parsing gives it (payload entities reach the actions only that way).
    """
    if fixture:
        state = json.loads((FIXTURES / f"{fixture}.json").read_text(encoding="utf-8"))
    else:
        state = {
            "sender_id": sender,
            "slots": {},
            "latest_message": {},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    if text.startswith("/") and entities is None:  # a button: parsed as Rasa parses it
        parsed = rasa_parse(text)
        intent, entities = parsed["intent"], parsed["entities"]
    if text or not state["latest_message"]:
        state["latest_message"] = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.95},
            "entities": entities or [],
        }
        state["events"] = [
            {"event": "action", "name": "action_listen"},
            {
                "event": "user",
                "text": text,
                "parse_data": state["latest_message"],
                "metadata": {"client_key": client} if client else {},
            },
        ]
    state["slots"] = {**state.get("slots", {}), **(slots or {})}
    if requested is not None or "requested_slot" not in state["slots"]:
        state["slots"]["requested_slot"] = requested
    if active_loop is not None:
        state["active_loop"] = {"name": active_loop} if active_loop else {}
    if events is not None:
        state["events"] = state["events"] + events
    return Tracker.from_dict(state)


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """``SlotSet`` events as a dict (last value wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
