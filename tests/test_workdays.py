"""The calendar module: Beijing time, the working-day rule, the holiday rows it builds."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
import yaml

from bot import workdays

D = dt.date


def test_beijing_time_conversions() -> None:
    assert workdays.to_local(dt.datetime(2026, 12, 2, 17, 0)) == dt.datetime(2026, 12, 3, 1, 0)
    assert workdays.to_utc(dt.datetime(2026, 12, 3, 1, 0)) == dt.datetime(2026, 12, 2, 17, 0)
    aware = dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)
    assert workdays.as_local(aware) == dt.datetime(2026, 12, 3, 1, 0)
    assert workdays.as_local(D(2026, 12, 3)) == dt.datetime(2026, 12, 3, 0, 0)
    now = workdays.now_local()
    utc = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert abs((now - utc) - dt.timedelta(hours=8)) < dt.timedelta(seconds=5)
    assert now.tzinfo is None and workdays.today_local() == now.date()


def test_the_working_day_rule() -> None:
    overrides = {D(2026, 10, 1): False, D(2026, 10, 10): True}
    assert workdays.is_working_day(D(2026, 9, 30), overrides)  # Wednesday
    assert not workdays.is_working_day(D(2026, 10, 1), overrides)  # holiday on a Thursday
    assert workdays.is_working_day(D(2026, 10, 10), overrides)  # make-up Saturday
    assert not workdays.is_working_day(D(2026, 10, 17), overrides)  # plain Saturday
    assert workdays.next_working_day(D(2026, 9, 30), overrides) == D(2026, 10, 2)
    assert workdays.closed_reason(D(2026, 10, 1), False, "国庆节") == "国庆节"
    assert workdays.closed_reason(D(2026, 10, 17), None) == "周六"
    assert workdays.closed_reason(D(2026, 10, 18), None) == "周日"
    assert workdays.closed_reason(D(2026, 10, 10), True, "国庆节调休上班") is None


def test_the_calendar_of_a_known_year_is_the_state_councils() -> None:
    rows = workdays.calendar_for_years([2026])
    closed = {day for day, entry in rows.items() if not entry.working}
    make_up = {day: entry.name for day, entry in rows.items() if entry.working}
    assert {D(2026, 1, 1), D(2026, 2, 17), D(2026, 10, 7)} <= closed
    assert make_up == {
        D(2026, 1, 4): "元旦调休上班",
        D(2026, 2, 14): "春节调休上班",
        D(2026, 2, 28): "春节调休上班",
        D(2026, 5, 9): "劳动节调休上班",
        D(2026, 9, 20): "国庆节调休上班",
        D(2026, 10, 10): "国庆节调休上班",
    }
    assert rows[D(2026, 4, 5)].name == "清明节"  # names from calendar.yml, not the package's
    assert D(2026, 12, 5) not in rows  # a plain Saturday needs no row


def test_an_unknown_year_warns_and_closes_only_the_fixed_dates(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.workdays"):
        rows = workdays.calendar_for_years([2098])
    assert "2098" in caplog.text
    assert sorted(rows) == [
        D(2098, 1, 1), D(2098, 5, 1), D(2098, 5, 2),
        D(2098, 10, 1), D(2098, 10, 2), D(2098, 10, 3),
    ]  # fmt: skip


def _knowledge_with_calendar(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "calendar.yml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(tmp_path))


def test_officers_add_a_years_schedule_in_calendar_yml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = [
        {"from": "2098-02-06", "to": "2098-02-09", "name": "春节", "working": False},
        {"day": "2098-02-14", "name": "春节调休上班", "working": True},
        {"day": "2097-12-31", "name": "不在这些年份里", "working": False},
    ]
    _knowledge_with_calendar(tmp_path, yaml.safe_dump({"days": days}), monkeypatch)
    rows = workdays.calendar_for_years([2098])
    assert all(rows[D(2098, 2, d)] == workdays.CalendarDay("春节", False) for d in range(6, 10))
    assert rows[D(2098, 2, 14)].working
    assert D(2097, 12, 31) not in rows


@pytest.mark.parametrize(
    "text",
    [
        "days: [{day: not-a-date, name: x}]\n",
        "days: [{from: 2098-02-09, to: 2098-02-06, name: x}]\n",
        "days: [{day: 2026-03-04, name: x, working: 否}]\n",
        "days: oops\nnames: [1, 2]\nfixed_holidays: [{date: 13-45, name: x}]\n",
        "- just\n- a list\n",
        "days: [unclosed\n",
    ],
)
def test_a_broken_calendar_yml_is_logged_and_ignored(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _knowledge_with_calendar(tmp_path, text, monkeypatch)
    with caplog.at_level(logging.ERROR, logger="bot.workdays"):
        rows = workdays.calendar_for_years([2026])
    assert "calendar.yml" in caplog.text
    assert rows[D(2026, 2, 17)] == workdays.CalendarDay("春节", False)  # the package still counts
