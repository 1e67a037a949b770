"""What a client sends: JSON bodies, messages, the bearer token; JSON errors and replies."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.guard import (
    InputError,
    check_text,
    clean_text,
    parse_json_object,
)
from bot.channels.webchat.constants import (
    MAX_BODY_BYTES,
    MAX_TITLE_CHARS,
)

logger = logging.getLogger(__name__)

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
    return json_response({"error": code, "message": message}, status=status)


def json_response(body: dict[str, Any], status: int = 200) -> HTTPResponse:
    """A JSON response that is never cached (UTF-8, compact)."""
    return response.json(
        body,
        status=status,
        headers={"Cache-Control": "no-store"},
        dumps=json.dumps,
        ensure_ascii=False,
        separators=(",", ":"),
    )


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


Handler = Callable[..., Awaitable[HTTPResponse]]


def never_500(endpoint: str) -> Callable[[Handler], Handler]:
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
