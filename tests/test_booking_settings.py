"""The booking settings officers edit (data/knowledge/booking.yml)."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import pytest

from bot.booking_settings import (
    BookingSettings,
    booking_settings,
    check_booking_file,
    parse_booking_settings,
)

T = dt.time


def test_the_shipped_file_is_valid_and_gives_two_weeks_of_half_hour_slots() -> None:
    assert check_booking_file() == []
    settings = booking_settings()
    assert settings.horizon_days == 14
    assert settings.last_day(dt.date(2026, 12, 2)) == dt.date(2026, 12, 16)
    grid = settings.slot_times()
    assert grid[0] == (T(9, 0), T(9, 30)) and grid[-1] == (T(16, 30), T(17, 0))
    assert (T(11, 0), T(11, 30)) in grid and all(start >= T(9, 0) for start, _ in grid)
    assert not any(T(11, 30) <= start < T(14, 0) for start, _ in grid)  # lunch break


def test_a_slot_that_does_not_fit_the_period_is_not_offered() -> None:
    settings, problems = parse_booking_settings(
        {"slot_minutes": 45, "bookable_hours": ["09:00-11:00"]}
    )
    assert problems == []
    assert settings.slot_times() == [(T(9, 0), T(9, 45)), (T(9, 45), T(10, 30))]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"horizon_days": 0}, "horizon_days"),
        ({"horizon_days": "两周"}, "horizon_days"),
        ({"horizon_days": True}, "horizon_days"),
        ({"slot_minutes": 1000}, "slot_minutes"),
        ({"capacity": {"min": 6, "max": 2}}, "capacity.min"),
        ({"bookable_hours": ["9点到12点"]}, "bookable_hours"),
        ({"bookable_hours": ["12:00-09:00"]}, "bookable_hours"),
        ({"slot_minutes": 240, "bookable_hours": ["09:00-10:00"]}, "fits"),
    ],
)
def test_invalid_values_fall_back_to_the_defaults(data: dict, problem: str) -> None:
    settings, problems = parse_booking_settings(data)
    assert problems and problem in problems[0]
    assert settings.slot_times()  # always a usable grid
    default = BookingSettings()
    assert settings.horizon_days == default.horizon_days or "horizon_days" not in data


def test_an_officers_edit_applies_to_the_next_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(tmp_path))
    path = tmp_path / "booking.yml"
    path.write_text("horizon_days: 7\n", encoding="utf-8")
    assert booking_settings().horizon_days == 7
    path.write_text("horizon_days: 21\n", encoding="utf-8")
    os.utime(path, (1, 1))  # a different modification time, however fast the test runs
    assert booking_settings().horizon_days == 21
    path.write_text("horizon_days: [unclosed\n", encoding="utf-8")
    os.utime(path, (2, 2))
    with caplog.at_level(logging.ERROR, logger="bot.booking_settings"):
        assert booking_settings().horizon_days == BookingSettings().horizon_days
    assert "booking.yml" in caplog.text
    assert check_booking_file() and "unreadable" in check_booking_file()[0]
