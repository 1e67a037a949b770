"""The booking settings officers edit in ``data/knowledge/booking.yml``, read in one place.

How many days ahead citizens can book (the seed generates slots for exactly those days and the
bot offers exactly those days), the length of a slot, the hours slots fill, and the range of
places per slot. The file is re-read when it changes, so a new horizon applies to the next
question; new slots are generated at the next start (``python -m bot.db seed --if-empty``).

A value that is missing or invalid falls back to its default below and is logged as an error
(a typo in the file must not stop bookings); :func:`check_booking_file` lists the problems
for the tests.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

import yaml

from bot.knowledge import load_file

logger = logging.getLogger(__name__)

BOOKING_FILE = "booking.yml"
_PERIOD = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


@dataclass(frozen=True)
class BookingSettings:
    """Booking horizon, slot grid and capacity.

    Attributes:
        horizon_days: how many days ahead citizens can book: today up to today + horizon_days.
        slot_minutes: length of one slot.
        bookable_hours: ``(start, end)`` periods of a working day filled with slots.
        capacity_min: fewest places of a slot.
        capacity_max: most places of a slot.

    """

    horizon_days: int = 14
    slot_minutes: int = 30
    bookable_hours: tuple[tuple[dt.time, dt.time], ...] = (
        (dt.time(9, 0), dt.time(11, 30)),
        (dt.time(14, 0), dt.time(17, 0)),
    )
    capacity_min: int = 2
    capacity_max: int = 5

    def last_day(self, today: dt.date) -> dt.date:
        """Return the last bookable day when it is ``today``.

        Args:
            today: the local date.

        Returns:
            ``today + horizon_days``.

        """
        return today + dt.timedelta(days=self.horizon_days)

    def slot_times(self) -> list[tuple[dt.time, dt.time]]:
        """Return the daily slot grid: ``(start, end)`` of every slot, in order."""
        result = []
        for start, end in self.bookable_hours:
            current = dt.datetime.combine(dt.date(2000, 1, 1), start)
            stop = dt.datetime.combine(dt.date(2000, 1, 1), end)
            step = dt.timedelta(minutes=self.slot_minutes)
            while current + step <= stop:
                result.append((current.time(), (current + step).time()))
                current += step
        return result


def parse_booking_settings(data: Any) -> tuple[BookingSettings, list[str]]:
    """Read the settings from the parsed YAML document.

    Args:
        data: the document (a mapping; anything else counts as empty).

    Returns:
        The settings (defaults where a value is missing or invalid) and the problems found.

    """
    defaults = BookingSettings()
    data = data if isinstance(data, dict) else {}
    problems: list[str] = []

    def whole(value: Any, name: str, low: int, high: int, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(f"{name} must be a whole number from {low} to {high}, not {value!r}")
            return default
        return value

    horizon = whole(data.get("horizon_days"), "horizon_days", 1, 90, defaults.horizon_days)
    minutes = whole(data.get("slot_minutes"), "slot_minutes", 5, 240, defaults.slot_minutes)
    capacity = data.get("capacity") if isinstance(data.get("capacity"), dict) else {}
    low = whole(capacity.get("min"), "capacity.min", 1, 100, defaults.capacity_min)
    high = whole(capacity.get("max"), "capacity.max", 1, 100, defaults.capacity_max)
    if low > high:
        problems.append(f"capacity.min ({low}) is larger than capacity.max ({high})")
        low, high = defaults.capacity_min, defaults.capacity_max
    hours = _periods(data.get("bookable_hours"), problems) or defaults.bookable_hours
    settings = BookingSettings(horizon, minutes, hours, low, high)
    if not settings.slot_times():
        problems.append(f"no {minutes}-minute slot fits in bookable_hours")
        settings = BookingSettings(
            horizon, defaults.slot_minutes, defaults.bookable_hours, low, high
        )
    return settings, problems


def _periods(value: Any, problems: list[str]) -> tuple[tuple[dt.time, dt.time], ...]:
    if value is None:
        return ()
    periods = []
    for item in value if isinstance(value, list) else [value]:
        match = _PERIOD.match(str(item))
        start = end = None
        if match:
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            start, end = dt.time(h1, m1), dt.time(h2, m2)
        if start is None or end is None or start >= end:
            problems.append(f'bookable_hours entry {item!r} is not like "09:00-11:30"')
            return ()
        periods.append((start, end))
    return tuple(sorted(periods))


_last_logged: list[Any] = [None]


def booking_settings() -> BookingSettings:
    """Return the current settings from ``data/knowledge/booking.yml`` (re-read when changed).

    Problems in the file are logged (once per version of the file) and replaced by defaults.
    """
    try:
        data = load_file(BOOKING_FILE)
        settings, problems = parse_booking_settings(data)
    except (OSError, yaml.YAMLError) as exc:
        data = str(exc)
        settings, problems = BookingSettings(), [f"unreadable ({str(exc).splitlines()[0]})"]
    if problems and _last_logged[0] != data:
        _last_logged[0] = data
        for problem in problems:
            logger.error("data/knowledge/%s: %s; using the default", BOOKING_FILE, problem)
    return settings


def check_booking_file() -> list[str]:
    """Return the problems of the booking file as it is now (empty when it is valid)."""
    try:
        return parse_booking_settings(load_file(BOOKING_FILE))[1]
    except (OSError, yaml.YAMLError) as exc:
        return [f"unreadable ({str(exc).splitlines()[0]})"]
