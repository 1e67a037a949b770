"""Beijing time and the working-day calendar, decided in one place.

Time
    Every date and time a citizen or officer talks about is Beijing time (Asia/Shanghai); the
    database stores naive UTC. :func:`now_local`, :func:`today_local`, :func:`as_local`,
    :func:`to_local` and :func:`to_utc` are the only conversions.

Working days
    Monday to Friday, unless the ``holidays`` table says otherwise for that day: a closed
    public holiday (``is_workday_override`` False) or a make-up working day on a weekend
    (True). :func:`is_working_day`, :func:`next_working_day` and :func:`closed_reason` apply
    that rule to the table's rows (read by :mod:`bot.db.queries.workdays`); nothing else
    decides whether a day is a working day.

Holidays
    :func:`calendar_for_years` builds the table's rows: the State Council's schedule from the
    ``chinesecalendar`` package (no download: the data ships inside it), named with the
    officer-editable ``data/knowledge/calendar.yml``. For a year the package does not know yet
    only the fixed-date statutory holidays of that file (元旦, 劳动节, 国庆节) close, and a
    warning is logged; the file's ``days`` add or correct single days in any year.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.knowledge import load_file

logger = logging.getLogger(__name__)

#: The local time zone of the windows, the citizens and the officers.
TZ = ZoneInfo("Asia/Shanghai")
CALENDAR_FILE = "calendar.yml"
#: How far :func:`next_working_day` looks ahead (the longest closure is about 9 days).
MAX_CLOSED_RUN = 60


# --------------------------------------------------------------------------- time


def now_local() -> dt.datetime:
    """Return the current Beijing time as a naive datetime."""
    return dt.datetime.now(TZ).replace(tzinfo=None)


def today_local() -> dt.date:
    """Return today's date in Beijing."""
    return now_local().date()


def as_local(moment: dt.datetime | dt.date | None) -> dt.datetime:
    """Read a reference time as naive Beijing time.

    Args:
        moment: an aware datetime (converted), a naive one (taken as Beijing time), a date
            (its midnight) or None (now).

    Returns:
        The naive Beijing datetime.

    """
    if moment is None:
        return now_local()
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is not None:
            return moment.astimezone(TZ).replace(tzinfo=None)
        return moment
    return dt.datetime.combine(moment, dt.time(0, 0))


def to_local(moment_utc: dt.datetime) -> dt.datetime:
    """Convert a naive UTC timestamp (as stored) to naive Beijing time.

    Args:
        moment_utc: naive UTC.

    Returns:
        Naive Beijing time.

    """
    return moment_utc.replace(tzinfo=dt.UTC).astimezone(TZ).replace(tzinfo=None)


