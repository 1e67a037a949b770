"""Days and times as replies show them (actions.dates.labels)."""

from __future__ import annotations

import datetime as dt

from actions.dates import format_day, format_time, half_day_of

D = dt.date


def test_format_day_and_half_day() -> None:
    assert format_day(D(2026, 12, 4), D(2026, 12, 2)) == "后天 12月4日（周五）"
    assert format_day(D(2026, 12, 9), D(2026, 12, 2)) == "12月9日（周三）"
    assert half_day_of(dt.time(9, 0)) == "morning"
    assert half_day_of(dt.time(12, 30)) == "noon"
    assert half_day_of(dt.time(15, 0)) == "afternoon"


def test_near_days_are_named_and_times_are_two_digit() -> None:
    assert format_day(D(2026, 12, 2), D(2026, 12, 2)) == "今天 12月2日（周三）"
    assert format_day(D(2026, 12, 3), D(2026, 12, 2)) == "明天 12月3日（周四）"
    assert format_time(dt.time(9, 5)) == "09:05"
