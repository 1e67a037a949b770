"""Schema: created and upgraded only by the Alembic migrations, identical to the models."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import migrate
from bot.db.models import Booking, Slot, Window, metadata
from bot.db.session import make_engine
from bot.db.testing import temporary_database
from tests.db.conftest import BACKENDS, skip_without_postgres


def _table_of(diff: Any) -> str | None:
    """The table a diff entry of ``compare_metadata`` is about."""
    if isinstance(diff, list):  # modify_* entries come as lists of tuples
        diff = diff[0]
    kind, *rest = diff
    if kind in ("add_table", "remove_table"):
        return str(rest[0].name)
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return str(rest[0].table.name)
    if kind in ("add_fk", "remove_fk"):
        return str(rest[0].parent.name)
    if kind in ("add_column", "remove_column"):
        return str(rest[1])
    if kind.startswith("modify_"):
        return str(rest[1])
    return None


@pytest.mark.parametrize("kind", BACKENDS)
def test_migrations_build_exactly_the_models_and_downgrade_cleanly(kind: str) -> None:
    skip_without_postgres(kind)
    with temporary_database(kind, seed=False) as url:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                diffs = compare_metadata(MigrationContext.configure(conn), metadata)
                tables = set(inspect(conn).get_table_names())
            ours = set(metadata.tables)
            # Only differences about our tables count (other parts may add their own tables).
            relevant = [d for d in diffs if _table_of(d) in ours]
            assert relevant == []
            assert ours <= tables
            migrate.downgrade(url, "base")
            with engine.connect() as conn:
                assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
            migrate.upgrade(url)
            with engine.connect() as conn:
                assert ours <= set(inspect(conn).get_table_names())
        finally:
            engine.dispose()


def _slot(session: Session) -> Any:
    return session.scalars(select(Slot).order_by(Slot.id)).first()


def test_slot_can_never_be_overbooked(seeded_engine: Any) -> None:
    with Session(seeded_engine, future=True) as session:
        slot = _slot(session)
        with pytest.raises(IntegrityError):
            session.execute(update(Slot).where(Slot.id == slot.id).values(booked=slot.capacity + 1))
            session.flush()
        session.rollback()


def test_one_phone_one_active_booking_per_business_and_day(seeded_engine: Any) -> None:
    with Session(seeded_engine, future=True) as session:
        slot = _slot(session)
        row = {
            "slot_id": slot.id,
            "business_code": slot.business_code,
            "day": slot.day,
            "name_masked": "张*",
            "phone_hash": "a" * 64,
            "phone_masked": "138****5678",
            "created_at": dt.datetime(2026, 11, 25),
            "updated_at": dt.datetime(2026, 11, 25),
        }
        session.execute(insert(Booking).values(code="T0001", status="cancelled", **row))
        session.execute(insert(Booking).values(code="T0002", status="active", **row))
        session.flush()  # a cancelled and an active booking may coexist
        with pytest.raises(IntegrityError):
            session.execute(insert(Booking).values(code="T0003", status="active", **row))
            session.flush()
        session.rollback()


def test_windows_reference_counties(seeded_engine: Any) -> None:
    with Session(seeded_engine, future=True) as session:
        window = session.scalars(select(Window)).first()
        with pytest.raises(IntegrityError):
            session.execute(update(Window).where(Window.id == window.id).values(county_id=99999))
            session.flush()
        session.rollback()
