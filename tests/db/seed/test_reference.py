"""The seed's reference data: the directory built from the knowledge files."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db.models import County, ServicePoint, Window


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
