"""The Rasa input channel: the chat page, its assets and the JSON API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import Event
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.guard import (
    client_key,
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
from bot.channels.webchat.constants import (
    CONTENT_TYPES,
    DEFAULT_MAX_MESSAGE_CHARS,
    DEFAULT_REPLY_TIMEOUT_S,
    DEFAULT_SECRET_FILE,
    DEFAULT_TOKEN_MAX_AGE_DAYS,
    FALLBACK_TEXT,
    MAX_MESSAGE_ID_CHARS,
    PAGE_HEADERS,
    SECRET_ENV,
    STALE_BUTTON_TEXT,
    STATIC_NAME_RE,
    WEB_DIR,
)
from bot.channels.webchat.history import (
    WebChatCollector,
    bot_events_with_ids,
    user_review_text,
    visible_history,
)
from bot.channels.webchat.inputs import (
    ApiError,
    IncomingMessage,
    bearer_token,
    json_response,
    never_500,
    parse_json_body,
    reply_text,
    validate_message,
)
from bot.channels.webchat.stores import (
    FeedbackStore,
    RevocationStore,
)
from bot.channels.webchat.tokens import (
    issue_token,
    load_secret,
    new_conversation_id,
    verify_token,
)
from bot.numbers import mask_text
from bot.tracker_store import TurnHealth, watch_turn

logger = logging.getLogger(__name__)


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
        self.feedback_store = feedback_store or FeedbackStore()
        self.revocation_store = revocation_store or RevocationStore()
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
                revoked = await self.revocation_store.is_revoked(conversation_id)
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
    ) -> tuple[list[dict[str, Any]], TurnHealth]:
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
        return messages, health

    async def _mark_rateable(
        self,
        request: Request,
        conversation_id: str,
        messages: list[dict[str, Any]],
        saved: list[Any] | None,
    ) -> None:
        """Add ``rateable`` to each message of a turn (see :mod:`bot.channels.rating`).

        ``saved`` are the events the turn just stored (``TurnHealth.saved_events``).
        """
        rateable: set[str] = set()
        if any(m.get("id") for m in messages):
            try:
                events = saved
                if events is None:  # not saved by this turn: read the store
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
        @never_500("page")
        async def page(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):
                # Relative asset and API URLs need the trailing slash.
                return response.redirect(request.path + "/", status=301)
            path = settings.web_dir / "index.html"
            body = await asyncio.to_thread(path.read_bytes)
            return response.raw(
                body, content_type="text/html; charset=utf-8", headers=dict(PAGE_HEADERS)
            )

        @bp.route("/static/<name>", methods=["GET"])
        @never_500("static")
        async def static(request: Request, name: str) -> HTTPResponse:
            match = STATIC_NAME_RE.match(name)
            path = settings.web_dir / "static" / name
            if match is None or not path.is_file():
                raise ApiError(404, "not_found", "文件不存在。")
            body = await asyncio.to_thread(path.read_bytes)
            return response.raw(
                body,
                content_type=CONTENT_TYPES[match.group(1)],
                headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
            )

        @bp.route("/health", methods=["GET"])
        @never_500("health")
        async def health(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            ready = bool(agent is not None and agent.is_ready())
            return json_response({"status": "ok", "ready": ready})

        @bp.route("/config", methods=["GET"])
        @never_500("config")
        async def config(request: Request) -> HTTPResponse:
            body = self.feedback_options.to_json()
            body["max_message_chars"] = settings.max_message_chars
            return json_response(body)

        @bp.route("/session", methods=["POST"])
        @never_500("session")
        async def session(request: Request) -> HTTPResponse:
            return json_response(self._new_session(), status=201)

        @bp.route("/restart", methods=["POST"])
        @never_500("restart")
        async def restart(request: Request) -> HTTPResponse:
            old = await self._conversation_id(request)
            await self.revocation_store.revoke(old)
            self._revoked.add(old)
            fresh = self._new_session()
            logger.info(
                "webchat: conversation %s… restarted as %s…", old[:6], fresh["conversation_id"][:6]
            )
            return json_response(fresh, status=201)

        @bp.route("/message", methods=["POST"])
        @never_500("message")
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
                return json_response({"conversation_id": conversation_id, "messages": notice})
            # Behind a trusted proxy Sanic's remote_addr is the forwarded client address.
            address = getattr(request, "remote_addr", "") or request.ip
            client = client_key(settings.secret, address)
            messages, health = await self._run_turn(
                on_new_message, conversation_id, incoming, client
            )
            await self._mark_rateable(request, conversation_id, messages, health.saved_events)
            return json_response({"conversation_id": conversation_id, "messages": messages})

        @bp.route("/history", methods=["GET"])
        @never_500("history")
        async def history(request: Request) -> HTTPResponse:
            conversation_id = await self._conversation_id(request)
            events = await self._full_events(request, conversation_id)
            entries = visible_history(events)
            ratings: dict[str, str] = {}
            if any(e["role"] == "bot" for e in entries):
                try:
                    ratings = await self.feedback_store.ratings(conversation_id)
                except Exception:
                    logger.exception("webchat: could not read feedback ratings")
            for entry in entries:
                if entry["role"] == "bot" and entry["id"] in ratings:
                    entry["rating"] = ratings[entry["id"]]
            return json_response({"conversation_id": conversation_id, "messages": entries})

        @bp.route("/feedback", methods=["POST"])
        @never_500("feedback")
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
            user_text = user_review_text(user_event) if user_event is not None else ""
            try:
                await self.feedback_store.save(
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
            return json_response(
                {
                    "ok": True,
                    "message_id": rated.message_id,
                    "rating": rated.rating,
                    "reason": rated.reason,
                }
            )

        return bp
