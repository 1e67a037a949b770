"""Day and time together (actions.dates.parse_datetime), relative to a fixed Beijing 'now'."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.dates import (
    parse_date,
    parse_datetime,
)

# Wednesday 2 December 2026, 10:00 Beijing time.
NOW = dt.datetime(2026, 12, 2, 10, 0)
D = dt.date


@pytest.mark.parametrize(
    ("text", "day", "when", "half"),
    [
        ("周五下午三点", D(2026, 12, 4), dt.time(15, 0), "afternoon"),
        ("后天上午", D(2026, 12, 4), None, "morning"),
        ("明天下午两点半", D(2026, 12, 3), dt.time(14, 30), "afternoon"),
        ("12月5日上午9:30", D(2026, 12, 5), dt.time(9, 30), "morning"),
        ("12/5 9:30", D(2026, 12, 5), dt.time(9, 30), "morning"),
        ("12 月 5 日 下午 3 点", D(2026, 12, 5), dt.time(15, 0), "afternoon"),
        ("2026-12-05 15:00", D(2026, 12, 5), dt.time(15, 0), "afternoon"),
        ("12.5号下午2点", D(2026, 12, 5), dt.time(14, 0), "afternoon"),
        ("明早", D(2026, 12, 3), None, "morning"),
        ("下周三", D(2026, 12, 9), None, None),
    ],
)
def test_parse_datetime(text: str, day: dt.date, when: dt.time | None, half: str | None) -> None:
    parsed = parse_datetime(text, NOW)
    assert (parsed.day, parsed.time, parsed.half_day) == (day, when, half)


def test_parse_datetime_empty_and_aware_now() -> None:
    assert parse_datetime("我要预约", NOW).empty
    aware = dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)  # 01:00 on 3 Dec in Beijing
    assert parse_date("明天", aware) == D(2026, 12, 4)
