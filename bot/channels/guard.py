"""The door every input passes first: clean text, bounded JSON, offered payloads, JSON errors.

Every channel (web chat, REST, socket.io) and the Rasa server itself use these helpers before
anything else sees a request:

- :func:`clean_text` drops what cannot be stored or shown (lone UTF-16 surrogates, NUL and
  other control characters, invisible direction overrides) and folds line breaks and tabs;
- :func:`parse_json_object` reads a JSON body with a size and a nesting-depth limit and
  answers a clear :class:`InputError` (4xx) instead of raising deep inside a parser;
- :func:`check_payload` lets a ``/intent{...}`` message through only when it is one of the
  payloads the bot offered in its latest buttons (or a bare ``/intent`` without entities), so a
  client can never set entities (and through them slots) the server did not offer;
- :func:`install_error_handlers` makes every error of the Sanic app a JSON body with a 4xx
  status (oversized headers and bodies, unknown routes, wrong methods …), never an HTML page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)

#: The longest message any channel accepts (characters, after cleaning).
MAX_MESSAGE_CHARS = 500
#: The largest JSON body any channel accepts.
MAX_BODY_BYTES = 64 * 1024
#: The deepest nesting of arrays/objects accepted in a JSON body.
MAX_JSON_DEPTH = 20

_BARE_INTENT_RE = re.compile(r"^/[A-Za-z_]{1,64}$")
_LINE_BREAKS_RE = re.compile(r"[\t\n\r\u2028\u2029\x0b\x0c\x85]+")
_SPACES_RE = re.compile(r" {3,}")


class InputError(Exception):
    """Input a client must fix, reported as JSON ``{"error": code, "message": 中文}``.

    Args:
        status: HTTP status (4xx).
        code: a stable machine-readable code, e.g. ``message_too_long``.
        message: the Chinese explanation shown to the user.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        """Create the error."""
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message


def _keep(char: str) -> bool:
    if 0xD800 <= ord(char) <= 0xDFFF:  # a lone surrogate: cannot be encoded or stored
        return False
    category = unicodedata.category(char)
    if category == "Cc":  # NUL and other control characters (line breaks are folded before)
        return False
    # Cf: zero-width characters, bidi overrides (they can hide or reorder text);
    # Co/Cn: private-use and unassigned code points.
    return category not in ("Cf", "Co", "Cn") or char == "\u200d"  # ZWJ joins emoji


def clean_text(value: str) -> str:
    """Return ``value`` without what cannot be stored or shown, line breaks as spaces, stripped.

    Args:
        value: text from a client.

    Returns:
        The cleaned text (possibly empty).
    """
    if not isinstance(value, str):
        return ""
    value = _LINE_BREAKS_RE.sub(" ", value)
    if not value.isascii():
        value = "".join(c for c in value if _keep(c))
    else:
        value = "".join(c for c in value if c.isprintable())
    return _SPACES_RE.sub("  ", value).strip()


def check_text(value: Any, max_chars: int = MAX_MESSAGE_CHARS) -> str:
    """Clean a message text and enforce the channel limits.

    Args:
        value: the ``message`` field as sent.
        max_chars: the longest accepted message.

    Returns:
        The cleaned text.

    Raises:
        InputError: missing, not text, empty after cleaning, or too long.
    """
    if value is None:
        raise InputError(400, "missing_message", "缺少消息内容（message）。")
    if not isinstance(value, str):
        raise InputError(400, "invalid_message", "消息内容必须是文字。")
    text = clean_text(value)
    if not text:
        raise InputError(400, "empty_message", "消息不能为空，请输入您的问题。")
    if len(text) > max_chars:
        raise InputError(400, "message_too_long", f"消息太长了，请控制在{max_chars}字以内。")
    return text


