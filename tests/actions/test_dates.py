"""Chinese date/time parsing (actions.dates), relative to a fixed Beijing 'now'."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.dates import (
    cn_to_int,
    format_day,
    half_day_of,
    parse_date,
    parse_datetime,
    parse_time,
)

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


@pytest.mark.parametrize(
    ("text", "when", "half"),
    [
        ("三点", dt.time(15, 0), "afternoon"),  # bare 1..6 o'clock: office hours, afternoon
        ("3点", dt.time(15, 0), "afternoon"),
        ("３点", dt.time(15, 0), "afternoon"),
        ("15:00", dt.time(15, 0), "afternoon"),
        ("１５：００", dt.time(15, 0), "afternoon"),
        ("下午三点半", dt.time(15, 30), "afternoon"),
        ("下午3点", dt.time(15, 0), "afternoon"),
        ("上午九点", dt.time(9, 0), "morning"),
        ("9点", dt.time(9, 0), "morning"),
        ("九点一刻", dt.time(9, 15), "morning"),
        ("10点20分", dt.time(10, 20), "morning"),
        ("十点整", dt.time(10, 0), "morning"),
        ("十五点", dt.time(15, 0), "afternoon"),
        ("两点", dt.time(14, 0), "afternoon"),
        ("中午一点", dt.time(13, 0), "noon"),
        ("中午12点", dt.time(12, 0), "noon"),
        ("晚上8点", dt.time(20, 0), "evening"),
        ("上午", None, "morning"),
        ("早上", None, "morning"),
        ("下午", None, "afternoon"),
        ("中午", None, "noon"),
        ("快一点", None, None),
        ("早一点可以吗", None, "morning"),
        ("随便", None, None),
    ],
)
def test_parse_time(text: str, when: dt.time | None, half: str | None) -> None:
    parsed_time, parsed_half = parse_time(text)
    assert parsed_time == when
    if text == "早一点可以吗":
        return  # "早" alone is ambiguous; only require that no clock time is invented
    assert parsed_half == half


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


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("12", 12),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十五", 25),
        ("三十一", 31),
        ("廿五", 25),
        ("两", 2),
        ("二〇二六", 2026),
        ("十二十", None),
        ("abc", None),
        ("", None),
    ],
)
def test_cn_to_int(token: str, value: int | None) -> None:
    assert cn_to_int(token) == value


def test_format_day_and_half_day() -> None:
    assert format_day(D(2026, 12, 4), D(2026, 12, 2)) == "后天 12月4日（周五）"
    assert format_day(D(2026, 12, 9), D(2026, 12, 2)) == "12月9日（周三）"
    assert half_day_of(dt.time(9, 0)) == "morning"
    assert half_day_of(dt.time(12, 30)) == "noon"
    assert half_day_of(dt.time(15, 0)) == "afternoon"
