"""Which day a Chinese text talks about (relative days, weekdays, calendar dates)."""

from __future__ import annotations

import datetime as dt
import re

from actions.dates.text import NUM, NUM2, cn_to_int, normalize
from bot.workdays import as_local

_WEEKDAY_CHARS = {
    **{c: i for i, c in enumerate("一二三四五六")},
    "日": 6,
    "天": 6,
    "末": -1,  # 周末: not a day
    **{str(i + 1): i for i in range(7)},
}


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _add_months(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + (day.month - 1) + months
    return index // 12, index % 12 + 1


_RE_FULL = re.compile(
    rf"(?<!\d)({NUM})\s*[年\-/.]\s*({NUM2})\s*[月\-/.]\s*({NUM2})\s*[日号]?(?![\d:])"
)
_RE_MONTH_DAY = re.compile(rf"({NUM2})月份?({NUM2})[日号]?")
_RE_DOTTED = re.compile(r"(?<![\d.:/\-])(\d{1,2})[./](\d{1,2})(?![\d.:/]|\s*[点时分])")
_RE_RELATIVE = re.compile(
    r"大大后天|大后天|后天|明天|明日|明儿|明早|明晚|今天|今日|今儿|今早|今晚|昨天|前天"
)
_RE_DAYS_LATER = re.compile(rf"({NUM2})天(?:之后|以后|后)")
_RE_WEEKDAY = re.compile(r"(下下个?|下个?|这个?|本|上个?)?(?:周|星期)([一二三四五六日天末1-7])")
_RE_DAY_OF_MONTH = re.compile(
    rf"(下个?月|这个?月|本月)?({NUM2})[号日](?!窗口|楼|线|门|房|院|床|台|机|柜)"
)

_RELATIVE_OFFSETS = {
    "大大后天": 4,
    "大后天": 3,
    "后天": 2,
    "明天": 1,
    "明日": 1,
    "明儿": 1,
    "明早": 1,
    "明晚": 1,
    "今天": 0,
    "今日": 0,
    "今儿": 0,
    "今早": 0,
    "今晚": 0,
    "昨天": -1,
    "前天": -2,
}


def _month_offset(prefix: str | None) -> int:
    if prefix and prefix.startswith("下"):
        return 1
    return 0


def parse_date(text: str, now: dt.datetime | dt.date | None = None) -> dt.date | None:
    """Find the day a Chinese text talks about.

    Args:
        text: free text, e.g. ``我想约下周三上午``.
        now: the reference time (Beijing, naive or aware); default: the current time.

    Returns:
        The day, or None if no (valid) day is named. A day in the past is returned as is.

    """
    return day_in(normalize(text), as_local(now).date())


def day_in(value: str, today: dt.date) -> dt.date | None:
    """Find the day in already :func:`~actions.dates.text.normalize`-d text.

    Args:
        value: normalised text.
        today: the reference day.

    Returns:
        The day, or None.

    """
    match = _RE_FULL.search(value)
    if match:
        year, month, day = (cn_to_int(g) for g in match.groups())
        if year is not None and month is not None and day is not None:
            if year < 100:
                year += 2000
            if 2000 <= year <= 2100:
                return _safe_date(year, month, day)

    match = _RE_MONTH_DAY.search(value)
    if match:
        month, day = cn_to_int(match.group(1)), cn_to_int(match.group(2))
        if month is not None and day is not None and 1 <= month <= 12:
            candidate = _safe_date(today.year, month, day)
            if candidate is None:
                candidate = _safe_date(today.year + 1, month, day)
            elif candidate < today:
                candidate = _safe_date(today.year + 1, month, day)
            if candidate is not None:
                return candidate

    match = _RE_DOTTED.search(value)
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12 and 1 <= day <= 31:
            candidate = _safe_date(today.year, month, day)
            if candidate is not None and candidate < today:
                candidate = _safe_date(today.year + 1, month, day)
            if candidate is not None:
                return candidate

    match = _RE_RELATIVE.search(value)
    if match:
        return today + dt.timedelta(days=_RELATIVE_OFFSETS[match.group(0)])

    match = _RE_DAYS_LATER.search(value)
    if match:
        days = cn_to_int(match.group(1))
        if days is not None and days <= 366:
            return today + dt.timedelta(days=days)

    match = _RE_WEEKDAY.search(value)
    if match:
        prefix, char = match.group(1) or "", match.group(2)
        weekday = _WEEKDAY_CHARS[char]
        if weekday >= 0:
            monday = today - dt.timedelta(days=today.weekday())
            if prefix.startswith("下下"):
                return monday + dt.timedelta(days=14 + weekday)
            if prefix.startswith("下"):
                return monday + dt.timedelta(days=7 + weekday)
            if prefix.startswith("上"):
                return monday + dt.timedelta(days=-7 + weekday)
            if prefix:  # 这/本/这个: this calendar week
                return monday + dt.timedelta(days=weekday)
            ahead = (weekday - today.weekday()) % 7
            return today + dt.timedelta(days=ahead)

    for match in _RE_DAY_OF_MONTH.finditer(value):
        before = value[match.start() - 1] if match.start() > 0 else ""
        if match.group(1) is None and before and before in "期周月年0123456789":
            continue
        day = cn_to_int(match.group(2))
        if day is not None and 1 <= day <= 31:
            prefix = match.group(1)
            year, month = _add_months(today, _month_offset(prefix))
            candidate = _safe_date(year, month, day)
            if prefix is None and (candidate is None or candidate < today):
                year, month = _add_months(today, 1)
                candidate = _safe_date(year, month, day)
            return candidate
    return None


def without_dates(value: str) -> str:
    """Blank out calendar dates (``12.5``, ``12月5日``, ``2026-12-05``) in normalised text.

    So that the time parser does not read ``12.5`` or ``5日`` as an hour.

    Args:
        value: normalised text.

    Returns:
        The text with each calendar date replaced by a space.

    """
    for pattern in (_RE_FULL, _RE_MONTH_DAY, _RE_DOTTED):
        value = pattern.sub(" ", value)
    return value
