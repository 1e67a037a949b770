"""The seed's calendar and slots: holidays from chinesecalendar, slots up to the one horizon."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import workdays
from bot.booking_settings import booking_settings
from bot.db.models import Holiday, Slot
from bot.db.queries.workdays import closed_reason, holiday_overrides
from bot.db.seed.schedule import seed_holidays

ROOT = Path(__file__).resolve().parents[3]
D = dt.date


@pytest.fixture()
def session(seeded_engine: Engine) -> Iterator[Session]:
    """A session on the shared seeded database whose changes are rolled back."""
    with Session(seeded_engine, future=True) as s:
        yield s
        s.rollback()


def test_slots_cover_today_to_the_horizon_on_working_days_only(session: Session) -> None:
    settings = booking_settings()
    today = workdays.today_local()
    last = today + dt.timedelta(days=settings.horizon_days)
    overrides = holiday_overrides(session, today, last)
    days = set(session.scalars(select(Slot.day).distinct()))
    expected = {
        today + dt.timedelta(days=i)
        for i in range(settings.horizon_days + 1)
        if workdays.is_working_day(today + dt.timedelta(days=i), overrides)
    }
    assert expected <= days  # the fixture may have been seeded a day earlier
    assert all(workdays.is_working_day(d, holiday_overrides(session, d, d)) for d in days)
    capacities = set(session.scalars(select(Slot.capacity).distinct()))
    assert capacities <= set(range(settings.capacity_min, settings.capacity_max + 1))
    assert len(capacities) > 1
    starts = set(session.scalars(select(Slot.start_time).distinct()))
    assert starts == {start for start, _ in settings.slot_times()}
    assert dt.time(9, 0) in starts and dt.time(14, 0) in starts


def test_holidays_follow_the_state_council_schedule(session: Session) -> None:
    seed_holidays(session, years=[2026])
    spring = session.get(Holiday, D(2026, 2, 17))
    assert spring is not None and spring.name == "春节" and not spring.is_workday_override
    make_up = session.get(Holiday, D(2026, 2, 28))  # a Saturday
    assert make_up is not None and make_up.is_workday_override
    assert make_up.name == "春节调休上班"
    assert closed_reason(session, D(2026, 10, 5)) == "国庆节"
    assert closed_reason(session, D(2026, 10, 10)) is None  # make-up Saturday
    assert closed_reason(session, D(2026, 10, 17)) == "周六"


def test_a_year_chinesecalendar_does_not_know_closes_weekends_and_fixed_days(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.workdays"):
        count = seed_holidays(session, years=[2099])
    assert "2099" in caplog.text and "chinesecalendar" in caplog.text
    rows = {
        h.day: (h.name, h.is_workday_override)
        for h in session.scalars(select(Holiday).where(Holiday.day >= D(2099, 1, 1)))
    }
    assert count == len(rows) == 6
    assert rows[D(2099, 1, 1)] == ("元旦", False) and rows[D(2099, 10, 3)] == ("国庆节", False)
    assert not any(working for _, working in rows.values())  # no make-up days invented


def test_rebuilding_a_year_drops_stale_rows_and_applies_calendar_yml(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "data" / "knowledge", knowledge)
    calendar = yaml.safe_load((knowledge / "calendar.yml").read_text(encoding="utf-8"))
    calendar["days"] = [
        {"day": "2026-03-04", "name": "本地闭馆", "working": False},
        {"from": "2026-03-06", "to": "2026-03-07", "name": "临时调休", "working": True},
    ]
    (knowledge / "calendar.yml").write_text(yaml.safe_dump(calendar, allow_unicode=True), "utf-8")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(knowledge))
    session.add(Holiday(day=D(2026, 3, 3), name="旧数据", is_workday_override=False))
    session.flush()

    seed_holidays(session, years=[2026])
    assert session.get(Holiday, D(2026, 3, 3)) is None
    assert closed_reason(session, D(2026, 3, 4)) == "本地闭馆"
    assert closed_reason(session, D(2026, 3, 7)) is None  # a Saturday made a working day
    assert closed_reason(session, D(2026, 2, 17)) == "春节"  # the package's days stay
