"""Limits, defaults and fixed texts of the web-chat channel."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
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

TOKEN_VERSION = "v1"
CONVERSATION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
STATIC_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+\.(js|css|svg|png|ico)$")
CONTENT_TYPES = {
    "js": "application/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "ico": "image/x-icon",
}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
