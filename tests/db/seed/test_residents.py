"""The seed's synthetic resident registry: realistic, deterministic, aggregate consistent."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db.models import NameCount, Resident
from bot.db.seed.residents import generate_residents


def test_name_counts_aggregate_matches_residents(seeded_engine: Engine) -> None:
    with Session(seeded_engine, future=True) as session:
        total = session.scalar(select(func.sum(NameCount.total)))
        assert total == session.scalar(select(func.count()).select_from(Resident))
        mismatched = session.execute(
            select(NameCount.full_name).where(NameCount.total != NameCount.male + NameCount.female)
        ).all()
        assert mismatched == []


def test_registry_distribution_is_realistic() -> None:
    rows = list(generate_residents(100_000, [1, 2], [1.0, 1.0]))
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
    first = list(generate_residents(2_000, [1, 2, 3], [1.0, 2.0, 1.0]))
    second = list(generate_residents(2_000, [1, 2, 3], [1.0, 2.0, 1.0]))
    assert first == second
