"""Keyed hashing and encryption of phone numbers for the data layer.

A phone number is never stored in plain text. Rows keep:

- ``phone_masked`` (``138****5678``) for display,
- ``phone_hash`` = HMAC-SHA256 of the normalised number under a server secret, to match
  "the same phone" (booking uniqueness, case second factor checks) without being reversible
  by brute force over the 10^10 phone space,
- ``phone_encrypted`` (messages only) = Fernet token, so the officer who calls back can see the
  number in the console.

The secret comes from ``EHUZHENG_SECRET`` (any string, >= 16 characters); without it a random
secret is created once in ``var/secret.key`` under the project root (local development).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet

from bot.numbers import digit_groups, parse_phone
from bot.secret_files import secret_value


def normalise_phone(phone: str) -> str:
    """Reduce a phone number to its 11 digits, however it was written (see :mod:`bot.numbers`).

    Args:
        phone: the number as typed.

    Returns:
        The 11 digits of the mobile number, or all the digits when it is not one.

    """
    return parse_phone(phone) or "".join(digit_groups(phone))


@functools.lru_cache(maxsize=1)
def _secret() -> bytes:
    return secret_value("EHUZHENG_SECRET", "secret.key").encode("utf-8")


def _derive(label: bytes) -> bytes:
    return hmac.new(_secret(), label, hashlib.sha256).digest()


def hash_phone(phone: str) -> str:
    """Keyed hash of a phone number (64 hex characters), stable for one deployment.

    Args:
        phone: the number as typed (normalised first).

    Returns:
        HMAC-SHA256 hex digest.

    """
    return hmac.new(_derive(b"phone-hash"), normalise_phone(phone).encode(), "sha256").hexdigest()


def hash_value(value: str, purpose: str) -> str:
    """Keyed hash of any identifier (e.g. a case number in the audit table).

    Args:
        value: the value to hash.
        purpose: a label separating hash domains (``"case"``...).

    Returns:
        HMAC-SHA256 hex digest.

    """
    key = _derive(b"value-hash:" + purpose.encode())
    return hmac.new(key, value.encode("utf-8"), "sha256").hexdigest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"phone-encryption")))


def encrypt_phone(phone: str) -> str:
    """Encrypt a phone number for storage (only officers' tools decrypt it).

    Args:
        phone: the number as typed (normalised first).

    Returns:
        A Fernet token (ASCII).

    """
    return _fernet().encrypt(normalise_phone(phone).encode()).decode("ascii")


def decrypt_phone(token: str) -> str:
    """Decrypt a value produced by :func:`encrypt_phone`.

    Args:
        token: the stored Fernet token.

    Returns:
        The 11-digit phone number.

    """
    return _fernet().decrypt(token.encode("ascii")).decode("ascii")
