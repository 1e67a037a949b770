"""Helpers of the console tests: realistic Rasa tracker events, a console server, a client."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from aiohttp import web

from bot.console.app import ConsoleApp
from bot.console.config import ConsoleSettings
from bot.db.session import PROJECT_ROOT

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Turn:
    """One user turn of a synthetic conversation.

    Attributes:
        text: what the user typed.
        intent: the predicted intent (``nlu_fallback``, ``faq``, ``out_of_scope``, ...).
        confidence: its confidence.
        sub_intent: retrieval sub-intent key (``faq/id_card_fees``) for retrieval intents.
        bot: the bot's answer.
        action: the action predicted after the message.
        rejected: ``action`` (a form) rejected the message; ``action_clarify`` ran instead.
        runner_up: the second answer of the response selector and its confidence.
        buttons: ``(title, payload)`` of the buttons the bot's answer offers.
    """

    text: str
    intent: str
    confidence: float = 0.95
    sub_intent: str | None = None
    bot: str = "好的。"
    action: str = "utter_default"
    rejected: bool = False
    runner_up: tuple[str, float] | None = None
    buttons: tuple[tuple[str, str], ...] = ()


def conversation_events(turns: Iterable[Turn], start: dt.datetime) -> list[Any]:
    """Rasa events of a conversation (session start, then user/action/bot/listen per turn)."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionExecutionRejected,
        BotUttered,
        SessionStarted,
        UserUttered,
    )

    ts = start.replace(tzinfo=dt.UTC).timestamp() if start.tzinfo is None else start.timestamp()
    events: list[Any] = [
        ActionExecuted("action_session_start", timestamp=ts),
        SessionStarted(timestamp=ts),
        ActionExecuted("action_listen", timestamp=ts),
    ]
    for turn in turns:
        ts += 20
        intent = {"name": turn.intent, "confidence": turn.confidence}
        ranking = [intent]
        if turn.intent == "nlu_fallback":
            ranking = [intent, {"name": "faq", "confidence": turn.confidence - 0.1}]
        parse_data: dict[str, Any] = {
            "text": turn.text,
            "intent": intent,
            "entities": [],
            "intent_ranking": ranking,
        }
        if turn.sub_intent:
            ranking = [{"intent_response_key": turn.sub_intent, "confidence": turn.confidence}]
            if turn.runner_up:
                key, confidence = turn.runner_up
                ranking.append({"intent_response_key": key, "confidence": confidence})
            parse_data["response_selector"] = {
                "all_retrieval_intents": ["faq", "out_of_scope"],
                turn.intent: {
                    "response": {
                        "intent_response_key": turn.sub_intent,
                        "confidence": turn.confidence,
                        "responses": [{"text": turn.bot}],
                        "utter_action": f"utter_{turn.sub_intent}",
                    },
                    "ranking": ranking,
                },
            }
        events.append(
            UserUttered(
                turn.text,
                intent=intent,
                parse_data=parse_data,  # type: ignore[arg-type]
                timestamp=ts,
                input_channel="webchat",
                message_id=uuid.uuid4().hex,
            )
        )
        if turn.rejected:
            events.append(ActionExecutionRejected(turn.action, timestamp=ts + 1))
            events.append(ActionExecuted("action_clarify", timestamp=ts + 1))
        else:
            events.append(ActionExecuted(turn.action, timestamp=ts + 1))
        buttons = [{"title": t, "payload": p} for t, p in turn.buttons]
        events.append(BotUttered(turn.bot, {"buttons": buttons}, timestamp=ts + 1))
        events.append(ActionExecuted("action_listen", timestamp=ts + 2))
    return events


def event_rows(sender_id: str, events: Iterable[Any]) -> list[dict[str, Any]]:
    """``events`` table rows exactly as Rasa's ``SQLTrackerStore.save`` writes them."""
    rows = []
    for event in events:
        data = event.as_dict()
        intent = data.get("parse_data", {}).get("intent", {}).get("name")
        rows.append(
            {
                "sender_id": sender_id,
                "type_name": event.type_name,
                "timestamp": event.timestamp,
                "intent_name": intent,
                "action_name": data.get("name"),
                "data": json.dumps(data),
            }
        )
    return rows