def to_utc(moment_local: dt.datetime) -> dt.datetime:
    """Convert a naive Beijing time to a naive UTC timestamp (as stored).

    Args:
        moment_local: naive Beijing time.

    Returns:
        Naive UTC.

    """
    return moment_local.replace(tzinfo=TZ).astimezone(dt.UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------- working days


def _working(day: dt.date, override: bool | None) -> bool:
    return override if override is not None else day.weekday() < 5


def is_working_day(day: dt.date, overrides: Mapping[dt.date, bool]) -> bool:
    """Whether the registration windows are open on ``day``.

    Args:
        day: a local date.
        overrides: ``day -> is_workday_override`` from the ``holidays`` table (at least for
            ``day``).

    Returns:
        True on Monday-Friday that are not holidays, and on make-up working days.

    """
    return _working(day, overrides.get(day))


def next_working_day(after: dt.date, overrides: Mapping[dt.date, bool]) -> dt.date:
    """Return the first working day strictly after ``after``.

    Args:
        after: a local date.
        overrides: the ``holidays`` rows for the :data:`MAX_CLOSED_RUN` days after it.

    Returns:
        The day (if none is found in that range, the last day looked at).

    """
    day = after
    for _ in range(MAX_CLOSED_RUN):
        day += dt.timedelta(days=1)
        if is_working_day(day, overrides):
            return day
    return day


def closed_reason(day: dt.date, override: bool | None, name: str | None = None) -> str | None:
    """Say why a day is not a working day, or None if it is one.

    Args:
        day: a local date.
        override: the day's ``is_workday_override`` (None: no row in ``holidays``).
        name: the row's name (``春节``).

    Returns:
        The holiday's name, ``周六``/``周日``, or None on a working day.

    """
    if _working(day, override):
        return None
    if override is False and name:
        return name
    return weekday_name(day) if day.weekday() >= 5 else (name or "")


# --------------------------------------------------------------------------- words


def _calendar_settings() -> dict[str, Any]:
    """``calendar.yml`` as a mapping (empty, with an error logged, when it is unusable)."""
    try:
        settings = load_file(CALENDAR_FILE) or {}
    except (OSError, yaml.YAMLError) as exc:
        logger.error("data/knowledge/%s is unreadable, ignored: %s", CALENDAR_FILE, exc)
        return {}
    if not isinstance(settings, dict):
        logger.error("data/knowledge/%s is not a mapping, ignored", CALENDAR_FILE)
        return {}
    return settings


def _calendar_words(key: str, kind: type, size: int = 0) -> Any:
    value = _section(_calendar_settings(), key, kind)
    if size and len(value) != size:
        logger.error("data/knowledge/%s: %s should have %d entries", CALENDAR_FILE, key, size)
        return kind()
    return value


def weekday_name(day: dt.date) -> str:
    """The day's weekday as citizens read it (``周五``; ``weekdays`` in calendar.yml)."""
    names = _calendar_words("weekdays", list, 7)
    return str(names[day.weekday()]) if names else ""


def near_day_name(offset: int) -> str | None:
    """今天/明天/后天 for 0/1/2 days from today (``near_days`` in calendar.yml), else None."""
    names = _calendar_words("near_days", list)
    return str(names[offset]) if 0 <= offset < len(names) else None


def half_day_names() -> dict[str, str]:
    """``morning``/``noon``/``afternoon``/``evening`` → 上午/中午/下午/晚上 (calendar.yml)."""
    return {str(k): str(v) for k, v in _calendar_words("half_days", dict).items()}


# --------------------------------------------------------------------------- holidays


@dataclass(frozen=True)
class CalendarDay:
    """One row of the ``holidays`` table: a closed day or a make-up working day."""

    name: str
    working: bool


def calendar_for_years(years: Iterable[int]) -> dict[dt.date, CalendarDay]:
    """Build the ``holidays`` rows for whole years.

    Args:
        years: the years to cover.

    Returns:
        ``day -> CalendarDay`` for every holiday (closed, weekends inside it included) and
        make-up working day that the package and ``calendar.yml`` know; other days have no row.

    """
    wanted = set(years)
    settings = _calendar_settings()
    names = {str(k): str(v) for k, v in _section(settings, "names", dict).items()}
    make_up = str(settings.get("make_up_day") or "{holiday}")
    result: dict[dt.date, CalendarDay] = {}
    for year in sorted(wanted):
        official = _official_year(year, names, make_up)
        if official is None:
            logger.warning(
                "chinesecalendar has no holiday schedule for %s: only weekends and the fixed-date "
                "holidays of data/knowledge/calendar.yml are closed; upgrade chinesecalendar or "
                "add the year's schedule under `days` in calendar.yml",
                year,
            )
            official = _fixed_holidays(year, _section(settings, "fixed_holidays", list))
        result.update(official)
    for first, last, entry in _extra_days(_section(settings, "days", list)):
        day = first
        while day <= last:
            if day.year in wanted:
                result[day] = entry
            day += dt.timedelta(days=1)
    return result


def _official_year(
    year: int, names: Mapping[str, str], make_up: str
) -> dict[dt.date, CalendarDay] | None:
    import chinese_calendar  # noqa: PLC0415 - only the seed needs the schedule

    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    try:
        chinese_calendar.is_workday(first)
    except NotImplementedError:
        return None
    rows: dict[dt.date, CalendarDay] = {}
    day = first
    while day <= last:
        closed, label = chinese_calendar.get_holiday_detail(day)
        if label is not None:  # a named holiday, or the make-up working day it moved
            name = _holiday_name(label, names)
            rows[day] = CalendarDay(
                name if closed else make_up.replace("{holiday}", name), not closed
            )
        day += dt.timedelta(days=1)
    return rows


def _holiday_name(label: str, names: Mapping[str, str]) -> str:
    if label in names:
        return names[label]
    import chinese_calendar  # noqa: PLC0415

    try:
        return str(chinese_calendar.Holiday(label).chinese)
    except ValueError:
        return label


def _fixed_holidays(year: int, items: list[Any]) -> dict[dt.date, CalendarDay]:
    rows: dict[dt.date, CalendarDay] = {}
    for item in items:
        try:
            month, day = (int(part) for part in str(item["date"]).split("-"))
            rows[dt.date(year, month, day)] = CalendarDay(str(item["name"]), False)
        except (KeyError, TypeError, ValueError):
            logger.error("calendar.yml: fixed_holidays entry %r is not {date: MM-DD, name}", item)
    return rows


def _extra_days(items: list[Any]) -> list[tuple[dt.date, dt.date, CalendarDay]]:
    result = []
    for item in items:
        try:
            first = _as_date(item.get("day", item.get("from")))
            last = _as_date(item.get("day", item.get("to", item.get("from"))))
            working = item.get("working", False)
            if not isinstance(working, bool):
                raise ValueError(f"working must be true or false, not {working!r}")
            entry = CalendarDay(str(item["name"]), working)
        except (AttributeError, KeyError, TypeError, ValueError):
            logger.error("calendar.yml: days entry %r is not {day|from,to, name, working}", item)
            continue
        if last < first or (last - first).days > 366:
            logger.error("calendar.yml: days entry %r has an impossible range", item)
            continue
        result.append((first, last, entry))
    return result


def _section(settings: dict[str, Any], key: str, kind: type) -> Any:
    value = settings.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        logger.error(
            "data/knowledge/%s: %s should be a %s, ignored", CALENDAR_FILE, key, kind.__name__
        )
        return kind()
    return value


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
