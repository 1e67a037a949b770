"""Password hashing (scrypt), random tokens and constant-time comparisons for the console."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

#: scrypt r and p (N is configurable; the default 2**17 follows current OWASP guidance).
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
_MAXMEM = 512 * 1024 * 1024
MIN_PASSWORD_LENGTH = 10
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
#: What :func:`new_token` produces (a cookie claiming to be a token must look like one).
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,100}")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, n: int = 2**17) -> str:
    """Hash a password with scrypt and a random salt.

    Args:
        password: the clear-text password.
        n: scrypt CPU/memory cost (a power of two).

    Returns:
        ``scrypt$N$r$p$salt$hash`` (base64 fields), safe to store.

    """
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=_MAXMEM,
        dklen=SCRYPT_DKLEN,
    )
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a stored ``scrypt$...`` hash in constant time.

    Args:
        password: the clear-text password typed at login.
        stored: the value from :func:`hash_password`.

    Returns:
        True if the password matches; False for a wrong password or a malformed hash.

    """
    try:
        scheme, n_raw, r_raw, p_raw, salt_raw, digest_raw = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_raw)
        expected = base64.b64decode(digest_raw)
        digest = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=int(n_raw),
            r=int(r_raw),
            p=int(p_raw),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def new_token() -> str:
    """Return a fresh URL-safe random token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Return the SHA-256 hex digest under which a session token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_equal(a: str | None, b: str | None) -> bool:
    """Compare two tokens in constant time; missing tokens never match."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def password_problem(password: str) -> str | None:
    """Say what is wrong with a new password, or None if it is acceptable.

    Args:
        password: the proposed password.

    Returns:
        A short Chinese explanation, or None.

    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少需要{MIN_PASSWORD_LENGTH}个字符。"
    if password.strip() != password:
        return "密码首尾不能是空格。"
    if len(set(password)) < 4:
        return "密码过于简单。"
    return None
