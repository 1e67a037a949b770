"""Which day a Chinese text names (actions.dates.days), relative to a fixed Beijing now."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.dates import parse_date

# Wednesday 2 December 2026, 10:00 Beijing time.
NOW = dt.datetime(2026, 12, 2, 10, 0)
D = dt.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天", D(2026, 12, 2)),
        ("明天", D(2026, 12, 3)),
        ("明儿上午", D(2026, 12, 3)),
        ("后天", D(2026, 12, 4)),
        ("大后天", D(2026, 12, 5)),
        ("下周三", D(2026, 12, 9)),
        ("下个星期三", D(2026, 12, 9)),
        ("下下周一", D(2026, 12, 14)),
        ("这周五", D(2026, 12, 4)),
        ("本周一", D(2026, 11, 30)),  # already past: returned, the caller refuses it
        ("周五", D(2026, 12, 4)),
        ("星期五", D(2026, 12, 4)),
        ("礼拜五", D(2026, 12, 4)),
        ("周三", D(2026, 12, 2)),  # a bare weekday that is today means today
        ("周二", D(2026, 12, 8)),  # ... and one already gone this week means next week
        ("周日", D(2026, 12, 6)),
        ("星期天", D(2026, 12, 6)),
        ("周7", D(2026, 12, 6)),
        ("12月5日", D(2026, 12, 5)),
        ("12月5号", D(2026, 12, 5)),
        ("十二月五号", D(2026, 12, 5)),
        ("１２月５日", D(2026, 12, 5)),
        ("12.5", D(2026, 12, 5)),
        ("12/5", D(2026, 12, 5)),
        ("2026-12-05", D(2026, 12, 5)),
        ("２０２６－１２－０５", D(2026, 12, 5)),
        ("2026年12月5日", D(2026, 12, 5)),
        ("二〇二六年十二月五日", D(2026, 12, 5)),
        ("1月8日", D(2027, 1, 8)),  # month already past this year: next year
        ("5号", D(2026, 12, 5)),
        ("1号", D(2027, 1, 1)),  # day already past this month: next month
        ("下个月5号", D(2027, 1, 5)),
        ("3天后", D(2026, 12, 5)),
        ("三天以后", D(2026, 12, 5)),
        ("我想约明天上午的", D(2026, 12, 3)),
        ("那就改到下周三吧谢谢", D(2026, 12, 9)),
        ("昨天", D(2026, 12, 1)),
    ],
)
def test_parse_date(text: str, expected: dt.date) -> None:
    assert parse_date(text, NOW) == expected


@pytest.mark.parametrize(
    "text",
    ["", "你好", "我要预约", "周末", "三号窗口", "2月30日", "13月1日", "13812345678", "快一点"],
)
def test_parse_date_none(text: str) -> None:
    assert parse_date(text, NOW) is None
