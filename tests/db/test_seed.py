"""The seed: realistic sample data, idempotent, and no personal numbers in plain text."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import seed as seeding
from bot.db.models import (
    CASE_STAGES,
    Case,
    CaseStageEvent,
    County,
    Holiday,
    NameCount,
    Resident,
    ServicePoint,
    Slot,
    Window,
)
from bot.db.testing import temporary_database
from tests.db.conftest import BACKENDS, skip_without_postgres

SNAPSHOT_TABLES = [
    "business_types", "counties", "windows", "window_businesses", "service_points", "holidays",
    "slots", "cases", "case_stage_events", "residents", "name_counts",
]  # fmt: skip


def snapshot(engine: Engine) -> dict[str, str]:
    """A digest of every seeded table's full contents (ordered)."""
    digests = {}
    with engine.connect() as conn:
        for table in SNAPSHOT_TABLES:
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(row)).encode())
            digests[table] = f"{len(rows)}:{digest.hexdigest()}"
    return digests


@pytest.mark.parametrize("kind", BACKENDS)
def test_seed_is_idempotent_and_keeps_bookings(kind: str) -> None:
    skip_without_postgres(kind)
    from bot.db.session import make_engine

    with temporary_database(kind, residents=5_000) as url:
        engine = make_engine(url)
        try:
            first = snapshot(engine)
            with engine.begin() as conn:
                slot_id = conn.execute(select(func.min(Slot.id))).scalar_one()
                conn.execute(update(Slot).where(Slot.id == slot_id).values(booked=1))
            report = seeding.seed(url, residents=5_000)
            assert report.slots_added == 0 and not report.residents_rebuilt
            second = snapshot(engine)
            assert {k: v for k, v in second.items() if k != "slots"} == {
                k: v for k, v in first.items() if k != "slots"
            }
            assert second["slots"].split(":")[0] == first["slots"].split(":")[0]
            with engine.connect() as conn:
                assert conn.execute(select(Slot.booked).where(Slot.id == slot_id)).scalar_one() == 1
        finally:
            engine.dispose()


def test_every_stage_in_every_county(seeded_engine: Engine) -> None:
    with Session(seeded_engine, future=True) as session:
        counties = session.scalars(select(County.name)).all()
        assert len(counties) == 12
        pairs = set(session.execute(select(County.name, Case.stage).join(Case.county)).all())
        assert pairs == {(c, s) for c in counties for s in CASE_STAGES}


def test_cases_have_a_coherent_history_and_stage_details(seeded_engine: Engine) -> None:
    with Session(seeded_engine, future=True) as session:
        for case in session.scalars(select(Case)):
            stages = [e.stage for e in sorted(case.events, key=lambda e: (e.created_at, e.id))]
            assert stages[0] == "submitted" and stages[-1] == case.stage
            assert re.fullmatch(r"SL\d{12}", case.case_number)
            if case.stage == "pre_review_passed":
                assert case.window_id is not None
            if case.stage == "materials_needed":
                assert case.missing_materials
            if case.stage == "mailed":
                assert case.courier_number and case.courier_company
            if case.stage == "card_making":
                assert case.business_code == "id_card"


def test_no_plain_phone_numbers_are_stored(seeded_engine: Engine) -> None:
    with Session(seeded_engine, future=True) as session:
        for case in session.scalars(select(Case)):
            assert re.fullmatch(r"1[3-9]\d\*{4}\d{4}", case.phone_masked)
            assert re.fullmatch(r"[0-9a-f]{64}", case.phone_hash)
        for note in session.scalars(select(CaseStageEvent.note)):
            assert not re.search(r"1[3-9]\d{9}", note or "")


def test_directory_matches_the_knowledge(seeded_engine: Engine) -> None:
    with Session(seeded_engine, future=True) as session:
        self_service = session.execute(
            select(ServicePoint, County.urban)
            .join(County)
            .where(ServicePoint.type == "self_service")
        ).all()
        assert len(self_service) == 20
        assert sum(1 for _, urban in self_service if urban) == 10
        windows = session.scalars(select(Window)).all()
        covered = {w.county_id for w in windows}
        assert covered == set(session.scalars(select(County.id)))


