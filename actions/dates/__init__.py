"""Chinese date and time-of-day parsing for the booking dialogue (pure functions, no I/O).

Everything is relative to a given ``now`` in Beijing time (Asia/Shanghai), so the same text
always gives the same answer in tests::

    >>> import datetime as dt
    >>> now = dt.datetime(2026, 12, 2, 10, 0)          # a Wednesday
    >>> parse_datetime("周五下午三点半", now)
    DateTimeParse(day=datetime.date(2026, 12, 4), time=datetime.time(15, 30), half_day='afternoon')

Understood (inside any other words, full-width digits and Chinese numerals included):

- relative days: 今天/今日/今儿, 明天/明日/明儿/明早/明晚, 后天, 大后天, 昨天/前天 (past days are
  returned as such; the caller decides they are not bookable), ``N天后``;
- weekdays: 周五, 星期五, 礼拜五, 周日/周天/星期天, with 这/本/这个 (this week), 下/下个 (next
  week), 下下 (the week after), 上 (last week); a bare weekday is the next such day (today
  included);
- calendar dates: 12月5日, 12月5号, 十二月五号, 12.5, 12/5, 2026-12-05, 2026年12月5日,
  ``5号``/``5日`` (this month, or next month if already past), 下个月5号;
- times: 三点, 3点, 15:00, 下午三点半, 九点一刻, 10点20分, 十点整, with 上午/早上/中午/下午/晚上;
  a bare hour from 1 to 6 is read as afternoon (office hours: nobody books 3 a.m.).

Modules: :mod:`.text` (normalisation, numerals via ``cn2an``), :mod:`.days`, :mod:`.times`,
:mod:`.labels` (how replies show a day or a time); Beijing time is :mod:`bot.workdays`.

Why not jionlp's time parser: tried on the 95 date/time cases of the tests
(``tests/actions/dates/`` and the booking tests; ``bench/date_parsers.py``), with the same
normalisation and office-hours rules around it, jionlp 1.5.31 got 80 right and this parser 95
(the cases were written for this parser, so that favours it). jionlp's misses include
impossible dates read as real ones (2月30日 -> 12月30日, 13月1日 -> 12月1日), dates already
past this year not moved to next year (1月8日), 三号窗口 read as the 3rd, 12.5 not read and
周二 read as last Tuesday; it also brings about 170 MB (its segmenter jiojio). Kept ours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from actions.dates.days import day_in, without_dates
from actions.dates.days import parse_date as parse_date
from actions.dates.labels import format_day as format_day
from actions.dates.labels import format_time as format_time
from actions.dates.text import cn_to_int as cn_to_int
from actions.dates.text import normalize
from actions.dates.times import HalfDay as HalfDay
from actions.dates.times import half_day_of as half_day_of
from actions.dates.times import parse_time as parse_time
from actions.dates.times import time_in
from bot.workdays import TZ as TZ
from bot.workdays import as_local
from bot.workdays import now_local as now_local


@dataclass(frozen=True)
class DateTimeParse:
    """What a piece of text says about a day and a time of day.

    Attributes:
        day: the calendar day, or None if the text names no day.
        time: an exact time of day (``15:30``), or None.
        half_day: ``morning``/``noon``/``afternoon``/``evening`` when said (or implied by the
            exact time), else None.

    """

    day: dt.date | None = None
    time: dt.time | None = None
    half_day: HalfDay | None = None

    @property
    def empty(self) -> bool:
        """True when the text named neither a day nor a time."""
        return self.day is None and self.time is None and self.half_day is None


def parse_datetime(text: str, now: dt.datetime | dt.date | None = None) -> DateTimeParse:
    """Parse both the day and the time of day from a Chinese text.

    Args:
        text: free text, e.g. ``周五下午三点`` or ``我想约明天上午的``.
        now: the reference time (Beijing); default: the current time.

    Returns:
        A :class:`DateTimeParse` (fields None when not mentioned).

    """
    value = normalize(text)
    day = day_in(value, as_local(now).date())
    # Remove the date part before looking for a time, so "12.5" or "5号" are not read as hours.
    when, half_day = time_in(without_dates(value))
    return DateTimeParse(day=day, time=when, half_day=half_day)
