"""Query functions: rate limit windows, call-back policy, officer-side message handling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db.models import CallbackRequest, LookupAudit
from bot.db.queries import callbacks, cases, directory, names
from bot.db.seed import sample_cases_for, seed_holidays

T0 = dt.datetime(2026, 12, 2, 2, 0)  # naive UTC = Wednesday 10:00 in Beijing


@pytest.fixture()
def session(seeded_engine: Engine) -> Any:
    with Session(seeded_engine, future=True) as s:
        s.execute(delete(LookupAudit))
        s.execute(delete(CallbackRequest))
        s.commit()
        yield s
        s.rollback()


def test_delays_double_after_the_free_failures_and_lift(session: Session) -> None:
    samples = sample_cases_for(session)
    good = samples[20]

    def wrong(i: int) -> str:
        return f"{(int(samples[i].phone[-4:]) + 1) % 10000:04d}"

    for i in range(4):  # failures 1-3 are free; the 4th starts a 30 s delay
        result = cases.lookup_case(
            session, "c1", samples[i].case_number, wrong(i), now=T0 + dt.timedelta(seconds=i)
        )
        assert result.status == "failed"
    last = T0 + dt.timedelta(seconds=3)
    waiting = cases.lookup_case(
        session, "c1", good.case_number, good.phone[-4:], now=last + dt.timedelta(seconds=10)
    )
    assert waiting.status == "wait" and waiting.wait_seconds == 20
    result = cases.lookup_case(
        session, "c1", samples[5].case_number, wrong(5), now=last + dt.timedelta(seconds=31)
    )
    assert result.status == "failed"  # the 5th failure: now 60 s
    fifth = last + dt.timedelta(seconds=31)
    assert (
        cases.lookup_case(
            session, "c1", good.case_number, good.phone[-4:], now=fifth + dt.timedelta(seconds=59)
        ).wait_seconds
        == 1
    )
    ok = cases.lookup_case(
        session, "c1", good.case_number, good.phone[-4:], now=fifth + dt.timedelta(seconds=61)
    )
    assert ok.status == "ok" and ok.case is not None and ok.case.case_number == good.case_number


def test_failures_older_than_the_window_do_not_count(session: Session) -> None:
    samples = sample_cases_for(session)
    for i in range(6):
        case = samples[i]
        wrong = f"{(int(case.phone[-4:]) + 1) % 10000:04d}"
        result = cases.lookup_case(
            session, "c2", case.case_number, wrong, now=T0 + dt.timedelta(minutes=i * 15)
        )
        assert result.status == "failed"
    good = samples[20]
    assert (
        cases.lookup_case(
            session, "c2", good.case_number, good.phone[-4:], now=T0 + dt.timedelta(minutes=90)
        ).status
        == "ok"
    )


def test_lookup_result_has_the_history(session: Session) -> None:
    case = next(c for c in sample_cases_for(session) if c.stage == "mailed")
    result = cases.lookup_case(session, "c3", case.case_number, case.phone[-4:], now=T0)
    assert result.case is not None
    assert [stage for stage, _ in result.case.history] == [stage for stage, _, _ in case.history]
    assert result.case.courier_number == case.courier_number


@pytest.mark.parametrize(
    ("local", "due"),
    [
        (dt.datetime(2026, 12, 2, 10, 0), dt.datetime(2026, 12, 2, 17, 0)),  # Wed morning: today
        (dt.datetime(2026, 12, 2, 8, 0), dt.datetime(2026, 12, 2, 12, 0)),  # before opening
        (dt.datetime(2026, 12, 2, 16, 0), dt.datetime(2026, 12, 3, 12, 0)),  # late: tomorrow noon
        (dt.datetime(2026, 12, 4, 16, 0), dt.datetime(2026, 12, 7, 12, 0)),  # Friday late: Monday
        (dt.datetime(2026, 12, 5, 10, 0), dt.datetime(2026, 12, 7, 12, 0)),  # Saturday: Monday
        (dt.datetime(2026, 12, 31, 16, 0), dt.datetime(2027, 1, 4, 12, 0)),  # New Year holiday
        (dt.datetime(2026, 10, 10, 10, 0), dt.datetime(2026, 10, 10, 17, 0)),  # make-up Saturday
        (dt.datetime(2026, 10, 1, 10, 0), dt.datetime(2026, 10, 8, 12, 0)),  # National Day week
    ],
)
def test_call_back_policy_follows_the_working_day_calendar(
    session: Session, local: dt.datetime, due: dt.datetime
) -> None:
    seed_holidays(session, years=[2026, 2027])  # whatever year the tests run in
    assert callbacks.callback_due(session, local - dt.timedelta(hours=8)) == due


def test_officer_side_of_messages(session: Session) -> None:
    saved = callbacks.save_callback(
        session, "c4", "户口簿丢了，电话13912345678", "13812345678", now=T0
    )
    listed = callbacks.list_callbacks(session, status="new")
    assert [m.id for m in listed] == [saved.id]
    assert listed[0].phone_masked == "138****5678" and "139****5678" in listed[0].text
    assert callbacks.reveal_phone(session, saved.id) == "13812345678"
    updated = callbacks.update_status(session, saved.id, "called_back", notes="已回电 13812345678")
    assert updated is not None and updated.status == "called_back"
    assert updated.notes == "已回电 138****5678"
    assert callbacks.list_callbacks(session, status="new") == []
    with pytest.raises(ValueError):
        callbacks.update_status(session, saved.id, "lost")


def test_name_counts_match_live_counts(session: Session) -> None:
    from bot.db.models import NameCount

    for row in session.scalars(select(NameCount).order_by(NameCount.total.desc()).limit(30)):
        assert names.count_holders(session, row.full_name) == names.count_holders_live(
            session, row.full_name
        )
    assert names.count_holders(session, "不存在名").total == 0


def test_directory_reads(session: Session) -> None:
    counties = directory.list_counties(session)
    assert len(counties) == 12 and sum(c.urban for c in counties) == 3
    guan = directory.list_windows(session, county="固安县")
    assert guan and all(w.county == "固安县" for w in guan)
    id_card = directory.list_windows(session, business_code="id_card")
    assert len(id_card) >= 12
    points = directory.list_service_points(session, point_type="self_service")
    assert len(points) == 20
    assert directory.is_working_day(session, dt.date(2026, 10, 10))  # make-up Saturday
    assert not directory.is_working_day(session, dt.date(2026, 10, 5))
    assert directory.next_working_day(session, dt.date(2026, 9, 30)) == dt.date(2026, 10, 8)