def test_two_weeks_of_slots_on_working_days_only(seeded_engine: Engine) -> None:
    today = seeding.beijing_today()
    with Session(seeded_engine, future=True) as session:
        holidays = {h.day: h.is_workday_override for h in session.scalars(select(Holiday))}
        days = set(session.scalars(select(Slot.day).distinct()))
        expected = {
            today + dt.timedelta(days=i)
            for i in range(seeding.SLOT_DAYS)
            if seeding.is_working_day(today + dt.timedelta(days=i), holidays)
        }
        assert expected <= days  # the fixture may have been seeded a moment earlier
        assert all(seeding.is_working_day(d, holidays) for d in days)
        capacities = set(session.scalars(select(Slot.capacity).distinct()))
        assert capacities <= {2, 3, 4, 5} and len(capacities) > 1
        starts = set(session.scalars(select(Slot.start_time).distinct()))
        assert dt.time(9, 0) in starts and dt.time(14, 0) in starts and len(starts) >= 8


def test_holidays_include_spring_festival_and_make_up_days(seeded_engine: Engine) -> None:
    with Session(seeded_engine, future=True) as session:
        spring = session.get(Holiday, dt.date(2026, 2, 17))
        assert spring is not None and "春节" in spring.name and not spring.is_workday_override
        make_up = session.get(Holiday, dt.date(2026, 2, 28))
        assert make_up is not None and make_up.is_workday_override
        assert (
            session.scalar(
                select(func.count()).select_from(Holiday).where(Holiday.day >= dt.date(2027, 1, 1))
            )
            > 20
        )


def test_name_counts_aggregate_matches_residents(seeded_engine: Engine) -> None:
    with Session(seeded_engine, future=True) as session:
        total = session.scalar(select(func.sum(NameCount.total)))
        assert total == session.scalar(select(func.count()).select_from(Resident))
        mismatched = session.execute(
            select(NameCount.full_name).where(NameCount.total != NameCount.male + NameCount.female)
        ).all()
        assert mismatched == []


def test_registry_distribution_is_realistic() -> None:
    rows = list(seeding.generate_residents(100_000, [1, 2], [1.0, 1.0]))
    assert len({r[0] for r in rows}) == 100_000
    counts: dict[str, int] = {}
    surnames: dict[str, int] = {}
    for _, surname, given, full, gender, year, _county in rows:
        assert full == surname + given and 2 <= len(full) <= 4
        assert gender in ("male", "female") and 1940 <= year <= 2025
        counts[full] = counts.get(full, 0) + 1
        surnames[surname] = surnames.get(surname, 0) + 1
    top_surnames = sorted(surnames, key=surnames.get, reverse=True)[:5]  # type: ignore[arg-type]
    assert set(top_surnames) == {"王", "李", "张", "刘", "陈"}
    assert counts.get("张伟", 0) > 20 and counts.get("王芳", 0) > 20
    assert any(len(s) == 2 for s in surnames)  # compound surnames occur
    assert surnames.get("欧阳", 0) > surnames.get("澹台", 0)
    singletons = sum(1 for c in counts.values() if c == 1)
    assert singletons > len(counts) / 2  # a long tail of names held once


def test_generation_is_deterministic() -> None:
    first = list(seeding.generate_residents(2_000, [1, 2, 3], [1.0, 2.0, 1.0]))
    second = list(seeding.generate_residents(2_000, [1, 2, 3], [1.0, 2.0, 1.0]))
    assert first == second


def test_full_seed_on_sqlite_takes_under_a_minute(tmp_path: Any) -> None:
    from bot.db import migrate

    url = f"sqlite:///{tmp_path / 'full.db'}"
    migrate.upgrade(url)
    report = seeding.seed(url)
    assert report.residents == seeding.DEFAULT_RESIDENTS and report.residents_rebuilt
    assert report.total_seconds < 60, report.timings
    again = seeding.seed(url)
    assert not again.residents_rebuilt and again.total_seconds < 10


def test_cli_seed_if_empty_seeds_once_then_tops_up_slots(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.db.__main__ import main
    from bot.db.session import make_engine

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--url", url, "seed", "--if-empty", "--residents", "2000"]) == 0
    assert "residents 2000 (rebuilt)" in capsys.readouterr().out
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(update(Case.__table__).values(stage="completed"))
        later = (seeding.beijing_today() + dt.timedelta(days=30)).isoformat()
        assert main(["--url", url, "seed", "--if-empty", "--today", later]) == 0
        out = capsys.readouterr().out
        assert "already seeded" in out and "0 slots added" not in out
        with engine.connect() as conn:
            stages = set(conn.execute(select(Case.stage)).scalars())
            assert stages == {"completed"}  # existing data left alone
            assert conn.execute(
                select(func.max(Slot.day))
            ).scalar_one() > seeding.beijing_today() + dt.timedelta(days=30)
    finally:
        engine.dispose()