class TrackerWriter:
    """Writes synthetic conversations into a tracker store database (raw, unmasked).

    Args:
        url: the tracker store database URL.
    """

    def __init__(self, url: str) -> None:
        from rasa.core.tracker_store import SQLTrackerStore

        self.engine = sa.create_engine(url)
        self.table = SQLTrackerStore.SQLEvent.__table__
        self.table.create(self.engine, checkfirst=True)

    def write(self, sender_id: str, turns: list[Turn], start: dt.datetime) -> None:
        """Store one conversation."""
        with self.engine.begin() as conn:
            conn.execute(
                self.table.insert(), event_rows(sender_id, conversation_events(turns, start))
            )

    def close(self) -> None:
        """Dispose the engine."""
        self.engine.dispose()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AppThread:
    """An aiohttp application served on a free port from a background thread.

    Args:
        app: the application.
    """

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self.app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        self._loop.run_until_complete(site.start())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> AppThread:
        """Start serving; return when the port accepts connections."""
        self._thread.start()
        assert self._ready.wait(30), "server did not start"
        return self

    def stop(self) -> None:
        """Stop serving (runs the application's cleanup)."""
        if self._runner is not None:
            fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            fut.result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class ConsoleServer(AppThread):
    """The console's aiohttp app served on a free port from a background thread.

    Args:
        settings: console settings.
    """

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.console = ConsoleApp(settings)
        super().__init__(self.console.build())

    def start(self) -> ConsoleServer:
        """Start serving; return when the port accepts connections."""
        super().start()
        return self


class StubRasa(AppThread):
    """Rasa's ``PUT /model`` and ``GET /status`` as ``rasa run --enable-api`` answers them.

    Args:
        token: the API token it accepts.
        load_status: the status ``PUT /model`` answers (Rasa: 204 when loaded).
    """

    def __init__(self, token: str, load_status: int = 204) -> None:
        self.token = token
        self.load_status = load_status
        self.loads: list[dict[str, Any]] = []
        self.model_file = "initial.tar.gz"
        app = web.Application()
        app.router.add_put("/model", self._load)
        app.router.add_get("/status", self._status)
        super().__init__(app)

    def _authorised(self, request: web.Request) -> bool:
        return request.query.get("token") == self.token

    async def _load(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"status": "failure"}, status=401)
        body = await request.json()
        self.loads.append(body)
        if self.load_status == 204:
            self.model_file = Path(body["model_file"]).name
            return web.Response(status=204)
        return web.json_response({"status": "failure"}, status=self.load_status)

    async def _status(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"status": "failure"}, status=401)
        return web.json_response({"model_file": self.model_file, "model_id": "x"})


class Client:
    """A logged-in (or not) browser-like HTTP client of the console.

    Args:
        base_url: the console's URL.
    """

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET without following redirects."""
        return self.http.get(self.base + path, allow_redirects=False, timeout=30, **kwargs)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> requests.Response:
        """POST a form without following redirects."""
        return self.http.post(
            self.base + path, data=data, allow_redirects=False, timeout=30, **kwargs
        )

    def csrf(self, path: str = "/inbox") -> str:
        """The CSRF token of a page."""
        page = self.get(path)
        match = CSRF_RE.search(page.text)
        assert match, f"no CSRF token on {path}: {page.status_code} {page.text[:300]}"
        return match.group(1)

    def login(self, username: str, password: str) -> requests.Response:
        """Log in through the login form (with its CSRF token and cookie)."""
        token = self.csrf("/login")
        return self.post(
            "/login", {"username": username, "password": password, "csrf_token": token}
        )

    def post_form(
        self, path: str, data: dict[str, Any], token_from: str = "/inbox"
    ) -> requests.Response:
        """POST with the session's CSRF token."""
        payload = dict(data)
        payload["csrf_token"] = self.csrf(token_from)
        return self.post(path, payload)


def find(pattern: str, text: str) -> str:
    """The first group of ``pattern`` in ``text`` (fails the test if absent)."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in {text[:500]!r}"
    return match.group(1)


def cli_env(settings: ConsoleSettings) -> dict[str, str]:
    """The environment of a ``python -m bot.console`` run on the test's databases."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=settings.database_url,
        TRACKER_DATABASE_URL=settings.tracker_url,
        CONSOLE_PROJECT_DIR=str(settings.project_dir),
        CONSOLE_SCRYPT_N=str(2**14),
        PYTHONPATH=str(PROJECT_ROOT),
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    return env


def run_cli(
    settings: ConsoleSettings, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot.console ARGS`` on the test's databases."""
    return subprocess.run(
        [sys.executable, "-m", "bot.console", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_env(settings),
        cwd=PROJECT_ROOT,
        timeout=120,
    )
