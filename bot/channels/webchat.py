"""The web-chat input channel: the H5 chat page and the JSON API the mini-program talks to.

Registered in ``credentials.yml``::

    bot.channels.webchat.WebChatInput:
      # all optional:
      token_max_age_days: 30      # how long a conversation token stays valid
      reply_timeout: 25           # seconds before the user gets a "系统繁忙" reply
      max_message_chars: 500      # longest accepted user message

Rasa mounts it at ``/webhooks/webchat/``:

==========================  =====================================================
``GET  /``                  the chat page (``bot/web/index.html``)
``GET  /static/<file>``     the page's assets (``bot/web/static/``)
``GET  /health``            ``{"status": "ok", "ready": true}``
``GET  /config``            the page's wording: sample-data notice, 👎 reasons
``POST /session``           issue a new conversation id and its signed token
``POST /message``           send one user message, get the bot's messages back
``GET  /history``           the conversation's visible history (personal numbers masked)
``POST /feedback``          👍/👎 on one rateable bot message (a 👎 with a reason)
``POST /restart``           abandon the conversation and start a fresh one
==========================  =====================================================

Every call except ``/session`` carries ``Authorization: Bearer <token>``. A token is the
conversation id, its issue time and an HMAC-SHA256 signature made with a server secret
(``WEBCHAT_SECRET`` or, if unset, a random secret generated into ``var/webchat_secret``), so
conversation ids are unguessable and no client can read or write another conversation.
Errors are JSON ``{"error": <code>, "message": <中文说明>}`` with a 4xx status (503 when a
dependency is down); the channel never answers 500. The full contract, for native
mini-program pages, is ``docs/webchat-api.md``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any, Protocol

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, Event, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.cards import location_card
from bot.channels.guard import (
    InputError,
    check_text,
    clean_text,
    client_key,
    parse_json_object,
    payload_is_offered,
)
from bot.channels.rating import (
    FeedbackOptions,
    InvalidFeedback,
    answer_text,
    load_feedback_options,
    rateable_message_ids,
    validate_feedback,
)
from bot.numbers import mask_data, mask_text
from bot.secret_files import secret_value
from bot.tracker_store import watch_turn

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = PROJECT_ROOT / "bot" / "web"
DEFAULT_SECRET_FILE = "var/webchat_secret"
SECRET_ENV = "WEBCHAT_SECRET"

DEFAULT_MAX_MESSAGE_CHARS = 500
DEFAULT_REPLY_TIMEOUT_S = 25.0
DEFAULT_TOKEN_MAX_AGE_DAYS = 30
MAX_BODY_BYTES = 64 * 1024  # a 5,000-character message in \uXXXX escapes still fits
MAX_TITLE_CHARS = 60
MAX_MESSAGE_ID_CHARS = 40
HISTORY_LIMIT = 200

#: Shown when Rasa produced no reply (action server down, timeout, internal error).
FALLBACK_TEXT = "系统繁忙，请稍后再试。您也可以点击“转人工/留言”，户籍民警会尽快联系您。"
#: Shown when a button payload is not one the bot just offered (an old or forged button).
STALE_BUTTON_TEXT = "这个选项已经过期了，请点击最新消息里的选项，或直接输入您的问题。"

_TOKEN_VERSION = "v1"
_CONVERSATION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_STATIC_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+\.(js|css|svg|png|ico)$")
_CONTENT_TYPES = {
    "js": "application/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "ico": "image/x-icon",
}
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


# ---------------------------------------------------------------------------------------------
# Errors


#: Client errors: ``{"error": code, "message": 中文}`` with a 4xx status (see bot.channels.guard).
ApiError = InputError


def error_response(status: int, code: str, message: str) -> HTTPResponse:
    """Build the channel's JSON error response.

    Args:
        status: HTTP status code.
        code: machine-readable error code.
        message: Chinese message for the user.

    Returns:
        The Sanic response.

    """
    return _json({"error": code, "message": message}, status=status)


def _json(body: dict[str, Any], status: int = 200) -> HTTPResponse:
    return response.json(
        body,
        status=status,
        headers={"Cache-Control": "no-store"},
        dumps=json.dumps,
        ensure_ascii=False,
        separators=(",", ":"),
    )


# ---------------------------------------------------------------------------------------------
# Secret and tokens


def load_secret(env_name: str = SECRET_ENV, secret_file: str | Path = DEFAULT_SECRET_FILE) -> bytes:
    """Return the token-signing secret (:func:`bot.secret_files.secret_value`).

    Args:
        env_name: environment variable holding the secret.
        secret_file: file used when the variable is unset (relative to the project root).

    Returns:
        The secret as bytes.

    """
    path = Path(secret_file)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return secret_value(env_name, path).encode("utf-8")


def new_conversation_id() -> str:
    """Return a fresh random, unguessable conversation id (144 bits, URL-safe)."""
    return secrets.token_urlsafe(18)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signature(secret: bytes, conversation_id: str, issued_at: int) -> str:
    payload = f"webchat.{_TOKEN_VERSION}.{conversation_id}.{issued_at}".encode()
    return _b64(hmac.new(secret, payload, hashlib.sha256).digest())


def issue_token(secret: bytes, conversation_id: str, issued_at: int | None = None) -> str:
    """Sign a conversation id into a bearer token.

    Args:
        secret: the server secret.
        conversation_id: the id issued by :func:`new_conversation_id`.
        issued_at: Unix time of issue (default: now).

    Returns:
        ``v1.<conversation_id>.<issued_at>.<signature>``.

    """
    issued = int(time.time()) if issued_at is None else int(issued_at)
    signature = _signature(secret, conversation_id, issued)
    return f"{_TOKEN_VERSION}.{conversation_id}.{issued}.{signature}"


def verify_token(secret: bytes, token: str, max_age_s: int, now: float | None = None) -> str | None:
    """Check a bearer token and return its conversation id.

    Args:
        secret: the server secret.
        token: the token as sent by the client.
        max_age_s: maximum token age in seconds.
        now: current Unix time (default: now).

    Returns:
        The conversation id, or None if the token is malformed, forged or expired.

    """
    if not token or len(token) > 200:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _TOKEN_VERSION:
        return None
    _, conversation_id, issued_raw, signature = parts
    if not _CONVERSATION_ID_RE.match(conversation_id) or not issued_raw.isdigit():
        return None
    issued_at = int(issued_raw)
    expected = _signature(secret, conversation_id, issued_at)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return None
    current = time.time() if now is None else now
    if issued_at > current + 300 or current - issued_at > max_age_s:
        return None
    return conversation_id


# ---------------------------------------------------------------------------------------------
# Request validation


@dataclass(frozen=True)
class IncomingMessage:
    """A validated user message.

    Attributes:
        text: the message text (a typed question or a button payload), stripped.
        title: the button title the user clicked, if the message came from a button.

    """

    text: str
    title: str | None = None


def parse_json_body(content_type: str | None, body: bytes | None) -> dict[str, Any]:
    """Parse a JSON object body (content type, size and depth checked by the guard).

    Args:
        content_type: the request's ``Content-Type`` header.
        body: the raw request body.

    Returns:
        The decoded JSON object.

    Raises:
        ApiError: 415 wrong content type, 413 oversized body, 400 not a JSON object.

    """
    return parse_json_object(content_type, body, max_bytes=MAX_BODY_BYTES)


def validate_message(data: dict[str, Any], max_chars: int) -> IncomingMessage:
    """Validate the body of ``POST /message``.

    Args:
        data: the decoded JSON object (``{"message": "...", "title": "..."}``).
        max_chars: the longest accepted message (in characters, after stripping).

    Returns:
        The validated message.

    Raises:
        ApiError: 400 for a missing, empty, non-text or too long message.

    """
    text = check_text(data.get("message"), max_chars)
    title = data.get("title")
    clean_title: str | None = None
    if isinstance(title, str):
        clean_title = clean_text(title)[:MAX_TITLE_CHARS] or None
    return IncomingMessage(text=text, title=clean_title)


def bearer_token(request: Request) -> str:
    """Return the bearer token of a request ('' when there is none)."""
    header = request.headers.get("authorization", "") or ""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return value.strip()


# ---------------------------------------------------------------------------------------------
# Bot messages: collection, ids, history


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


def _user_review_text(event: UserUttered) -> str:
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


# ---------------------------------------------------------------------------------------------
# Feedback storage


class FeedbackStore(Protocol):
    """Where 👍/👎 ratings go (the database in production)."""

    def save(
        self,
        *,
        conversation_id: str,
        bot_message_id: str,
        bot_text: str,
        user_text: str,
        rating: str,
        reason: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Store (or replace) the rating of one bot message (with a 👎's reason)."""

    def ratings(self, conversation_id: str) -> dict[str, str]:
        """Return ``{bot_message_id: rating}`` for a conversation."""


