"""Masking of personal data (phone numbers, ID-card numbers) for replies, logs and storage.

Every edge of the system (replies, log lines, stored events, console pages) uses these
functions, so a number is masked the same way everywhere:

    >>> mask_phone("13812345678")
    '138****5678'
    >>> mask_id_number("11010519491231002X")
    '1101**********002X'
"""

from __future__ import annotations

import re
from typing import Any

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")

# An 18-digit resident ID (last char may be X) or the old 15-digit form, not inside a longer
# run of digits. Spaces/dashes between groups are tolerated ("1101 0519 4912 3100 2X").
_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])(\d{6}[ -]?\d{4}[ -]?\d{4}[ -]?\d{3}[0-9Xx]|\d{15})(?![0-9A-Za-z])"
)
# Mainland mobile numbers, optionally +86 / 86 prefixed, tolerating spaces or dashes (3-4-4).
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(1[3-9]\d[ -]?\d{4}[ -]?\d{4})(?!\d)")


def _digits(value: str) -> str:
    return re.sub(r"[ -]", "", value.translate(_FULLWIDTH_DIGITS))


def mask_phone(phone: str) -> str:
    """Mask a mobile number, keeping the first 3 and last 4 digits.

    Args:
        phone: an 11-digit mobile number (spaces, dashes and +86 are tolerated).

    Returns:
        The masked number, e.g. ``138****5678``. Anything that is not a phone number
        is masked entirely (``****``) rather than echoed.
    """
    digits = _digits(phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11 and digits.isdigit():
        return f"{digits[:3]}****{digits[-4:]}"
    return "****"


def mask_id_number(id_number: str) -> str:
    """Mask a resident ID-card number, keeping the first 4 and last 4 characters.

    Args:
        id_number: an 18-character (or old 15-digit) ID number.

    Returns:
        The masked number, e.g. ``1101**********002X``; other input is masked entirely.
    """
    value = _digits(id_number).upper()
    if len(value) in (15, 18):
        return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"
    return "****"


def mask_text(text: str) -> str:
    """Mask every ID-card number and mobile number inside free text.

    Full-width digits are recognised too. Text without personal numbers is returned unchanged.

    Args:
        text: any user or bot text.

    Returns:
        The text with ID numbers and phone numbers masked.
    """
    if not text:
        return text
    # Work on a copy with half-width digits so full-width input is caught, but keep the
    # original characters everywhere nothing is masked (the translation is length-preserving).
    probe = text.translate(_FULLWIDTH_DIGITS)
    out: list[str] = []
    last = 0
    spans: list[tuple[int, int, str]] = []
    for match in _ID_RE.finditer(probe):
        spans.append((match.start(1), match.end(1), mask_id_number(match.group(1))))
    taken = [(s, e) for s, e, _ in spans]
    for match in _PHONE_RE.finditer(probe):
        start, end = match.start(), match.end()
        if any(s < end and start < e for s, e in taken):
            continue
        spans.append((start, end, mask_phone(match.group(0))))
    for start, end, masked in sorted(spans):
        out.append(text[last:start])
        out.append(masked)
        last = end
    out.append(text[last:])
    return "".join(out)


def mask_data(value: Any) -> Any:
    """Recursively mask personal numbers inside strings of a JSON-like structure.

    Args:
        value: a str, list, dict or scalar (e.g. a serialised Rasa event).

    Returns:
        A copy with every string passed through :func:`mask_text`.
    """
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_data(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_data(v) for k, v in value.items()}
    return value