def _depth_exceeds(raw: str, limit: int) -> bool:
    depth = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_json_object(
    content_type: str | None,
    body: bytes | None,
    max_bytes: int = MAX_BODY_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> dict[str, Any]:
    """Parse a JSON object body, enforcing the content type, size and nesting depth.

    Args:
        content_type: the request's ``Content-Type`` header.
        body: the raw request body.
        max_bytes: the largest accepted body.
        max_depth: the deepest accepted nesting.

    Returns:
        The decoded object.

    Raises:
        InputError: 415 wrong content type, 413 too large, 400 not a (shallow) JSON object.
    """
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise InputError(415, "unsupported_media_type", "请求格式不正确：请使用 application/json。")
    raw = body or b""
    if len(raw) > max_bytes:
        raise InputError(413, "payload_too_large", "请求内容过大。")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(400, "invalid_json", "请求内容不是有效的 UTF-8 JSON。") from None
    if _depth_exceeds(decoded, max_depth):
        raise InputError(400, "invalid_json", "请求内容嵌套过深。")
    try:
        data = json.loads(decoded)
    except (ValueError, RecursionError):
        raise InputError(400, "invalid_json", "请求内容不是有效的 JSON。") from None
    if not isinstance(data, dict):
        raise InputError(400, "invalid_json", "请求内容应为 JSON 对象。")
    return data


def offered_payloads(events: Iterable[Any]) -> set[str]:
    """Return the button payloads of the bot's latest messages (those after the last user turn).

    Args:
        events: a tracker's events (Rasa ``Event`` objects or their dicts), oldest first.

    Returns:
        The payload strings the user may send back.
    """
    payloads: set[str] = set()
    for event in reversed(list(events)):
        data = event if isinstance(event, dict) else event.as_dict()
        kind = data.get("event")
        if kind == "user":
            break
        if kind != "bot":
            continue
        buttons = (data.get("data") or {}).get("buttons") or []
        for button in buttons if isinstance(buttons, list) else []:
            if isinstance(button, dict) and isinstance(button.get("payload"), str):
                payloads.add(button["payload"].strip())
    return payloads


def check_payload(text: str, offered: set[str]) -> bool:
    """Whether a message may go to Rasa as typed.

    Plain text always may. A message starting with ``/`` (Rasa reads it as an intent with
    entities, skipping the NLU) may only when it is a payload just offered by the bot, or a
    bare ``/intent`` without entities.

    Args:
        text: the cleaned message.
        offered: the payloads of the bot's latest buttons (:func:`offered_payloads`).

    Returns:
        True when the message may be processed.
    """
    if not text.startswith("/"):
        return True
    return text in offered or bool(_BARE_INTENT_RE.match(text))


async def payload_is_offered(tracker_store: Any, conversation_id: str, text: str) -> bool:
    """:func:`check_payload` against the conversation's stored tracker (reads it only for ``/``).

    Args:
        tracker_store: the agent's tracker store.
        conversation_id: the conversation the message is for.
        text: the cleaned message.

    Returns:
        True when the message may go to Rasa.
    """
    if not text.startswith("/"):
        return True
    tracker = await tracker_store.retrieve(conversation_id)
    return check_payload(text, offered_payloads(tracker.events if tracker is not None else []))


def client_key(secret: bytes, address: str | None) -> str:
    """A keyed hash of a caller's address, for per-client limits (the address is not kept).

    Args:
        secret: a server secret.
        address: the client's IP address as the server sees it.

    Returns:
        32 hex characters.
    """
    value = f"client.{address or 'unknown'}".encode()
    return hmac.new(secret, value, hashlib.sha256).hexdigest()[:32]


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """The JSON body of an error (the same shape everywhere)."""
    return {"error": code, "message": message, "status": status}


_STATUS_MESSAGES = {
    400: ("bad_request", "请求格式不正确。"),
    401: ("unauthorized", "未授权的请求。"),
    403: ("forbidden", "没有访问权限。"),
    404: ("not_found", "页面或接口不存在。"),
    405: ("method_not_allowed", "不支持的请求方法。"),
    408: ("timeout", "请求超时，请稍后再试。"),
    413: ("payload_too_large", "请求内容或请求头过大。"),
    415: ("unsupported_media_type", "请求格式不正确。"),
    416: ("range_not_satisfiable", "请求范围无效。"),
    417: ("expectation_failed", "请求无法处理。"),
    503: ("unavailable", "系统繁忙，请稍后再试。"),
}


def install_error_handlers(app: Any) -> None:
    """Answer every error of a Sanic app with a JSON body; unexpected ones are logged (masked).

    Handlers registered for more specific exception classes (e.g. Rasa's ``ErrorResponse``)
    keep precedence.

    Args:
        app: the Sanic app.
    """
    from sanic import response
    from sanic.exceptions import SanicException

    def json(status: int) -> Any:
        code, message = _STATUS_MESSAGES.get(status, ("error", "请求无法处理。"))
        return response.json(error_body(status, code, message), status=status, ensure_ascii=False)

    async def sanic_error(request: Any, exception: SanicException) -> Any:
        status = int(getattr(exception, "status_code", 500) or 500)
        if status >= 500:
            logger.error("server error on %s: %r", getattr(request, "path", "?"), exception)
        return json(status)

    async def unexpected(request: Any, exception: Exception) -> Any:
        logger.error("unhandled error on %s", getattr(request, "path", "?"), exc_info=exception)
        return json(500)

    app.error_handler.add(SanicException, sanic_error)
    app.error_handler.add(Exception, unexpected)
