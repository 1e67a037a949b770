"""socket.io channel for the stock ``rasa-webchat`` widget, with server-issued, signed sessions.

Registered in ``credentials.yml`` instead of Rasa's ``socketio`` channel::

    bot.channels.socketio.SignedSocketIOInput:
      cors_allowed_origins: []      # sites allowed to embed it (and $SOCKETIO_CORS_ORIGINS)
      max_message_chars: 500        # the web chat's limit
      token_max_age_days: 30

It speaks the protocol of Rasa's channel (``session_request`` → ``session_confirm``,
``user_uttered`` → ``bot_uttered`` with ``text``/``quick_replies``) and fixes what breaks the
stock widget on our stack:

- **Sessions the client cannot choose.** Rasa's channel takes ``session_id`` from the client as
  the conversation id. Here ``session_confirm`` always returns a signed token
  (``v1.<id>.<time>.<signature>``, the web chat's token format, signed with a key derived from
  the web-chat secret for socket.io only): the widget stores it and sends it back with every
  message; anything else gets a fresh conversation. A web-chat token is not valid here, so a
  widget can never address a web-chat conversation or another citizen's.
- **Input checks of the web chat** (:func:`bot.channels.webchat.validate_message`): the same
  length limit and cleaning; the client's ``customData``/metadata are ignored (a client must not
  set server-side state). Bad input gets a polite Chinese message, never an exception.
- **CORS** for the configured origins and the server's own origin only (python-engineio checks
  ``Origin`` with :func:`origin_check`; Rasa passes ``[]``, which turns the check off).
- **``enter_room`` is awaited** (python-socketio ≥ 5.10 made it a coroutine; Rasa 3.6 does not
  await it, RasaHQ/rasa#13027, so replies went to a room nobody had joined).
- **The WebSocket upgrade** on Sanic 21.12 + Python 3.11: Sanic passes a coroutine to
  ``asyncio.wait`` (``TypeError: Passing coroutines is forbidden``);
  :func:`fix_sanic_websocket_recv` makes the frame assembler return a task instead.
- **Bot messages the widget can show**: url buttons as ``web_url`` quick replies, a location card
  as its text with a map link (Rasa's output crashed on both: ``emit(**custom)`` and
  ``button["payload"]``), and a polite fallback when the bot produced no reply.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels.cards import location_card
from bot.channels.guard import client_key, payload_is_offered
from bot.channels.rating import load_feedback_options
from bot.channels.webchat.constants import (
    DEFAULT_MAX_MESSAGE_CHARS,
    DEFAULT_SECRET_FILE,
    DEFAULT_TOKEN_MAX_AGE_DAYS,
    FALLBACK_TEXT,
    MAX_BODY_BYTES,
    SECRET_ENV,
    STALE_BUTTON_TEXT,
)
from bot.channels.webchat.inputs import ApiError, validate_message
from bot.channels.webchat.tokens import issue_token, load_secret, new_conversation_id, verify_token
from bot.tracker_store import watch_turn

logger = logging.getLogger(__name__)

ORIGINS_ENV = "SOCKETIO_CORS_ORIGINS"
_KEY_PURPOSE = b"ehuzheng socket.io session tokens v1"


def fix_sanic_websocket_recv() -> None:
    """Make Sanic 21.12's WebSocket ``recv`` work on Python 3.11 (idempotent).

    ``WebsocketImplProtocol.recv`` calls ``asyncio.wait((future, assembler.get()))`` with a
    bare coroutine, which Python 3.11 refuses. Wrapping ``WebsocketFrameAssembler.get`` so it
    returns a task fixes every caller; awaiting the task directly still works.
    """
    from sanic.server.websockets.frame import WebsocketFrameAssembler

    original = WebsocketFrameAssembler.get
    if getattr(original, "_returns_task", False):
        return

    def get(self: WebsocketFrameAssembler, timeout: float | None = None) -> asyncio.Task:
        return asyncio.ensure_future(original(self, timeout))

    get._returns_task = True  # type: ignore[attr-defined]
    WebsocketFrameAssembler.get = get  # type: ignore[assignment,method-assign]


def allowed_origins(configured: Any) -> list[str] | None:
    """The origins allowed to connect: ``credentials.yml`` plus ``$SOCKETIO_CORS_ORIGINS``.

    Args:
        configured: the ``cors_allowed_origins`` setting (a list, a string or None).

    Returns:
        The origins, or None when none are configured (then only the server's own origin).

    """
    values: list[str] = []
    if isinstance(configured, str):
        values.append(configured)
    elif isinstance(configured, list):
        values.extend(str(v) for v in configured)
    values.extend(os.environ.get(ORIGINS_ENV, "").split(","))
    origins = sorted({v.strip().rstrip("/") for v in values if v and v.strip()})
    if "*" in origins:
        raise ValueError("socket.io: '*' is not an allowed origin; list the embedding sites")
    return origins or None


def origin_check(origins: list[str] | None) -> Callable[[str | None, dict[str, Any]], bool]:
    """python-engineio's origin check: the configured origins plus the server's own origin.

    Args:
        origins: the configured origins (see :func:`allowed_origins`).

    Returns:
        ``check(origin, environ)``; a request without ``Origin`` (not a browser) passes.

    """
    allowed = frozenset(origins or ())

    def check(origin: str | None, environ: dict[str, Any]) -> bool:
        if not origin:
            return True
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin.rstrip("/") in allowed or origin == own

    return check


class SafeSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, sending only what the stock widget can show.

    Args:
        sio: the socket.io server.
        bot_message_evt: the event name of bot messages.
        map_link: the title of a location card's map link.

    """

    def __init__(self, sio: AsyncServer, bot_message_evt: str, map_link: str) -> None:
        """Create the output channel."""
        super().__init__(sio, bot_message_evt)
        self.map_link = map_link
        self.sent = 0

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.sent += 1
        text = response.get("text") if isinstance(response, dict) else None
        if isinstance(text, str) and "\n" in text:
            # The widget renders Markdown: a line break needs two trailing spaces.
            response = {**response, "text": text.replace("\n", "  \n")}
        await super()._send_message(socket_id, response)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Send the text with its buttons as quick replies (links as ``web_url``)."""
        replies: list[dict[str, Any]] = []
        for button in buttons:
            title = button.get("title")
            if not isinstance(title, str) or not title:
                continue
            if isinstance(button.get("payload"), str):
                replies.append(
                    {"content_type": "text", "title": title, "payload": button["payload"]}
                )
            elif str(button.get("url", "")).startswith("https://"):
                replies.append({"type": "web_url", "title": title, "url": button["url"]})
        await self._send_message(recipient_id, {"text": text.strip(), "quick_replies": replies})

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send one bot message; a location card is its text with a lasting map link."""
        card = location_card(message.get("custom"))
        text = message.get("text")
        if card is None or not isinstance(text, str) or not text.strip():
            await super().send_response(recipient_id, message)
            return
        out: dict[str, Any] = {"text": text.strip()}
        if "map_url" in card:
            # `buttons` stay visible in the widget (quick replies vanish after the next message)
            out["buttons"] = [{"type": "web_url", "title": self.map_link, "url": card["map_url"]}]
        await self._send_message(recipient_id, out)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Custom payloads: ``{"text": ...}`` is shown as text, anything else is skipped."""
        text = json_message.get("text") if isinstance(json_message, dict) else None
        if isinstance(text, str) and text.strip() and location_card(json_message) is None:
            await self.send_text_message(recipient_id, text)


class SignedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with signed, server-issued sessions (see module docstring).

    Args:
        secret: the web-chat secret (a socket.io key is derived from it).
        cors_allowed_origins: origins allowed to connect (None: same origin only).
        max_message_chars: longest accepted user message.
        token_max_age_s: how long a session token stays valid.
        user_message_evt: event name of user messages.
        bot_message_evt: event name of bot messages.
        socketio_path: where socket.io is served.

    """

    def __init__(
        self,
        secret: bytes,
        cors_allowed_origins: list[str] | None = None,
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        token_max_age_s: int = DEFAULT_TOKEN_MAX_AGE_DAYS * 86400,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        socketio_path: str = "/socket.io",
    ) -> None:
        """Create the channel."""
        super().__init__(
            user_message_evt=user_message_evt,
            bot_message_evt=bot_message_evt,
            session_persistence=True,
            socketio_path=socketio_path,
        )
        self.key = hmac.new(secret, _KEY_PURPOSE, hashlib.sha256).digest()
        self.secret = secret  # keys the per-client limits like the web chat's
        self._app: Any = None
        self.cors_allowed_origins = cors_allowed_origins
        self.max_message_chars = max_message_chars
        self.token_max_age_s = token_max_age_s
        self.wording = load_feedback_options()  # data/responses/webchat.yml
        self.map_link = self.wording.map_link
        self._rooms: dict[str, str] = {}

    @classmethod
    def name(cls) -> str:
        """Channel name (Rasa's, so ``channel: socketio`` response variations still apply)."""
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SignedSocketIOInput:
        """Create the channel from its ``credentials.yml`` section (all keys optional)."""
        creds = credentials or {}
        secret = load_secret(
            str(creds.get("secret_env") or SECRET_ENV),
            str(creds.get("secret_file") or DEFAULT_SECRET_FILE),
        )
        return cls(
            secret=secret,
            cors_allowed_origins=allowed_origins(creds.get("cors_allowed_origins")),
            max_message_chars=int(creds.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)),
            token_max_age_s=int(
                float(creds.get("token_max_age_days", DEFAULT_TOKEN_MAX_AGE_DAYS)) * 86400
            ),
            user_message_evt=str(creds.get("user_message_evt", "user_uttered")),
            bot_message_evt=str(creds.get("bot_message_evt", "bot_uttered")),
            socketio_path=str(creds.get("socketio_path", "/socket.io")),
        )

    # -- sessions -------------------------------------------------------------------------

    def new_session(self) -> tuple[str, str]:
        """Issue a conversation id and its signed session token."""
        conversation_id = new_conversation_id()
        return conversation_id, issue_token(self.key, conversation_id)

    def conversation_of(self, token: Any) -> str | None:
        """The conversation id of a session token (None: missing, forged or expired)."""
        if not isinstance(token, str):
            return None
        return verify_token(self.key, token, self.token_max_age_s)

    async def _join(self, sio: AsyncServer, sid: str, conversation_id: str) -> None:
        previous = self._rooms.get(sid)
        if previous == conversation_id:
            return
        if previous is not None:
            await sio.leave_room(sid, previous)
        await sio.enter_room(sid, conversation_id)
        self._rooms[sid] = conversation_id

    # -- the server -------------------------------------------------------------------------

    def get_output_channel(self) -> SafeSocketIOOutput | None:  # type: ignore[override]
        """The output channel for messages sent outside a turn (reminders, external events)."""
        if self.sio is None:
            return None
        return SafeSocketIOOutput(self.sio, self.bot_message_evt, self.map_link)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Build the socket.io server and its Sanic blueprint."""
        fix_sanic_websocket_recv()
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=origin_check(self.cors_allowed_origins),
            max_http_buffer_size=MAX_BODY_BYTES,
        )
        self.sio = sio
        blueprint = SocketBlueprint(
            sio, self.socketio_path or "/socket.io", "socketio_webhook", __name__
        )

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            self._app = app  # the agent is on app.ctx once the model is loaded

        async def say(sid: str, text: str) -> None:
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid)

        @sio.on("connect")
        async def connect(sid: str, environ: dict, auth: Any = None) -> bool:
            return True

        @sio.on("disconnect")
        async def disconnect(sid: str, *args: Any) -> None:
            self._rooms.pop(sid, None)

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None) -> None:
            token = data.get("session_id") if isinstance(data, dict) else None
            conversation_id = self.conversation_of(token)
            if conversation_id is None:
                conversation_id, token = self.new_session()
            await self._join(sio, sid, conversation_id)
            await sio.emit("session_confirm", token, room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict):
                await say(sid, self.wording.bad_request)
                return
            conversation_id = self.conversation_of(data.get("session_id"))
            if conversation_id is None:
                conversation_id, token = self.new_session()
                await self._join(sio, sid, conversation_id)
                await sio.emit("session_confirm", token, room=sid)
                await say(sid, self.wording.session_expired)
                return
            if data.get("message") in (None, ""):
                return  # the widget's empty "initPayload" when none is configured
            try:
                incoming = validate_message(
                    {"message": data.get("message")}, self.max_message_chars
                )
            except ApiError as err:
                await say(sid, err.message)
                return
            await self._join(sio, sid, conversation_id)
            agent = getattr(self._app.ctx, "agent", None) if self._app is not None else None
            if agent is None:
                await say(sid, FALLBACK_TEXT)
                return
            # Only a payload the bot just offered may set entities (and through them slots).
            if not await payload_is_offered(agent.tracker_store, conversation_id, incoming.text):
                await say(sid, STALE_BUTTON_TEXT)
                return
            environ = sio.get_environ(sid) or {}
            request = environ.get("sanic.request")
            address = getattr(request, "remote_addr", "") or getattr(request, "ip", "")
            metadata = {"client_key": client_key(self.secret, address)}
            output = SafeSocketIOOutput(sio, self.bot_message_evt, self.map_link)
            message = UserMessage(
                incoming.text,
                output,
                conversation_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            health = watch_turn()
            try:
                await on_new_message(message)
            except Exception:
                logger.exception("socket.io: Rasa failed on a message of %s…", conversation_id[:6])
            if output.sent == 0 or health.store_failed:
                await sio.emit(self.bot_message_evt, {"text": FALLBACK_TEXT}, room=conversation_id)

        return blueprint
