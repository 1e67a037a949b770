"""Sample data for the data layer (``python -m bot.db seed``). SAMPLE data, not real people.

What it builds (idempotent: a second run leaves the same data; deterministic: fixed seeds), one
module per part:

- :mod:`.reference`: business types; counties, windows (and the businesses each handles) and
  service points from ``data/knowledge/{counties,windows,service_points}.yml``;
- :mod:`.schedule`: the working-day calendar (holidays and make-up days from chinesecalendar
  and ``data/knowledge/calendar.yml``) and the bookable slots of ``data/knowledge/booking.yml``
  from today to the end of the booking horizon on working days;
- :mod:`.cases`: sample cases in every stage for every county, with a stage history and phones
  stored only as hash + mask; case numbers do not depend on the day the seed runs;
- :mod:`.residents`: the resident-name registry (500,000 synthetic residents by default) and
  its ``name_counts`` aggregate; rebuilt only when missing or of a different size.

The names below stay importable from ``bot.db.seed`` for the callers of the former module.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import County, NameCount, Resident
from bot.db.seed.cases import CASE_ANCHOR as CASE_ANCHOR
from bot.db.seed.cases import SampleCase as SampleCase
from bot.db.seed.cases import sample_cases as sample_cases
from bot.db.seed.cases import sample_cases_for as sample_cases_for
from bot.db.seed.cases import seed_cases as seed_cases
from bot.db.seed.reference import seed_reference as seed_reference
from bot.db.seed.residents import DEFAULT_RESIDENTS as DEFAULT_RESIDENTS
from bot.db.seed.residents import generate_residents as generate_residents
from bot.db.seed.residents import seed_residents as seed_residents
from bot.db.seed.schedule import seed_holidays as seed_holidays
from bot.db.seed.schedule import seed_slots as seed_slots
from bot.db.session import make_engine
from bot.workdays import is_working_day as is_working_day
from bot.workdays import today_local as beijing_today


@dataclass
class SeedReport:
    """What a seed run did and how long each part took (seconds)."""

    counties: int = 0
    windows: int = 0
    service_points: int = 0
    holidays: int = 0
    slots_added: int = 0
    cases: int = 0
    residents: int = 0
    residents_rebuilt: bool = False
    name_counts: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        """Total wall time of the run."""
        return sum(self.timings.values())


def is_empty(url: str | None = None) -> bool:
    """Whether the database has no seeded data yet (no counties).

    Args:
        url: database URL (None: ``DATABASE_URL`` or the SQLite default).

    Returns:
        True for a freshly migrated database.

    """
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return not conn.execute(select(func.count()).select_from(County.__table__)).scalar_one()
    finally:
        engine.dispose()


def top_up_slots(url: str | None = None, today: dt.date | None = None) -> int:
    """Refresh the holiday calendar and add the slots missing from the horizon (at startup).

    Args:
        url: database URL (None: ``DATABASE_URL`` or the SQLite default).
        today: first day (default: today in Beijing).

    Returns:
        Number of slots added.

    """
    today = today or beijing_today()
    engine = make_engine(url)
    try:
        with Session(engine, future=True) as session, session.begin():
            seed_holidays(session, today)
        with Session(engine, future=True) as session, session.begin():
            return seed_slots(session, today)
    finally:
        engine.dispose()


def seed(
    url: str | None = None,
    residents: int = DEFAULT_RESIDENTS,
    today: dt.date | None = None,
    knowledge_dir: Path | None = None,
    force: bool = False,
) -> SeedReport:
    """Seed every table (the schema must exist: run the migrations first).

    Args:
        url: database URL (None: ``DATABASE_URL`` or the SQLite default).
        residents: size of the synthetic resident registry.
        today: first day of the slot horizon (default: today in Beijing).
        knowledge_dir: folder with the knowledge YAML files.
        force: rebuild the resident registry even if it is complete.

    Returns:
        Counts and timings of the run.

    """
    today = today or beijing_today()
    report = SeedReport()
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        with Session(engine, future=True) as session, session.begin():
            counts = seed_reference(session, knowledge_dir)
            report.counties = counts["counties"]
            report.windows = counts["windows"]
            report.service_points = counts["service_points"]
            report.holidays = seed_holidays(session, today)
        report.timings["reference"] = time.perf_counter() - started

        started = time.perf_counter()
        with Session(engine, future=True) as session, session.begin():
            report.slots_added = seed_slots(session, today)
        report.timings["slots"] = time.perf_counter() - started

        started = time.perf_counter()
        with Session(engine, future=True) as session, session.begin():
            report.cases = len(seed_cases(session))
        report.timings["cases"] = time.perf_counter() - started

        started = time.perf_counter()
        report.residents_rebuilt = seed_residents(engine, residents, force=force)
        with engine.connect() as conn:
            report.residents = conn.execute(
                select(func.count()).select_from(Resident.__table__)
            ).scalar_one()
            report.name_counts = conn.execute(
                select(func.count()).select_from(NameCount.__table__)
            ).scalar_one()
        report.timings["residents"] = time.perf_counter() - started
    finally:
        engine.dispose()
    return report
