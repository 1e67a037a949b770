"""Conversation ids and the signed bearer tokens that carry them."""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path

from itsdangerous import BadSignature, TimestampSigner

from bot.channels.webchat.constants import (
    CONVERSATION_ID_RE,
    DEFAULT_SECRET_FILE,
    PROJECT_ROOT,
    SECRET_ENV,
    TOKEN_VERSION,
)
from bot.secret_files import secret_value


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


class _Signer(TimestampSigner):
    """itsdangerous' timestamp signer (HMAC-SHA256) with a clock that tests can set."""

    def __init__(self, secret: bytes, now: float | None = None) -> None:
        super().__init__(secret, salt=f"webchat.{TOKEN_VERSION}", digest_method=hashlib.sha256)
        self._now = now

    def get_timestamp(self) -> int:
        return int(time.time() if self._now is None else self._now)


def issue_token(secret: bytes, conversation_id: str, issued_at: int | None = None) -> str:
    """Sign a conversation id into a bearer token (itsdangerous ``TimestampSigner``).

    Args:
        secret: the server secret.
        conversation_id: the id issued by :func:`new_conversation_id`.
        issued_at: Unix time of issue (default: now).

    Returns:
        ``v1.<conversation_id>.<timestamp>.<signature>``.

    """
    signed = _Signer(secret, issued_at).sign(conversation_id).decode("ascii")
    return f"{TOKEN_VERSION}.{signed}"


def verify_token(secret: bytes, token: str, max_age_s: int, now: float | None = None) -> str | None:
    """Check a bearer token and return its conversation id.

    Args:
        secret: the server secret.
        token: the token as sent by the client.
        max_age_s: maximum token age in seconds.
        now: current Unix time (default: now).

    Returns:
        The conversation id, or None if the token is malformed, forged, expired or from the
        future.

    """
    if not token or len(token) > 200 or not token.isascii():
        return None
    version, _, signed = token.partition(".")
    if version != TOKEN_VERSION:
        return None
    try:
        value = _Signer(secret, now).unsign(signed, max_age=max_age_s).decode("ascii")
    except BadSignature:  # also SignatureExpired, and a timestamp in the future
        return None
    return value if CONVERSATION_ID_RE.match(value) else None
