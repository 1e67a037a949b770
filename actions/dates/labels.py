"""Days and times as the replies show them (``明天 12月3日（周四）``, ``09:30``)."""

from __future__ import annotations

import datetime as dt

from bot.responses import response_text
from bot.workdays import near_day_name, today_local, weekday_name


def format_day(day: dt.date, today: dt.date | None = None) -> str:
    """Format a day for a reply: ``12月5日（周五）``, prefixed with 今天/明天/后天 when near.

    The wording is ``utter_label_day``/``utter_label_near_day`` (data/responses/common.yml),
    the words ``weekdays``/``near_days`` (data/knowledge/calendar.yml).

    Args:
        day: the day.
        today: the reference day (default: today in Beijing).

    Returns:
        The label.

    """
    label = response_text(
        "utter_label_day", month=day.month, day=day.day, weekday=weekday_name(day)
    )
    if today is None:
        today = today_local()
    near = near_day_name((day - today).days)
    return response_text("utter_label_near_day", near=near, label=label) if near else label


def format_time(when: dt.time) -> str:
    """Format a time of day as ``HH:MM``.

    Args:
        when: the time.

    Returns:
        The label, e.g. ``09:30``.

    """
    return when.strftime("%H:%M")
