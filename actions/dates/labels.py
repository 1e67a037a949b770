"""Days and times as the replies show them (``明天 12月3日（周四）``, ``09:30``)."""

from __future__ import annotations

import datetime as dt

from bot.workdays import today_local

WEEKDAY_CN = "一二三四五六日"


def format_day(day: dt.date, today: dt.date | None = None) -> str:
    """Format a day for a reply: ``12月5日（周五）``, prefixed with 今天/明天/后天 when near.

    Args:
        day: the day.
        today: the reference day (default: today in Beijing).

    Returns:
        The label.

    """
    label = f"{day.month}月{day.day}日（周{WEEKDAY_CN[day.weekday()]}）"
    if today is None:
        today = today_local()
    near = {0: "今天", 1: "明天", 2: "后天"}.get((day - today).days)
    return f"{near} {label}" if near else label


def format_time(when: dt.time) -> str:
    """Format a time of day as ``HH:MM``.

    Args:
        when: the time.

    Returns:
        The label, e.g. ``09:30``.

    """
    return when.strftime("%H:%M")
