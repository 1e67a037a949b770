"""Bot messages as the client sees them: collection per turn, stable ids, visible history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import BotUttered, Event, UserUttered

from bot.channels.cards import location_card
from bot.channels.rating import (
    rateable_message_ids,
)
from bot.channels.webchat.constants import (
    HISTORY_LIMIT,
)
from bot.numbers import mask_data, mask_text


def _clean_buttons(raw: Any) -> list[dict[str, str]]:
    buttons: list[dict[str, str]] = []
    if not isinstance(raw, list):
        return buttons
    for item in raw:
        if not isinstance(item, dict):
            continue
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            continue
        button: dict[str, str] = {"title": title}
        payload = item.get("payload")
        if isinstance(payload, str):
            button["payload"] = payload
        url = item.get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            button["url"] = url
        if "payload" in button or "url" in button:
            buttons.append(button)
    return buttons


def render_bot_message(raw: dict[str, Any]) -> dict[str, Any] | None:
    """Reduce a Rasa bot message (``BotUttered.message()``) to what the client renders.

    Args:
        raw: the message dict (``text``, ``buttons``, ``quick_replies``, ``image``,
            ``attachment``, ``custom``, ...).

    Returns:
        ``{"text", "buttons", "image", "attachment", "custom"}`` (only present keys), or
        None when the message has nothing to show.

    """
    out: dict[str, Any] = {}
    text = raw.get("text")
    if isinstance(text, str) and text.strip():
        out["text"] = text.strip()
    buttons = _clean_buttons(raw.get("buttons")) or _clean_buttons(raw.get("quick_replies"))
    if buttons:
        out["buttons"] = buttons
    image = raw.get("image")
    if isinstance(image, str) and image:
        out["image"] = image
    attachment = raw.get("attachment")
    if attachment:
        out["attachment"] = attachment
    custom = raw.get("custom")
    card = location_card(custom)
    if card is not None:
        # A place is shown as a card; its text is only for text-only clients.
        out.pop("text", None)
        out["custom"] = card
    elif custom:
        out["custom"] = custom
    return out or None


def _id_base(timestamp: float) -> str:
    return str(int(round(float(timestamp) * 1_000_000)))


def assign_message_ids(timestamps: Sequence[float | None]) -> list[str | None]:
    """Derive stable message ids from bot-event timestamps.

    The id is the event's timestamp in microseconds; events sharing a microsecond get a
    ``-1``, ``-2`` ... suffix in order. The same function is applied to the tracker's events
    when feedback comes in, so ids given to the client can always be found again.

    Args:
        timestamps: bot-event timestamps in event order (None: no id).

    Returns:
        One id (or None) per timestamp.

    """
    seen: dict[str, int] = {}
    ids: list[str | None] = []
    for ts in timestamps:
        if ts is None:
            ids.append(None)
            continue
        base = _id_base(ts)
        count = seen.get(base, 0)
        seen[base] = count + 1
        ids.append(base if count == 0 else f"{base}-{count}")
    return ids


class WebChatCollector(CollectingOutputChannel):
    """Collects the bot's messages of one turn, one entry per Rasa bot utterance.

    Unlike :class:`CollectingOutputChannel` it does not split texts on blank lines and it
    keeps each utterance's timestamp, from which the message id for feedback is derived.
    """

    @classmethod
    def name(cls) -> str:
        """Name of the output channel."""
        return "webchat"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Collect one bot utterance."""
        rendered = render_bot_message(message)
        if rendered is None:
            return
        timestamp = message.get("timestamp")
        rendered["_timestamp"] = float(timestamp) if isinstance(timestamp, (int, float)) else None
        self.messages.append(rendered)

    def client_messages(self) -> list[dict[str, Any]]:
        """Return the collected messages with their ids, ready for the client."""
        ids = assign_message_ids([m.get("_timestamp") for m in self.messages])
        out = []
        for message, message_id in zip(self.messages, ids, strict=True):
            item = {k: v for k, v in message.items() if k != "_timestamp"}
            item["id"] = message_id
            out.append(item)
        return out


def _user_display_text(event: UserUttered) -> str:
    title = None
    metadata = getattr(event, "metadata", None) or {}
    webchat = metadata.get("webchat") if isinstance(metadata, dict) else None
    if isinstance(webchat, dict) and isinstance(webchat.get("title"), str):
        title = webchat["title"]
    return title or (event.text or "")


def user_review_text(event: UserUttered) -> str:
    """A user message for the officers: the button's title and, after it, the payload."""
    text = event.text or ""
    shown = _user_display_text(event)
    if text.startswith("/") and shown != text:
        return f"{shown} [{text}]"
    return text


def bot_events_with_ids(
    events: Iterable[Event],
) -> list[tuple[str, BotUttered, UserUttered | None]]:
    """List the bot utterances of a tracker with their ids and the user message they answer.

    Args:
        events: the tracker's events (all sessions).

    Returns:
        ``(message_id, bot_event, preceding_user_event)`` for every bot utterance that has
        something to show.

    """
    pairs: list[tuple[BotUttered, UserUttered | None]] = []
    last_user: UserUttered | None = None
    for event in events:
        if isinstance(event, UserUttered):
            last_user = event
        elif isinstance(event, BotUttered) and render_bot_message(event.message()) is not None:
            pairs.append((event, last_user))
    ids = assign_message_ids([bot.timestamp for bot, _ in pairs])
    return [
        (mid, bot, user) for mid, (bot, user) in zip(ids, pairs, strict=True) if mid is not None
    ]


def visible_history(events: Iterable[Event], limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """Build the conversation history shown to the user, personal numbers masked.

    Args:
        events: the tracker's events (all sessions).
        limit: keep at most this many (latest) entries.

    Returns:
        Entries ``{"role": "user", "text", "timestamp"}`` and
        ``{"role": "bot", "id", "text", "buttons", ..., "timestamp"}`` in order.

    """
    event_list = list(events)
    with_ids = bot_events_with_ids(event_list)
    bot_ids = {id(bot): mid for mid, bot, _ in with_ids}
    rateable = rateable_message_ids(with_ids, event_list)
    history: list[dict[str, Any]] = []
    for event in event_list:
        if isinstance(event, UserUttered):
            text = _user_display_text(event)
            if text:
                history.append(
                    {"role": "user", "text": mask_text(text), "timestamp": event.timestamp}
                )
        elif isinstance(event, BotUttered) and id(event) in bot_ids:
            rendered = render_bot_message(event.message()) or {}
            if "text" in rendered:
                rendered["text"] = mask_text(rendered["text"])
            if "custom" in rendered:
                rendered["custom"] = mask_data(rendered["custom"])
            message_id = bot_ids[id(event)]
            history.append(
                {
                    "role": "bot",
                    "id": message_id,
                    **rendered,
                    "rateable": message_id in rateable,
                    "timestamp": event.timestamp,
                }
            )
    return history[-limit:]
