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
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

#: The local time zone of every date and time the citizen talks about.
TZ = ZoneInfo("Asia/Shanghai")

HalfDay = Literal["morning", "noon", "afternoon", "evening"]

#: Chinese labels of the half-days.
HALF_DAY_LABELS: dict[str, str] = {
    "morning": "上午",
    "noon": "中午",
    "afternoon": "下午",
    "evening": "晚上",
}

WEEKDAY_CN = "一二三四五六日"

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = r"(?:\d{1,4}|[零〇○一二两三四五六七八九十廿卅]{1,5})"
_NUM2 = r"(?:\d{1,2}|[零〇一二两三四五六七八九十廿卅]{1,3})"
_WEEKDAY_CHARS = {
    **{c: i for i, c in enumerate("一二三四五六")},
    "日": 6,
    "天": 6,
    "末": -1,  # 周末: not a day
    **{str(i + 1): i for i in range(7)},
}


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


def now_local() -> dt.datetime:
    """Return the current Beijing time as a naive datetime (the convention of this module)."""
    return dt.datetime.now(TZ).replace(tzinfo=None)


def _as_local(now: dt.datetime | dt.date | None) -> dt.datetime:
    if now is None:
        return now_local()
    if isinstance(now, dt.datetime):
        if now.tzinfo is not None:
            return now.astimezone(TZ).replace(tzinfo=None)
        return now
    return dt.datetime.combine(now, dt.time(0, 0))


def normalize(text: str) -> str:
    """Normalise text for parsing: NFKC (full-width -> half-width), lower case, no spaces.

    Args:
        text: the user's text.

    Returns:
        The normalised text.

    """
    value = unicodedata.normalize("NFKC", text or "").lower()
    value = value.replace("礼拜", "星期").replace("禮拜", "星期")
    value = re.sub(r"\s+", " ", value).strip()
    # Keep a space only between two digits ("12/5 9:30"); elsewhere it carries no meaning.
    return re.sub(r"(?<!\d) | (?!\d)", "", value)


def cn_to_int(token: str) -> int | None:
    """Convert Arabic or Chinese numerals (``12``, ``十二``, ``二十五``, ``二〇二六``) to int.

    Args:
        token: the numeral.

    Returns:
        The value, or None if the token is not a numeral.

    """
    token = token.strip()
    if not token:
        return None
    if token.isdigit():
        return int(token)
    if any(ch in "十廿卅" for ch in token):
        total = 0
        if token[0] in "廿卅":
            total = 20 if token[0] == "廿" else 30
            rest = token[1:]
            if not rest:
                return total
            unit = _CN_DIGITS.get(rest)
            return None if unit is None or len(rest) != 1 else total + unit
        tens_str, _, ones_str = token.partition("十")
        if "十" in ones_str or any(ch in "廿卅" for ch in token):
            return None
        if tens_str:
            tens = _CN_DIGITS.get(tens_str) if len(tens_str) == 1 else None
            if tens is None:
                return None
        else:
            tens = 1
        ones = 0
        if ones_str:
            ones_value = _CN_DIGITS.get(ones_str) if len(ones_str) == 1 else None
            if ones_value is None:
                return None
            ones = ones_value
        total = tens * 10 + ones
        return total
    digits = [_CN_DIGITS.get(ch) for ch in token]
    if any(d is None for d in digits):
        return None
    value = 0
    for d in digits:
        assert d is not None
        value = value * 10 + d
    return value


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _add_months(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + (day.month - 1) + months
    return index // 12, index % 12 + 1


_RE_FULL = re.compile(
    rf"(?<!\d)({_NUM})\s*[年\-/.]\s*({_NUM2})\s*[月\-/.]\s*({_NUM2})\s*[日号]?(?![\d:])"
)
_RE_MONTH_DAY = re.compile(rf"({_NUM2})月份?({_NUM2})[日号]?")
_RE_DOTTED = re.compile(r"(?<![\d.:/\-])(\d{1,2})[./](\d{1,2})(?![\d.:/]|\s*[点时分])")
_RE_RELATIVE = re.compile(
    r"大大后天|大后天|后天|明天|明日|明儿|明早|明晚|今天|今日|今儿|今早|今晚|昨天|前天"
)
_RE_DAYS_LATER = re.compile(rf"({_NUM2})天(?:之后|以后|后)")
_RE_WEEKDAY = re.compile(r"(下下个?|下个?|这个?|本|上个?)?(?:周|星期)([一二三四五六日天末1-7])")
_RE_DAY_OF_MONTH = re.compile(
    rf"(下个?月|这个?月|本月)?({_NUM2})[号日](?!窗口|楼|线|门|房|院|床|台|机|柜)"
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
    return _parse_date(normalize(text), _as_local(now).date())


def _parse_date(value: str, today: dt.date) -> dt.date | None:
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


_RE_HALF_DAY: list[tuple[HalfDay, re.Pattern[str]]] = [
    ("morning", re.compile(r"上午|早上|早晨|清早|一早|上半天|明早|今早|早八|早九")),
    ("noon", re.compile(r"中午|午间|晌午")),
    ("afternoon", re.compile(r"下午|午后|下半天|后半天")),
    ("evening", re.compile(r"晚上|傍晚|今晚|明晚|夜里")),
]
_NOT_TIME_BEFORE = "快慢早晚多少大小好差有再"
_RE_CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-3])\s*:\s*([0-5]\d)(?!\d)")
_RE_HOUR = re.compile(
    rf"(?<!\d)({_NUM2})\s*[点點时](?!钟头)"
    rf"(?:\s*(半|一刻|三刻|整|钟|({_NUM2})\s*分?))?"
)


def parse_time(text: str) -> tuple[dt.time | None, HalfDay | None]:
    """Find the time of day a Chinese text talks about.

    Args:
        text: free text, e.g. ``下午三点半`` or ``15:00``.

    Returns:
        ``(time, half_day)``: the exact time (or None) and the half-day (said explicitly or
        implied by the time, else None).

    """
    return _parse_time(normalize(text))


def _parse_time(value: str) -> tuple[dt.time | None, HalfDay | None]:
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


def parse_datetime(text: str, now: dt.datetime | dt.date | None = None) -> DateTimeParse:
    """Parse both the day and the time of day from a Chinese text.

    Args:
        text: free text, e.g. ``周五下午三点`` or ``我想约明天上午的``.
        now: the reference time (Beijing); default: the current time.

    Returns:
        A :class:`DateTimeParse` (fields None when not mentioned).

    """
    value = normalize(text)
    today = _as_local(now).date()
    day = _parse_date(value, today)
    # Remove the date part before looking for a time, so "12.5" or "5号" are not read as hours.
    stripped = _RE_FULL.sub(" ", value)
    stripped = _RE_MONTH_DAY.sub(" ", stripped)
    stripped = _RE_DOTTED.sub(" ", stripped)
    when, half_day = _parse_time(stripped)
    return DateTimeParse(day=day, time=when, half_day=half_day)


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
        today = now_local().date()
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
