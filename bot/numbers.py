"""The one module that reads and masks personal numbers (mobile phones, ID-card numbers).

Parsing and masking share one scanner, so every number the assistant can read, it masks:

    >>> mask_text("电话 1395 724 6805")
    '电话 139****6805'
    >>> parse_phone("一三九 五七二四 六八零五")
    '13957246805'
    >>> mask_text("身份证 1101 0519 4912 3100 2X")
    '身份证 1101**********002X'

A *digit* is any Unicode decimal or digit character (ASCII, full-width ``０-９``, circled,
superscript, other scripts) or a Chinese numeral read digit by digit (〇零一二三四五六七八九幺,
壹贰叁肆伍陆柒捌玖). Digits may be separated by up to :data:`MAX_SEPARATORS` separator characters:
any Unicode space (ideographic, no-break, thin …), tabs and line breaks, invisible format
characters (zero-width space …), dots (``.`` ``·`` ``・`` ``．`` ``。``), dashes of every width and
``_``/``/``. A maximal stretch of digits and separators is a *run*; a run is cut into *groups*
at its separators. A sequence of whole consecutive groups is

- an **ID-card number** when it spells 17 digits + a digit or ``X``, or 15 digits;
- a **mobile number** when it spells ``1[3-9]`` + 9 digits, optionally after ``86``/``0086``.

ID numbers are looked for first (longest first), then phones among the remaining groups, so a
phone written next to more digits is still masked (as an ID when the whole reads as one).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

#: How many separator characters may stand between two digits of one number.
MAX_SEPARATORS = 3

_CJK_DIGITS = {
    "〇": "0", "零": "0", "一": "1", "幺": "1", "二": "2", "三": "3", "四": "4", "五": "5",
    "六": "6", "七": "7", "八": "8", "九": "9", "壹": "1", "贰": "2", "貳": "2", "叁": "3",
    "參": "3", "肆": "4", "伍": "5", "陆": "6", "陸": "6", "柒": "7", "捌": "8", "玖": "9",
}  # fmt: skip
_X_CHARS = "XxＸｘ"
_EXTRA_SEPARATORS = ".·・．。•‧_/／\\"
_PHONE_RE = re.compile(r"(?:0086|86)?(1[3-9]\d{9})")

Kind = Literal["phone", "id"]


@dataclass(frozen=True)
class NumberMatch:
    """A personal number found in a text.

    Attributes:
        kind: ``"phone"`` or ``"id"``.
        start: index of its first character in the text.
        end: index after its last character.
        value: the canonical value: 11 ASCII digits, or 15/18 characters (``X`` upper case).
    """

    kind: Kind
    start: int
    end: int
    value: str

    @property
    def masked(self) -> str:
        """The masked form shown instead of the number."""
        return _mask_phone_digits(self.value) if self.kind == "phone" else _mask_id(self.value)


def _digit_of(char: str) -> str | None:
    if char in _CJK_DIGITS:
        return _CJK_DIGITS[char]
    value = unicodedata.digit(char, None)
    return str(value) if value is not None else None


def _is_separator(char: str) -> bool:
    if char in _EXTRA_SEPARATORS or char.isspace():
        return True
    category = unicodedata.category(char)
    # Zs/Zl/Zp: every kind of space; Pd: every dash; Cf: zero-width and other invisibles.
    return category in ("Zs", "Zl", "Zp", "Pd", "Cf")


@functools.lru_cache(maxsize=1)
def _run_re() -> re.Pattern[str]:
    """The run pattern, built on first use from the Unicode tables (no import-time work)."""
    digits: list[str] = []
    separators: list[str] = []
    for code in range(0x10000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        if _digit_of(char) is not None:
            digits.append(char)
        elif _is_separator(char):
            separators.append(char)
    digit_class = "[" + "".join(re.escape(c) for c in digits) + "]"
    sep_class = "[" + "".join(re.escape(c) for c in separators) + "]"
    x_class = "[" + _X_CHARS + "]"
    pattern = (
        f"{digit_class}(?:{sep_class}{{0,{MAX_SEPARATORS}}}{digit_class})*"
        f"(?:{sep_class}{{0,{MAX_SEPARATORS}}}{x_class})?"
    )
    return re.compile(pattern)


@functools.lru_cache(maxsize=1)
def _has_digit_re() -> re.Pattern[str]:
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF and _digit_of(chr(c))]
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]")


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    digits: str


def _groups(run: str, offset: int) -> list[_Group]:
    groups: list[_Group] = []
    start: int | None = None
    digits: list[str] = []
    for index, char in enumerate(run):
        digit = "X" if char in _X_CHARS else _digit_of(char)
        if digit is None:  # a separator closes the current group
            if start is not None:
                groups.append(_Group(offset + start, offset + index, "".join(digits)))
                start, digits = None, []
            continue
        if start is None:
            start = index
        digits.append(digit)
    if start is not None:
        groups.append(_Group(offset + start, offset + len(run), "".join(digits)))
    return groups


def _id_value(spelled: str) -> str | None:
    if spelled[:1] in ("", "0"):  # ID numbers start with a region code (1-8)
        return None
    if (
        len(spelled) == 18
        and spelled[:17].isdigit()
        and (spelled[17].isdigit() or spelled[17] == "X")
    ):
        return spelled
    if len(spelled) == 15 and spelled.isdigit():
        return spelled
    return None


def _phone_value(spelled: str) -> str | None:
    match = _PHONE_RE.fullmatch(spelled)
    return match.group(1) if match else None


def _matches_in_run(groups: list[_Group]) -> list[NumberMatch]:
    taken = [False] * len(groups)
    found: list[NumberMatch] = []
    for kind in ("id", "phone"):
        limit = 18 if kind == "id" else 15
        for i in range(len(groups)):
            if taken[i]:
                continue
            best: tuple[int, str] | None = None
            spelled = ""
            for j in range(i, len(groups)):
                if taken[j]:
                    break
                spelled += groups[j].digits
                if len(spelled) > limit:
                    break
                value = _id_value(spelled) if kind == "id" else _phone_value(spelled)
                if value is not None:
                    best = (j, value)
                    if kind == "phone":
                        break
            if best is None:
                continue
            j, value = best
            for k in range(i, j + 1):
                taken[k] = True
            found.append(
                NumberMatch(kind, groups[i].start, groups[j].end, value)  # type: ignore[arg-type]
            )
    return sorted(found, key=lambda m: m.start)


def find_numbers(text: str | None) -> list[NumberMatch]:
    """Find every phone and ID-card number in a text, in order.

    Args:
        text: any text (user message, bot reply, log line).

    Returns:
        The numbers found, with their spans in ``text``.
    """
    if not text or not _has_digit_re().search(text):
        return []
    found: list[NumberMatch] = []
    for run in _run_re().finditer(text):
        if len(run.group(0)) < 11:
            continue
        found.extend(_matches_in_run(_groups(run.group(0), run.start())))
    return found


def iter_phones(text: str | None) -> Iterator[NumberMatch]:
    """Yield the mobile numbers of a text (ID numbers are skipped)."""
    return (m for m in find_numbers(text) if m.kind == "phone")


def parse_phone(text: str | None) -> str | None:
    """Return the first mobile number in a text as 11 ASCII digits.

    Args:
        text: what the user typed, in any way of writing digits and separators.

    Returns:
        The number, or ``None``.
    """
    return next((m.value for m in iter_phones(text)), None)


def digit_groups(text: str | None) -> list[str]:
    """Return the groups of digits of a text as ASCII strings (``"五六七八"`` -> ``["5678"]``).

    Args:
        text: any text.

    Returns:
        One string per group of digits not cut by a separator or another character.
    """
    if not text or not _has_digit_re().search(text):
        return []
    groups: list[str] = []
    for run in _run_re().finditer(text):
        groups.extend(g.digits for g in _groups(run.group(0), run.start()))
    return groups


def _mask_phone_digits(digits: str) -> str:
    return f"{digits[:3]}****{digits[-4:]}"


def _mask_id(value: str) -> str:
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_phone(phone: str) -> str:
    """Mask a mobile number, keeping the first 3 and last 4 digits (``138****5678``).

    Args:
        phone: a mobile number in any way of writing it.

    Returns:
        The masked number; anything that is not one phone number becomes ``****``.
    """
    value = parse_phone(phone)
    return _mask_phone_digits(value) if value else "****"


def mask_id_number(id_number: str) -> str:
    """Mask an ID-card number, keeping the first and last 4 characters (``1101**********002X``).

    Args:
        id_number: an 18- or 15-character ID number in any way of writing it.

    Returns:
        The masked number; anything else becomes ``****``.
    """
    found = [m for m in find_numbers(id_number) if m.kind == "id"]
    return found[0].masked if found else "****"


def mask_text(text: str) -> str:
    """Mask every phone and ID-card number inside a text; other characters are kept.

    Args:
        text: any user text, bot text or log line.

    Returns:
        The text with each number replaced by its masked form.
    """
    if not isinstance(text, str):
        return text
    found = find_numbers(text)
    if not found:
        return text
    out: list[str] = []
    last = 0
    for match in found:
        out.append(text[last : match.start])
        out.append(match.masked)
        last = match.end
    out.append(text[last:])
    return "".join(out)


def mask_data(value: Any) -> Any:
    """Recursively mask the strings (values and keys) of a JSON-like structure.

    Args:
        value: a str, list, tuple, dict or scalar (e.g. a serialised Rasa event).

    Returns:
        A copy with every string passed through :func:`mask_text`.
    """
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, (list, tuple)):
        return [mask_data(v) for v in value]
    if isinstance(value, dict):
        return {mask_data(k) if isinstance(k, str) else k: mask_data(v) for k, v in value.items()}
    return value