class DatabaseFeedbackStore:
    """Feedback in the ``feedback`` table via :mod:`bot.db.queries.feedback` (blocking calls)."""

    def save(
        self,
        *,
        conversation_id: str,
        bot_message_id: str,
        bot_text: str,
        user_text: str,
        rating: str,
        reason: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Store (or replace) the rating of one bot message (with a 👎's reason)."""
        from bot.db.queries import feedback
        from bot.db.session import session_scope

        with session_scope() as session:
            feedback.save_feedback(
                session,
                conversation_id=conversation_id,
                bot_message_id=bot_message_id,
                bot_text=bot_text,
                user_text=user_text,
                rating=rating,
                reason=reason,
                comment=comment,
            )

    def ratings(self, conversation_id: str) -> dict[str, str]:
        """Return ``{bot_message_id: rating}`` for a conversation."""
        from bot.db.queries import feedback
        from bot.db.session import session_scope

        with session_scope() as session:
            return feedback.ratings_for_conversation(session, conversation_id)


class RevocationStore(Protocol):
    """Where conversations given up by ``/restart`` are remembered (the database)."""

    def revoke(self, conversation_id: str) -> None:
        """Refuse this conversation's token from now on."""

    def is_revoked(self, conversation_id: str) -> bool:
        """Whether this conversation's token is refused."""


class DatabaseRevocationStore:
    """Revocations in the ``revoked_conversations`` table (blocking calls)."""

    def revoke(self, conversation_id: str) -> None:
        """Refuse this conversation's token from now on."""
        from bot.db.queries import revocations
        from bot.db.session import session_scope

        with session_scope() as session:
            revocations.revoke(session, conversation_id)

    def is_revoked(self, conversation_id: str) -> bool:
        """Whether this conversation's token is refused."""
        from bot.db.queries import revocations
        from bot.db.session import session_scope

        with session_scope() as session:
            return revocations.is_revoked(session, conversation_id)


def reply_text(request: Request, response_name: str, default: str) -> str:
    """The text of a domain response (officers edit it in data), or ``default`` before loading.

    Args:
        request: the request (its app holds the agent and domain).
        response_name: e.g. ``utter_service_unavailable``.
        default: used when no model is loaded.

    Returns:
        The first text variation of the response.
    """
    agent = getattr(request.app.ctx, "agent", None)
    domain = getattr(agent, "domain", None)
    variations = (getattr(domain, "responses", None) or {}).get(response_name) or []
    for variation in variations:
        if isinstance(variation, dict) and variation.get("text") and not variation.get("condition"):
            return str(variation["text"])
    return default


# ---------------------------------------------------------------------------------------------
# The channel


@dataclass
class WebChatSettings:
    """Settings of the web-chat channel (from ``credentials.yml``).

    Attributes:
        secret: token-signing secret.
        token_max_age_s: token lifetime in seconds.
        reply_timeout_s: seconds to wait for Rasa before replying with the fallback.
        max_message_chars: longest accepted user message.
        web_dir: directory with ``index.html`` and ``static/``.

    """

    secret: bytes
    token_max_age_s: int = DEFAULT_TOKEN_MAX_AGE_DAYS * 86400
    reply_timeout_s: float = DEFAULT_REPLY_TIMEOUT_S
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    web_dir: Path = field(default_factory=lambda: WEB_DIR)


Handler = Callable[..., Awaitable[HTTPResponse]]


def _never_500(endpoint: str) -> Callable[[Handler], Handler]:
    """Turn ApiError into its JSON response and any other exception into a 503 JSON error."""

    def decorate(func: Handler) -> Handler:
        @wraps(func)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            try:
                return await func(request, *args, **kwargs)
            except ApiError as err:
                return error_response(err.status, err.code, err.message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("webchat %s failed", endpoint)
                return error_response(503, "unavailable", "系统繁忙，请稍后再试。")

        return wrapper

    return decorate


class WebChatInput(InputChannel):
    """Rasa input channel serving the H5 chat page and its JSON API (see module docstring).

    Args:
        settings: channel settings (secret, limits, timeouts).
        feedback_store: where ratings are stored (default: the database).

    """

    def __init__(
        self,
        settings: WebChatSettings,
        feedback_store: FeedbackStore | None = None,
        revocation_store: RevocationStore | None = None,
    ) -> None:
        """Create the channel."""
        self.settings = settings
        self.feedback_store: FeedbackStore = feedback_store or DatabaseFeedbackStore()
        self.revocation_store: RevocationStore = revocation_store or DatabaseRevocationStore()
        self._revoked: set[str] = set()
        self._fallback_text = FALLBACK_TEXT
        self.feedback_options: FeedbackOptions = load_feedback_options()
        self._background: set[asyncio.Future] = set()

    @classmethod
    def name(cls) -> str:
        """Channel name; Rasa mounts the channel at ``/webhooks/webchat/``."""
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        """Create the channel from its ``credentials.yml`` section (all keys optional)."""
        creds = credentials or {}
        secret = load_secret(
            str(creds.get("secret_env") or SECRET_ENV),
            str(creds.get("secret_file") or DEFAULT_SECRET_FILE),
        )
        settings = WebChatSettings(
            secret=secret,
            token_max_age_s=int(
                float(creds.get("token_max_age_days", DEFAULT_TOKEN_MAX_AGE_DAYS)) * 86400
            ),
            reply_timeout_s=float(creds.get("reply_timeout", DEFAULT_REPLY_TIMEOUT_S)),
            max_message_chars=int(creds.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)),
        )
        if creds.get("web_dir"):
            settings.web_dir = Path(str(creds["web_dir"]))
        return cls(settings)

    # -- helpers ---------------------------------------------------------------------------

    async def _conversation_id(self, request: Request) -> str:
        conversation_id = verify_token(
            self.settings.secret, bearer_token(request), self.settings.token_max_age_s
        )
        if conversation_id is not None and conversation_id not in self._revoked:
            try:
                revoked = await asyncio.to_thread(self.revocation_store.is_revoked, conversation_id)
            except Exception:
                logger.exception("webchat: could not check the token's revocation")
                raise ApiError(503, "unavailable", "系统繁忙，请稍后再试。") from None
            if revoked:
                self._revoked.add(conversation_id)
        if conversation_id is None or conversation_id in self._revoked:
            raise ApiError(401, "invalid_token", "会话已失效，请重新开始对话。")
        return conversation_id

    def _new_session(self) -> dict[str, Any]:
        conversation_id = new_conversation_id()
        return {
            "conversation_id": conversation_id,
            "token": issue_token(self.settings.secret, conversation_id),
            "expires_in": self.settings.token_max_age_s,
            "max_message_chars": self.settings.max_message_chars,
        }

    @staticmethod
    def _agent(request: Request) -> Any:
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            raise ApiError(503, "not_ready", "智能客服正在启动，请稍后再试。")
        return agent

    async def _full_events(self, request: Request, conversation_id: str) -> list[Event]:
        agent = self._agent(request)
        tracker = await agent.tracker_store.retrieve_full_tracker(conversation_id)
        return list(tracker.events) if tracker is not None else []

    async def _run_turn(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        conversation_id: str,
        incoming: IncomingMessage,
        client: str,
    ) -> list[dict[str, Any]]:
        collector = WebChatCollector()
        metadata: dict[str, Any] = {"client_key": client}
        if incoming.title:
            metadata["webchat"] = {"title": incoming.title}
        user_message = UserMessage(
            incoming.text,
            collector,
            conversation_id,
            input_channel=self.name(),
            metadata=metadata,
        )
        health = watch_turn()
        task = asyncio.ensure_future(on_new_message(user_message))
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=self.settings.reply_timeout_s)
        except TimeoutError:
            # Let Rasa finish in the background (the reply shows up in the history).
            self._background.add(task)
            task.add_done_callback(self._finish_background)
            logger.warning(
                "webchat: no reply within %.0fs for conversation %s…",
                self.settings.reply_timeout_s,
                conversation_id[:6],
            )
        except Exception:
            logger.exception(
                "webchat: Rasa failed on a message of conversation %s…", conversation_id[:6]
            )
        messages = collector.client_messages()
        if health.store_failed:  # answered without its context and not saved: say so
            logger.error("webchat: the conversation store failed for %s…", conversation_id[:6])
            messages = []
        if not messages:
            messages = [{"id": None, "text": self._fallback_text, "fallback": True}]
        return messages

    async def _mark_rateable(
        self, request: Request, conversation_id: str, messages: list[dict[str, Any]]
    ) -> None:
        """Add ``rateable`` to each message of a turn (see :mod:`bot.channels.rating`)."""
        rateable: set[str] = set()
        if any(m.get("id") for m in messages):
            try:
                tracker = await self._agent(request).tracker_store.retrieve(conversation_id)
                events = list(tracker.events) if tracker is not None else []
                rateable = rateable_message_ids(bot_events_with_ids(events), events)
            except Exception:
                logger.exception("webchat: could not decide which messages are rateable")
        for message in messages:
            message["rateable"] = message.get("id") in rateable

    def _finish_background(self, task: asyncio.Future) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("webchat: delayed turn failed: %r", task.exception())

    # -- blueprint ---------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Build the Sanic blueprint with the page and the JSON API."""
        bp = Blueprint("webchat_channel", __name__)
        settings = self.settings

        @bp.route("/", methods=["GET"])
        @_never_500("page")
        async def page(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):
                # Relative asset and API URLs need the trailing slash.
                return response.redirect(request.path + "/", status=301)
            path = settings.web_dir / "index.html"
            body = await asyncio.to_thread(path.read_bytes)
            return response.raw(
                body, content_type="text/html; charset=utf-8", headers=dict(_PAGE_HEADERS)
            )

        @bp.route("/static/<name>", methods=["GET"])
        @_never_500("static")
        async def static(request: Request, name: str) -> HTTPResponse:
            match = _STATIC_NAME_RE.match(name)
            path = settings.web_dir / "static" / name
            if match is None or not path.is_file():
                raise ApiError(404, "not_found", "文件不存在。")
            body = await asyncio.to_thread(path.read_bytes)
            return response.raw(
                body,
                content_type=_CONTENT_TYPES[match.group(1)],
                headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
            )

        @bp.route("/health", methods=["GET"])
        @_never_500("health")
        async def health(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            ready = bool(agent is not None and agent.is_ready())
            return _json({"status": "ok", "ready": ready})

        @bp.route("/config", methods=["GET"])
        @_never_500("config")
        async def config(request: Request) -> HTTPResponse:
            body = self.feedback_options.to_json()
            body["max_message_chars"] = settings.max_message_chars
            return _json(body)

        @bp.route("/session", methods=["POST"])
        @_never_500("session")
        async def session(request: Request) -> HTTPResponse:
            return _json(self._new_session(), status=201)

        @bp.route("/restart", methods=["POST"])
        @_never_500("restart")
        async def restart(request: Request) -> HTTPResponse:
            old = await self._conversation_id(request)
            await asyncio.to_thread(self.revocation_store.revoke, old)
            self._revoked.add(old)
            fresh = self._new_session()
            logger.info(
                "webchat: conversation %s… restarted as %s…", old[:6], fresh["conversation_id"][:6]
            )
            return _json(fresh, status=201)

        @bp.route("/message", methods=["POST"])
        @_never_500("message")
        async def message(request: Request) -> HTTPResponse:
            conversation_id = await self._conversation_id(request)
            data = parse_json_body(request.headers.get("content-type"), request.body)
            incoming = validate_message(data, settings.max_message_chars)
            agent = self._agent(request)
            self._fallback_text = reply_text(request, "utter_service_unavailable", FALLBACK_TEXT)
            # Only a payload the bot just offered may set entities (and through them slots).
            if not await payload_is_offered(agent.tracker_store, conversation_id, incoming.text):
                stale = reply_text(request, "utter_stale_button", STALE_BUTTON_TEXT)
                notice = [{"id": None, "text": stale, "notice": True}]
                return _json({"conversation_id": conversation_id, "messages": notice})
            # Behind a trusted proxy Sanic's remote_addr is the forwarded client address.
            address = getattr(request, "remote_addr", "") or request.ip
            client = client_key(settings.secret, address)
            messages = await self._run_turn(on_new_message, conversation_id, incoming, client)
            await self._mark_rateable(request, conversation_id, messages)
            return _json({"conversation_id": conversation_id, "messages": messages})

        @bp.route("/history", methods=["GET"])
        @_never_500("history")
        async def history(request: Request) -> HTTPResponse:
            conversation_id = await self._conversation_id(request)
            events = await self._full_events(request, conversation_id)
            entries = visible_history(events)
            ratings: dict[str, str] = {}
            if any(e["role"] == "bot" for e in entries):
                try:
                    ratings = await asyncio.to_thread(self.feedback_store.ratings, conversation_id)
                except Exception:
                    logger.exception("webchat: could not read feedback ratings")
            for entry in entries:
                if entry["role"] == "bot" and entry["id"] in ratings:
                    entry["rating"] = ratings[entry["id"]]
            return _json({"conversation_id": conversation_id, "messages": entries})

        @bp.route("/feedback", methods=["POST"])
        @_never_500("feedback")
        async def feedback(request: Request) -> HTTPResponse:
            conversation_id = await self._conversation_id(request)
            data = parse_json_body(request.headers.get("content-type"), request.body)
            try:
                rated = validate_feedback(data, self.feedback_options, MAX_MESSAGE_ID_CHARS)
            except InvalidFeedback as err:
                raise ApiError(400, err.code, err.message) from None
            events = await self._full_events(request, conversation_id)
            with_ids = bot_events_with_ids(events)
            matches = [(b, u) for mid, b, u in with_ids if mid == rated.message_id]
            if not matches:
                raise ApiError(404, "unknown_message", "找不到这条消息，无法评价。")
            if rated.message_id not in rateable_message_ids(with_ids, events):
                raise ApiError(400, "not_rateable", "这条消息是提问或提示，不需要评价。")
            bot_event, user_event = matches[0]
            bot_text = answer_text(events, bot_event)
            user_text = _user_review_text(user_event) if user_event is not None else ""
            try:
                await asyncio.to_thread(
                    self.feedback_store.save,
                    conversation_id=conversation_id,
                    bot_message_id=rated.message_id,
                    bot_text=mask_text(bot_text),
                    user_text=mask_text(user_text),
                    rating=rated.rating,
                    reason=rated.reason,
                    comment=mask_text(rated.comment) if rated.comment else None,
                )
            except Exception:
                logger.exception("webchat: could not store feedback")
                raise ApiError(
                    503, "feedback_unavailable", "评价暂时无法保存，请稍后再试。"
                ) from None
            return _json(
                {
                    "ok": True,
                    "message_id": rated.message_id,
                    "rating": rated.rating,
                    "reason": rated.reason,
                }
            )

        return bp
