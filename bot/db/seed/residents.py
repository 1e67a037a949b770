"""The synthetic resident registry and its ``name_counts`` aggregate (SAMPLE data).

500,000 residents by default, drawn with a fixed seed from :mod:`bot.db.namedata`; rebuilt only
when missing or of a different size. Bulk loaded with COPY on PostgreSQL and ``executemany`` in
one transaction on SQLite.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Engine

from bot.db import namedata
from bot.db.models import County, NameCount, Resident

DEFAULT_RESIDENTS = 500_000
RESIDENT_SEED = 20261125

# Relative resident population of the counties (sample); unknown names get weight 1.
_COUNTY_WEIGHTS: dict[str, float] = {
    "广阳区": 1.4, "安次区": 1.1, "廊坊经济技术开发区": 0.5, "三河市": 1.6, "霸州市": 1.4,
    "香河县": 0.8, "大厂回族自治县": 0.4, "固安县": 1.1, "永清县": 0.8, "文安县": 1.1,
    "大城县": 0.9, "廊坊临空经济区": 0.2,
}  # fmt: skip


def generate_residents(
    count: int, county_ids: Sequence[int], county_weights: Sequence[float]
) -> Iterable[tuple[int, str, str, str, str, int, int]]:
    """Generate the synthetic resident registry deterministically.

    Args:
        count: number of residents.
        county_ids: ids of the counties residents are spread over.
        county_weights: relative population of each county.

    Yields:
        ``(id, surname, given_name, full_name, gender, birth_year, county_id)`` tuples.

    """
    rng = random.Random(RESIDENT_SEED)
    surnames = list(namedata.SURNAMES)
    surname_weights = list(namedata.SURNAMES.values())
    popular = namedata.popular_given()
    eras = list(namedata.ERAS)
    era_weights = [namedata.ERAS[e][2] for e in eras]
    pools = {g: list(chars) for g, chars in namedata.GIVEN_CHARS.items()}
    pool_weights = {g: [1.0 / (rank + 20) for rank in range(len(p))] for g, p in pools.items()}

    drawn_surnames = rng.choices(surnames, surname_weights, k=count)
    drawn_eras = rng.choices(eras, era_weights, k=count)
    drawn_counties = rng.choices(list(county_ids), list(county_weights), k=count)
    for index in range(count):
        gender = "male" if rng.random() < 0.51 else "female"
        era = drawn_eras[index]
        first, last, _ = namedata.ERAS[era]
        if rng.random() < namedata.POPULAR_SHARE:
            names = popular[era][gender]
            given = rng.choices([n for n, _ in names], [w for _, w in names])[0]
        else:
            length = 1 if rng.random() < (0.22 if era in ("old", "mid") else 0.08) else 2
            given = "".join(rng.choices(pools[gender], pool_weights[gender], k=length))
        surname = drawn_surnames[index]
        yield (
            index + 1,
            surname,
            given,
            surname + given,
            gender,
            rng.randint(first, last),
            drawn_counties[index],
        )


def seed_residents(engine: Engine, count: int = DEFAULT_RESIDENTS, force: bool = False) -> bool:
    """Build the resident registry and ``name_counts`` unless already present with ``count`` rows.

    Bulk loads with COPY on PostgreSQL and ``executemany`` in one transaction on SQLite.

    Args:
        engine: the target engine.
        count: number of synthetic residents.
        force: rebuild even if the registry already has ``count`` rows.

    Returns:
        True if the registry was (re)built.

    """
    with engine.begin() as conn:
        present = conn.execute(select(func.count()).select_from(Resident.__table__)).scalar_one()
        max_id = conn.execute(select(func.max(Resident.id))).scalar_one()
        aggregated = conn.execute(
            select(func.count()).select_from(NameCount.__table__)
        ).scalar_one()
        if not force and present == count and (max_id or 0) == count and (aggregated or count == 0):
            return False
        counties = conn.execute(select(County.id, County.name).order_by(County.id)).all()
        if not counties:
            raise RuntimeError("no counties: run the reference seed first")
        conn.execute(delete(NameCount.__table__))
        conn.execute(delete(Resident.__table__))
        rows = generate_residents(
            count, [c.id for c in counties], [_COUNTY_WEIGHTS.get(c.name, 1.0) for c in counties]
        )
        columns = "id, surname, given_name, full_name, gender, birth_year, county_id"
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP INDEX IF EXISTS ix_residents_full_name_gender")
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(map(str, row)))
                buffer.write("\n")
            buffer.seek(0)
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            with dbapi.cursor() as cursor:
                cursor.copy_expert(f"COPY residents ({columns}) FROM STDIN", buffer)
            conn.exec_driver_sql(
                "CREATE INDEX ix_residents_full_name_gender ON residents (full_name, gender)"
            )
        else:
            conn.exec_driver_sql("DROP INDEX IF EXISTS ix_residents_full_name_gender")
            conn.exec_driver_sql(
                f"INSERT INTO residents ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", list(rows)
            )
            conn.exec_driver_sql(
                "CREATE INDEX ix_residents_full_name_gender ON residents (full_name, gender)"
            )
        conn.execute(
            text(
                "INSERT INTO name_counts (full_name, total, male, female) "
                "SELECT full_name, COUNT(*), "
                "SUM(CASE WHEN gender = 'male' THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN gender = 'female' THEN 1 ELSE 0 END) "
                "FROM residents GROUP BY full_name"
            )
        )
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return True
