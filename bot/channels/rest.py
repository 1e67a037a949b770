"""The REST channel, for trusted callers only, and never silent.

Registered in ``credentials.yml`` as ``bot.channels.rest.SafeRestInput`` under the usual name
``rest`` (URL ``/webhooks/rest/webhook``). Unlike Rasa's own REST channel:

- it needs the server's API token (``Authorization: Bearer <RASA_AUTH_TOKEN>`` or
  ``?token=``), like the Rasa HTTP API: the public surface is the web chat only;
- the caller's ``sender`` is kept in a namespace of its own (``rest:<sender>``), so a REST
  caller can never address a web-chat conversation, whatever id it sends;
- every message passes the same door as the web chat (:mod:`bot.channels.guard`): cleaned,
  the same length limit, JSON errors;
- if a turn produces no reply (the action server or the database is down), the caller gets
  the "系统繁忙" reply instead of silence.
"""

from __future__ import annotations

import hmac
import os
import re
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.guard import (
    MAX_MESSAGE_CHARS,
    InputError,
    check_text,
    error_body,
    parse_json_object,
)
from bot.tracker_store import watch_turn

BUSY_REPLY = "抱歉，系统繁忙，请稍后再试。您也可以稍后说“留言”，户籍民警会联系您。"
#: Conversation ids of this channel: ``rest:`` + the caller's sender (never a web-chat id).
NAMESPACE = "rest:"
_SENDER_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "") or ""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return str(request.args.get("token") or "")


class SafeRestInput(RestInput):
    """Rasa's REST channel behind the API token, with input limits and a reply for every turn.

    Args:
        token: the API token callers must send (``RASA_AUTH_TOKEN`` when created from
            credentials).
    """

    def __init__(self, token: str) -> None:
        """Create the channel."""
        self.token = token

    @classmethod
    def name(cls) -> str:
        """Keep the standard name (and URL) of the REST channel."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> SafeRestInput:
        """Create the channel; the token comes from the environment (never from a file)."""
        env = str((credentials or {}).get("token_env") or "RASA_AUTH_TOKEN")
        return cls(os.environ.get(env, ""))

    def _authorised(self, request: Request) -> bool:
        given = _token(request)
        return bool(self.token) and hmac.compare_digest(given.encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: ``GET /`` health and ``POST /webhook``."""
        webhook = Blueprint("safe_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json(
                    error_body(401, "unauthorized", "需要授权令牌（仅供内部调用）。"), status=401
                )
            try:
                body = parse_json_object(request.headers.get("content-type"), request.body)
                sender = body.get("sender")
                if not isinstance(sender, str) or not _SENDER_RE.match(sender):
                    raise InputError(400, "invalid_sender", "sender（会话编号）格式不正确。")
                text = check_text(body.get("message"), MAX_MESSAGE_CHARS)
            except InputError as error:
                return response.json(
                    error_body(error.status, error.code, error.message), status=error.status
                )
            conversation_id = NAMESPACE + sender
            collector = CollectingOutputChannel()
            health = watch_turn()
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        conversation_id,
                        input_channel=self.name(),
                        metadata=self.get_metadata(request),
                    )
                )
            except Exception:  # logged by Rasa; the caller still gets an answer
                collector.messages.clear()
            if health.store_failed:  # answered without its context and not saved
                collector.messages.clear()
            messages = [{**m, "recipient_id": sender} for m in collector.messages]
            if not messages and (health.store_failed or not text.startswith("/")):
                messages = [{"recipient_id": sender, "text": BUSY_REPLY}]
            return response.json(messages)

        return webhook
