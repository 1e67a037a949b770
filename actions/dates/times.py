"""Which time of day a Chinese text talks about (三点, 下午三点半, 15:00, 上午)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from actions.dates.text import NUM2, cn_to_int, normalize

HalfDay = Literal["morning", "noon", "afternoon", "evening"]

_RE_HALF_DAY: list[tuple[HalfDay, re.Pattern[str]]] = [
    ("morning", re.compile(r"上午|早上|早晨|清早|一早|上半天|明早|今早|早八|早九")),
    ("noon", re.compile(r"中午|午间|晌午")),
    ("afternoon", re.compile(r"下午|午后|下半天|后半天")),
    ("evening", re.compile(r"晚上|傍晚|今晚|明晚|夜里")),
]
_NOT_TIME_BEFORE = "快慢早晚多少大小好差有再"
_RE_CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-3])\s*:\s*([0-5]\d)(?!\d)")
_RE_HOUR = re.compile(
    rf"(?<!\d)({NUM2})\s*[点點时](?!钟头)"
    rf"(?:\s*(半|一刻|三刻|整|钟|({NUM2})\s*分?))?"
)


def parse_time(text: str) -> tuple[dt.time | None, HalfDay | None]:
    """Find the time of day a Chinese text talks about.

    Args:
        text: free text, e.g. ``下午三点半`` or ``15:00``.

    Returns:
        ``(time, half_day)``: the exact time (or None) and the half-day (said explicitly or
        implied by the time, else None).

    """
    return time_in(normalize(text))


def time_in(value: str) -> tuple[dt.time | None, HalfDay | None]:
    """Find the time of day in already :func:`~actions.dates.text.normalize`-d text.

    Args:
        value: normalised text.

    Returns:
        ``(time, half_day)`` as :func:`parse_time`.

    """
    half_day: HalfDay | None = None
    half_pos = -1
    for name, pattern in _RE_HALF_DAY:
        match = pattern.search(value)
        if match and (half_pos < 0 or match.start() < half_pos):
            half_day, half_pos = name, match.start()

    hour: int | None = None
    minute = 0
    clock = _RE_CLOCK.search(value)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
    else:
        for match in _RE_HOUR.finditer(value):
            if match.group(1) == "一" and value[max(0, match.start() - 1)] in _NOT_TIME_BEFORE:
                continue  # 快一点 / 早一点 ("a bit"), not one o'clock
            parsed_hour = cn_to_int(match.group(1))
            if parsed_hour is None or parsed_hour > 24:
                continue
            extra = match.group(2) or ""
            if extra == "半":
                minute = 30
            elif extra == "一刻":
                minute = 15
            elif extra == "三刻":
                minute = 45
            elif match.group(3):
                parsed_minute = cn_to_int(match.group(3))
                if parsed_minute is None or parsed_minute > 59:
                    continue
                minute = parsed_minute
            hour = parsed_hour % 24
            break

    if hour is None:
        return None, half_day
    if half_day in ("afternoon", "evening") and hour < 12:
        hour += 12
    elif half_day == "noon" and 1 <= hour <= 2:
        hour += 12
    elif half_day is None and 1 <= hour <= 6:
        hour += 12
    when = dt.time(hour % 24, minute)
    if half_day is None:
        half_day = half_day_of(when)
    return when, half_day


def half_day_of(when: dt.time) -> HalfDay:
    """Return the half-day a time of day belongs to (before 12: morning; 12-13: noon; ...).

    Args:
        when: a time of day.

    Returns:
        ``morning``, ``noon``, ``afternoon`` or ``evening``.

    """
    if when.hour < 12:
        return "morning"
    if when.hour < 13:
        return "noon"
    if when.hour < 18:
        return "afternoon"
    return "evening"
