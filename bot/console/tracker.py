"""Read access to Rasa's SQL tracker store (table ``events``) without importing Rasa."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.console import triage
from bot.numbers import mask_text

_metadata = sa.MetaData()
#: The columns of ``rasa.core.tracker_store.SQLTrackerStore.SQLEvent``.
events = sa.Table(
    "events",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

#: Retrieval intents whose sub-intent is in ``parse_data.response_selector``.
RETRIEVAL_INTENTS: tuple[str, ...] = ("faq", "out_of_scope")
FALLBACK_INTENT = triage.FALLBACK_INTENT


@dataclass
class UserMessage:
    """What the console needs of one user event.

    Attributes:
        event_id: ``events.id``.
        sender_id: the conversation id.
        timestamp: Unix time of the message.
        text: the message text, masked.
        intent: predicted intent; retrieval intents as ``faq/<key>``.
        confidence: the intent's confidence (None for button payloads without one).
        is_payload: the message was a ``/intent`` button payload, not typed text.
        margin: the answer's lead over the runner-up (see :func:`bot.console.triage.margin`).

    """

    event_id: int
    sender_id: str
    timestamp: float
    text: str
    intent: str | None
    confidence: float | None
    is_payload: bool
    margin: float | None = None


def _load(data: str | None) -> dict[str, Any]:
    if not data:
        return {}
    try:
        loaded = json.loads(data)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def full_intent(parse_data: dict[str, Any]) -> tuple[str | None, float | None]:
    """Return the predicted intent (with retrieval sub-intent) and its confidence.

    Args:
        parse_data: a user event's ``parse_data``.

    Returns:
        ``(intent, confidence)``, e.g. ``("out_of_scope/traffic", 0.91)``.

    """
    intent = parse_data.get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    confidence = intent.get("confidence") if isinstance(intent, dict) else None
    if name in RETRIEVAL_INTENTS:
        selector = parse_data.get("response_selector") or {}
        chosen = selector.get(name) or selector.get("default") or {}
        response = chosen.get("response") or {} if isinstance(chosen, dict) else {}
        key = response.get("intent_response_key") if isinstance(response, dict) else None
        if isinstance(key, str) and key.startswith(f"{name}/"):
            name = key
    try:
        conf = float(confidence) if confidence is not None else None
    except (TypeError, ValueError):
        conf = None
    return name, conf


def to_user_message(row: Any) -> UserMessage:
    """Build a :class:`UserMessage` from an ``events`` row of type ``user``."""
    data = _load(row.data)
    text = str(data.get("text") or "")
    parse_data = data.get("parse_data")
    parse_data = parse_data if isinstance(parse_data, dict) else {}
    intent, confidence = full_intent(parse_data)
    if intent is None:
        intent = row.intent_name
    return UserMessage(
        event_id=int(row.id),
        sender_id=str(row.sender_id),
        timestamp=float(row.timestamp or data.get("timestamp") or 0.0),
        text=mask_text(text),
        intent=intent,
        confidence=confidence,
        is_payload=text.startswith("/"),
        margin=triage.margin(parse_data),
    )


def user_events_after(conn: Connection, after_id: int, limit: int) -> list[UserMessage]:
    """User events with ``id > after_id``, oldest first.

    Args:
        conn: a connection to the tracker store.
        after_id: the last event id already read.
        limit: maximum number of events to scan (of any type).

    Returns:
        The user messages among the next ``limit`` events.

    """
    rows = conn.execute(
        sa.select(
            events.c.id,
            events.c.sender_id,
            events.c.type_name,
            events.c.timestamp,
            events.c.intent_name,
            events.c.data,
        )
        .where(events.c.id > after_id)
        .where(events.c.type_name == "user")
        .order_by(events.c.id)
        .limit(limit)
    ).all()
    return [to_user_message(r) for r in rows]


def form_answers(conn: Connection, messages: list[UserMessage]) -> set[int]:
    """The user messages that an active form took as its answer.

    A message is a form answer when the first action after it is a form (``*_form``) and the
    form did not reject it (no ``action_execution_rejected`` before the next user message).
    A name typed where the booking form asked for it gets ``nlu_fallback`` from the NLU, but
    the form understood it: it is no unanswered question.

    Args:
        conn: a connection to the tracker store.
        messages: user messages, e.g. one sync batch.

    Returns:
        Event ids of the messages handled by a form.
    """
    if not messages:
        return set()
    senders = sorted({m.sender_id for m in messages})
    first = min(m.event_id for m in messages)
    wanted = {m.event_id for m in messages}
    handled: set[int] = set()
    for start in range(0, len(senders), 500):
        rows = conn.execute(
            sa.select(events.c.id, events.c.sender_id, events.c.type_name, events.c.action_name)
            .where(events.c.sender_id.in_(senders[start : start + 500]))
            .where(events.c.id >= first)
            .where(events.c.type_name.in_(("user", "action", "action_execution_rejected")))
            .order_by(events.c.sender_id, events.c.id)
        ).all()
        pending: dict[str, tuple[int, str | None]] = {}  # sender -> (user event id, verdict)
        for row in rows:
            sender = str(row.sender_id)
            if row.type_name == "user":
                _settle(pending.pop(sender, None), handled)
                if int(row.id) in wanted:
                    pending[sender] = (int(row.id), None)
                continue
            current = pending.get(sender)
            if current is None:
                continue
            event_id, verdict = current
            if row.type_name == "action_execution_rejected":
                pending[sender] = (event_id, "rejected")
            elif verdict is None and row.action_name not in (None, "action_listen"):
                pending[sender] = (event_id, "form" if _is_form(row.action_name) else "other")
        for current in pending.values():
            _settle(current, handled)
    return handled


def _is_form(action_name: str | None) -> bool:
    return bool(action_name) and str(action_name).endswith("_form")


def _settle(current: tuple[int, str | None] | None, handled: set[int]) -> None:
    if current is not None and current[1] == "form":
        handled.add(current[0])


def find_user_event(
    conn: Connection, sender_id: str, text: str | None, before: float | None
) -> UserMessage | None:
    """Find the user message a piece of feedback or a left message refers to.

    Args:
        conn: a connection to the tracker store.
        sender_id: the conversation.
        text: the user text to match (compared masked), or None for "the last one".
        before: Unix time the user message must not be later than (None: any time).

    Returns:
        The matching user message, else the last typed one before ``before``, else None.

    """
    query = (
        sa.select(
            events.c.id,
            events.c.sender_id,
            events.c.timestamp,
            events.c.intent_name,
            events.c.data,
        )
        .where(events.c.sender_id == sender_id)
        .where(events.c.type_name == "user")
        .order_by(events.c.id.desc())
        .limit(500)
    )
    candidates = [to_user_message(r) for r in conn.execute(query).all()]
    # Prefer the latest message with the rated text sent before the rating (with some clock
    # slack), then that text at any time, then the last typed message before the rating.
    wanted = mask_text(text.strip()) if text else None
    limit = before + 60 if before is not None else None
    if wanted:
        same = [m for m in candidates if m.text.strip() == wanted]
        for message in same:
            if limit is None or message.timestamp <= limit:
                return message
        if same:
            return same[0]
    for message in candidates:
        if not message.is_payload and (limit is None or message.timestamp <= limit):
            return message
    return None


@dataclass
class ConversationTurn:
    """One turn of a conversation as an officer reads it (everything masked).

    Attributes:
        event_id: ``events.id``.
        kind: ``user``, ``bot`` or ``session`` (a new session began).
        time: local time of the event.
        text: what was said (masked, line breaks kept); for a button click its title.
        intent: predicted intent of a user turn.
        confidence: its confidence.
        buttons: the titles of the buttons a bot turn offered.
        clicked: the user turn was a button click, not typed text.

    """

    event_id: int
    kind: str
    time: dt.datetime
    text: str
    intent: str | None = None
    confidence: float | None = None
    buttons: list[str] = field(default_factory=list)
    clicked: bool = False


def _buttons(data: dict[str, Any]) -> list[tuple[str, str]]:
    """``(title, payload)`` of the buttons of a ``bot`` event."""
    inner = data.get("data")
    buttons = inner.get("buttons") if isinstance(inner, dict) else None
    return [
        (str(b.get("title") or ""), str(b.get("payload") or ""))
        for b in buttons or []
        if isinstance(b, dict)
    ]


def conversation(conn: Connection, sender_id: str, tz: dt.tzinfo) -> list[ConversationTurn]:
    """One conversation as an officer reads it: what the citizen and the bot said, in order.

    The bot's internal steps (actions such as ``action_session_start``, slots such as
    ``requested_slot``, listening) are left out; a button click shows the button's title.

    Args:
        conn: a connection to the tracker store.
        sender_id: the conversation id.
        tz: display time zone.

    Returns:
        The turns in order; empty if the conversation does not exist.

    """
    rows = conn.execute(
        sa.select(events)
        .where(events.c.sender_id == sender_id)
        .where(events.c.type_name.in_(("user", "bot", "session_started")))
        .order_by(events.c.id)
    ).all()
    turns: list[ConversationTurn] = []
    offered: dict[str, str] = {}  # payload -> title of the latest bot buttons
    for row in rows:
        data = _load(row.data)
        when = dt.datetime.fromtimestamp(float(row.timestamp or 0.0), tz)
        if row.type_name == "user":
            message = to_user_message(row)
            text, clicked = message.text, message.is_payload
            if clicked:
                raw = str(data.get("text") or "")
                text = mask_text(offered.get(raw, ""))
            turns.append(
                ConversationTurn(
                    row.id,
                    "user",
                    when,
                    text,
                    message.intent,
                    message.confidence,
                    clicked=clicked,
                )
            )
        elif row.type_name == "bot":
            buttons = _buttons(data)
            offered = {payload: title for title, payload in buttons}
            turns.append(
                ConversationTurn(
                    row.id,
                    "bot",
                    when,
                    mask_text(str(data.get("text") or "")),
                    buttons=[mask_text(t) for t, _ in buttons if t],
                )
            )
        elif not turns or turns[-1].kind != "session":
            turns.append(ConversationTurn(row.id, "session", when, "新会话开始"))
    return turns
