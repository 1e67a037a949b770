"""Sample data for the data layer (``python -m bot.db seed``). SAMPLE data, not real people.

What it builds (idempotent: a second run leaves the same data; deterministic: fixed seeds):

- business types; counties, windows (and the businesses each handles) and service points from
  ``data/knowledge/{counties,windows,service_points}.yml`` (built-in placeholders when a file
  is missing), upserted by name;
- China's public holidays and make-up working days for 2026 and a sample 2027 list;
- two weeks of 30-minute slots (09:00-11:30 and 14:00-17:00, capacity 2-5) for every window
  and business on working days; existing slots (and their bookings) are never touched;
- sample cases in every stage for every county, with a stage history and phones stored only
  as hash + mask; case numbers do not depend on the day the seed runs (fixed anchor date);
- the resident-name registry (500,000 synthetic residents by default, see
  :mod:`bot.db.namedata`) and its ``name_counts`` aggregate; rebuilt only when missing or of a
  different size (``force=True`` rebuilds).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import random
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from bot.db import namedata
from bot.db.crypto import hash_phone
from bot.db.models import (
    BUSINESS_TYPES,
    CASE_STAGES,
    BusinessType,
    Case,
    CaseStageEvent,
    County,
    Holiday,
    NameCount,
    Resident,
    ServicePoint,
    Slot,
    Window,
    WindowBusiness,
)
from bot.db.session import PROJECT_ROOT, make_engine
from bot.privacy import mask_phone

logger = logging.getLogger(__name__)

BEIJING = dt.timezone(dt.timedelta(hours=8))
DEFAULT_RESIDENTS = 500_000
RESIDENT_SEED = 20261125
CASE_SEED = 7
#: Cases are dated relative to this fixed day so case numbers never depend on when the seed ran.
CASE_ANCHOR = dt.date(2026, 11, 24)
CASES_PER_STAGE = 3
SLOT_DAYS = 14
MORNING = (dt.time(9, 0), dt.time(11, 30))
AFTERNOON = (dt.time(14, 0), dt.time(17, 0))
SLOT_MINUTES = 30

# Placeholder counties when data/knowledge/counties.yml is missing (urban = 市区).
_FALLBACK_COUNTIES: list[tuple[str, bool]] = [
    ("广阳区", True), ("安次区", True), ("廊坊经济技术开发区", True), ("三河市", False),
    ("霸州市", False), ("香河县", False), ("大厂回族自治县", False), ("固安县", False),
    ("永清县", False), ("文安县", False), ("大城县", False), ("廊坊临空经济区", False),
]  # fmt: skip

# Relative resident population of the counties (sample); unknown names get weight 1.
_COUNTY_WEIGHTS: dict[str, float] = {
    "广阳区": 1.4, "安次区": 1.1, "廊坊经济技术开发区": 0.5, "三河市": 1.6, "霸州市": 1.4,
    "香河县": 0.8, "大厂回族自治县": 0.4, "固安县": 1.1, "永清县": 0.8, "文安县": 1.1,
    "大城县": 0.9, "廊坊临空经济区": 0.2,
}  # fmt: skip

# Public holidays (is_workday_override False) and make-up working days (True).
# 2026: the State Council schedule; 2027: SAMPLE until the official schedule is published.
_HOLIDAYS: list[tuple[str, str, str, bool]] = [
    ("2026-01-01", "2026-01-03", "元旦", False),
    ("2026-01-04", "2026-01-04", "元旦调休上班", True),
    ("2026-02-14", "2026-02-14", "春节调休上班", True),
    ("2026-02-15", "2026-02-23", "春节", False),
    ("2026-02-28", "2026-02-28", "春节调休上班", True),
    ("2026-04-04", "2026-04-06", "清明节", False),
    ("2026-05-01", "2026-05-05", "劳动节", False),
    ("2026-05-09", "2026-05-09", "劳动节调休上班", True),
    ("2026-06-19", "2026-06-21", "端午节", False),
    ("2026-09-20", "2026-09-20", "国庆节调休上班", True),
    ("2026-09-25", "2026-09-27", "中秋节", False),
    ("2026-10-01", "2026-10-07", "国庆节", False),
    ("2026-10-10", "2026-10-10", "国庆节调休上班", True),
    ("2027-01-01", "2027-01-03", "元旦（样例）", False),
    ("2027-02-06", "2027-02-13", "春节（样例）", False),
    ("2027-02-20", "2027-02-20", "春节调休上班（样例）", True),
    ("2027-04-03", "2027-04-05", "清明节（样例）", False),
    ("2027-05-01", "2027-05-05", "劳动节（样例）", False),
    ("2027-05-08", "2027-05-08", "劳动节调休上班（样例）", True),
    ("2027-06-09", "2027-06-11", "端午节（样例）", False),
    ("2027-09-15", "2027-09-17", "中秋节（样例）", False),
    ("2027-10-01", "2027-10-07", "国庆节（样例）", False),
    ("2027-10-09", "2027-10-09", "国庆节调休上班（样例）", True),
]

_MISSING_MATERIALS: dict[str, list[list[str]]] = {
    "id_card": [["近6个月内免冠白底证件照回执（照片不清晰）"], ["户口簿本人页（上传不完整）"]],
    "hukou_move_in": [
        ["房屋不动产权证书原件照片（上传照片模糊）", "户口簿户主页"],
        ["劳动合同（需加盖单位公章）", "社保缴纳证明（近6个月）"],
        ["结婚证（投靠配偶）"],
    ],
    "birth_registration": [["《出生医学证明》原件照片", "父母双方结婚证"]],
    "residence_permit": [["居住证明（房屋租赁合同）", "近6个月社保缴纳证明"]],
    "hukou_booklet": [["户主居民身份证照片（反面缺失）"]],
    "certificate": [["亲属关系证明材料（出生医学证明或户口簿）"]],
    "death_deregistration": [["《死亡医学证明》或火化证明"]],
    "other": [["申请材料照片不清晰，请重新上传"]],
}

_COURIERS = ("EMS", "顺丰速运", "中国邮政")


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


@dataclass(frozen=True)
class SampleCase:
    """A generated sample case (the plain phone exists only in memory, for demos/tests)."""

    case_number: str
    county: str
    business_code: str
    stage: str
    phone: str
    history: tuple[tuple[str, dt.datetime, str], ...]
    window_name: str | None
    missing_materials: tuple[str, ...]
    courier_company: str | None
    courier_number: str | None
    applicant_masked: str


# --------------------------------------------------------------------------- knowledge files


def _knowledge_dir(path: Path | None) -> Path:
    if path is not None:
        return path
    return Path(os.environ.get("KNOWLEDGE_DIR", PROJECT_ROOT / "data" / "knowledge"))


def _load_list(directory: Path, filename: str, key: str) -> list[dict[str, Any]] | None:
    path = directory / filename
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if isinstance(data, dict):
        if key in data:
            data = data[key]
        else:  # grouped by type: {self_service: [...], notary: [...]}
            grouped: list[Any] = []
            for group, items in data.items():
                if isinstance(items, list):
                    grouped.extend(
                        {"type": group, **item} if isinstance(item, dict) else item
                        for item in items
                    )
            data = grouped
    return [item for item in data or [] if isinstance(item, dict)]


def _county_resolver(counties: list[dict[str, Any]]) -> dict[str, str]:
    names: dict[str, str] = {}
    for item in counties:
        canonical = str(item["name"])
        names[canonical] = canonical
        for alias in item.get("aliases", []) or []:
            names[str(alias)] = canonical
    return names


def _resolve(names: dict[str, str], value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    if value in names:
        return names[value]
    best = max((k for k in names if k and k in value), key=len, default=None)
    return names[best] if best else None


def _business_code(value: Any) -> str | None:
    value = str(value).strip()
    if value in BUSINESS_TYPES:
        return value
    for code, name in BUSINESS_TYPES.items():
        if value and (value in name or name in value):
            return code
    return None


# --------------------------------------------------------------------------- reference data


def seed_reference(session: Session, knowledge_dir: Path | None = None) -> dict[str, int]:
    """Upsert business types, counties, windows (+ their businesses) and service points.

    Args:
        session: an open session (the caller commits).
        knowledge_dir: folder with counties.yml / windows.yml / service_points.yml.

    Returns:
        Row counts per table after the upsert.

    """
    directory = _knowledge_dir(knowledge_dir)
    for code, name in BUSINESS_TYPES.items():
        row = session.get(BusinessType, code)
        if row is None:
            session.add(BusinessType(code=code, name=name))
        else:
            row.name = name
    session.flush()

    county_items = _load_list(directory, "counties.yml", "counties")
    if not county_items:
        logger.warning("counties.yml missing or empty; using the built-in placeholder counties")
        county_items = [{"name": n, "urban": u, "aliases": []} for n, u in _FALLBACK_COUNTIES]
    existing = {c.name: c for c in session.scalars(select(County))}
    for item in county_items:
        name = str(item["name"])
        urban = bool(item.get("urban", False))
        if name in existing:
            existing[name].urban = urban
        else:
            existing[name] = County(name=name, urban=urban)
            session.add(existing[name])
    session.flush()
    resolver = _county_resolver(county_items)
    county_ids = {name: c.id for name, c in existing.items()}

    window_items = _load_list(directory, "windows.yml", "windows")
    if not window_items:
        logger.warning("windows.yml missing or empty; using one placeholder window per county")
        window_items = [
            {
                "name": f"{item['name']}公安局户政服务大厅（样例）",
                "county": item["name"],
                "address": f"{item['name']}人民路1号（样例地址）",
                "phone": "0316-0000000（样例）",
                "hours": "周一至周五 9:00-12:00，13:30-17:30",
                "saturday": False,
            }
            for item in county_items
        ]
    windows = {w.name: w for w in session.scalars(select(Window))}
    window_business: dict[str, list[str]] = {}
    for item in window_items:
        county = _resolve(resolver, item.get("county"))
        if county is None or county not in county_ids:
            logger.warning(
                "window %r: unknown county %r, skipped", item.get("name"), item.get("county")
            )
            continue
        name = str(item["name"])
        values = {
            "county_id": county_ids[county],
            "address": str(item.get("address", "")),
            "phone": str(item.get("phone", "")),
            "hours": str(item.get("hours", "")),
            "lat": _float(item.get("lat")),
            "lng": _float(item.get("lng")),
            "saturday": bool(item.get("saturday", False)),
        }
        row = windows.get(name)
        if row is None:
            row = Window(name=name, **values)
            session.add(row)
            windows[name] = row
        else:
            for key, value in values.items():
                setattr(row, key, value)
        codes = [c for c in (_business_code(b) for b in item.get("businesses", []) or []) if c]
        window_business[name] = sorted(set(codes)) or [c for c in BUSINESS_TYPES if c != "other"]
    session.flush()
    for name, codes in window_business.items():
        window_id = windows[name].id
        session.execute(delete(WindowBusiness).where(WindowBusiness.window_id == window_id))
        session.add_all(WindowBusiness(window_id=window_id, business_code=c) for c in codes)

    point_items = _load_list(directory, "service_points.yml", "service_points")
    if point_items is None:
        point_items = _fallback_service_points(county_items)
    points = {(p.type, p.name): p for p in session.scalars(select(ServicePoint))}
    for item in point_items:
        kind = str(item.get("type", ""))
        if kind == "window":
            continue
        county = _resolve(resolver, item.get("county"))
        if county is None or kind not in {"self_service", "paternity", "notary", "translation"}:
            logger.warning("service point %r skipped (type/county)", item.get("name"))
            continue
        values = {
            "county_id": county_ids[county],
            "address": str(item.get("address", "")),
            "phone": _str_or_none(item.get("phone")),
            "hours": _str_or_none(item.get("hours")),
            "lat": _float(item.get("lat")),
            "lng": _float(item.get("lng")),
        }
        point_key = (kind, str(item["name"]))
        row = points.get(point_key)
        if row is None:
            row = ServicePoint(type=kind, name=point_key[1], **values)
            session.add(row)
            points[point_key] = row
        else:
            for attr, value in values.items():
                setattr(row, attr, value)
    session.flush()
    return {
        "counties": len(existing),
        "windows": len(windows),
        "service_points": len(points),
    }


def _fallback_service_points(counties: list[dict[str, Any]]) -> list[dict[str, Any]]:
    logger.warning("service_points.yml missing; using 20 placeholder self-service points")
    urban = [c["name"] for c in counties if c.get("urban")] or [counties[0]["name"]]
    rural = [c["name"] for c in counties if not c.get("urban")] or urban
    points = []
    for i in range(20):
        county = urban[i % len(urban)] if i < 10 else rural[(i - 10) % len(rural)]
        points.append(
            {
                "type": "self_service",
                "name": f"{county}24小时自助办证点{i + 1}号（样例）",
                "county": county,
                "address": f"{county}样例路{i + 1}号",
                "hours": "24小时",
            }
        )
    return points


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def seed_holidays(session: Session) -> int:
    """Upsert the holiday calendar.

    Args:
        session: an open session (the caller commits).

    Returns:
        Number of holiday rows in the sample list.

    """
    count = 0
    for first, last, name, override in _HOLIDAYS:
        day = dt.date.fromisoformat(first)
        end = dt.date.fromisoformat(last)
        while day <= end:
            row = session.get(Holiday, day)
            if row is None:
                session.add(Holiday(day=day, name=name, is_workday_override=override))
            else:
                row.name, row.is_workday_override = name, override
            count += 1
            day += dt.timedelta(days=1)
    session.flush()
    return count


def is_working_day(day: dt.date, holidays: dict[dt.date, bool]) -> bool:
    """Whether the registration windows are open on ``day``.

    Args:
        day: a local date.
        holidays: ``day -> is_workday_override`` from the holidays table.

    Returns:
        True on Monday-Friday that are not holidays, and on make-up working days.

    """
    if day in holidays:
        return holidays[day]
    return day.weekday() < 5


def slot_times() -> list[tuple[dt.time, dt.time]]:
    """Return the daily 30-minute slot grid (morning and afternoon half-days)."""
    result = []
    for start, end in (MORNING, AFTERNOON):
        current = dt.datetime.combine(dt.date(2000, 1, 1), start)
        stop = dt.datetime.combine(dt.date(2000, 1, 1), end)
        while current < stop:
            following = current + dt.timedelta(minutes=SLOT_MINUTES)
            result.append((current.time(), following.time()))
            current = following
    return result


def _insert_ignore(
    conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]
) -> int:
    if not rows:
        return 0
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    # rowcount is unreliable for batched inserts on psycopg2: count before and after instead.
    before = conn.execute(select(func.count()).select_from(table)).scalar_one()
    for start in range(0, len(rows), 5000):
        conn.execute(stmt, rows[start : start + 5000])
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one() - before)


def seed_slots(session: Session, today: dt.date, days: int = SLOT_DAYS) -> int:
    """Add the missing slots for ``days`` days from ``today`` (existing ones are kept as they are).

    Args:
        session: an open session (the caller commits).
        today: first day (local date).
        days: number of calendar days.

    Returns:
        Number of slots added.

    """
    holidays = {h.day: h.is_workday_override for h in session.scalars(select(Holiday))}
    pairs = session.execute(select(WindowBusiness.window_id, WindowBusiness.business_code)).all()
    grid = slot_times()
    rows = []
    for offset in range(days):
        day = today + dt.timedelta(days=offset)
        if not is_working_day(day, holidays):
            continue
        for window_id, code in pairs:
            for start, end in grid:
                key = f"{window_id}|{code}|{day.isoformat()}|{start.isoformat()}"
                rows.append(
                    {
                        "window_id": window_id,
                        "business_code": code,
                        "day": day,
                        "start_time": start,
                        "end_time": end,
                        "capacity": 2 + zlib.crc32(key.encode()) % 4,
                        "booked": 0,
                    }
                )
    return _insert_ignore(
        session.connection(),
        Slot.__table__,
        rows,
        ["window_id", "business_code", "day", "start_time"],
    )


# --------------------------------------------------------------------------- cases


def _stage_path(stage: str, business: str, detour: bool) -> list[str]:
    if stage in ("submitted", "pre_review"):
        return ["submitted", "pre_review"][: CASE_STAGES.index(stage) + 1]
    if stage == "materials_needed":
        return ["submitted", "pre_review", "materials_needed"]
    path = ["submitted", "pre_review"]
    if detour:
        path += ["materials_needed", "pre_review"]
    path.append("pre_review_passed")
    later = ["accepted"]
    if business == "id_card":
        later.append("card_making")
    if business in ("id_card", "hukou_booklet", "certificate"):
        later.append("mailed")
    later.append("completed")
    if stage != "pre_review_passed" and stage not in later:
        raise ValueError(f"stage {stage} does not occur for business {business}")
    for item in later:
        if CASE_STAGES.index(item) > CASE_STAGES.index(stage):
            break
        path.append(item)
    return path


_NOTES = {
    "submitted": "网上申请已提交",
    "pre_review": "户籍民警预审核中",
    "pre_review_passed": "预审核通过，请携带原件到窗口办理",
    "materials_needed": "预审核未通过：材料需补充",
    "accepted": "窗口已受理",
    "card_making": "证件制作中",
    "mailed": "已寄出",
    "completed": "已办结",
}

_STAGE_BUSINESS: dict[str, Sequence[str]] = {
    "card_making": ("id_card",),
    "mailed": ("id_card", "hukou_booklet", "certificate"),
}
_GENERAL_BUSINESS = (
    "id_card", "hukou_move_in", "birth_registration", "residence_permit", "hukou_booklet",
    "certificate", "death_deregistration",
)  # fmt: skip


def sample_cases(
    counties: Sequence[str],
    windows: dict[str, str],
    anchor: dt.date = CASE_ANCHOR,
    per_stage: int = CASES_PER_STAGE,
) -> list[SampleCase]:
    """Generate the deterministic sample cases (every stage in every county).

    Args:
        counties: county names in seed order.
        windows: county name -> name of the window citizens are sent to.
        anchor: the "today" of the sample (newest submission day).
        per_stage: cases per stage and county.

    Returns:
        The cases; phones are synthetic and only returned so demos/tests can query them.

    """
    rng = random.Random(CASE_SEED)
    surnames = list(namedata.SURNAMES)[:60]
    used: set[str] = set()
    result = []
    for county in counties:
        for stage in CASE_STAGES:
            for _ in range(per_stage):
                business = rng.choice(_STAGE_BUSINESS.get(stage, _GENERAL_BUSINESS))
                age_days = {
                    "submitted": 0, "pre_review": 1, "pre_review_passed": 2,
                    "materials_needed": 2, "accepted": 5, "card_making": 8, "mailed": 14,
                    "completed": 25,
                }[stage] + rng.randint(0, 4)  # fmt: skip
                submitted_day = anchor - dt.timedelta(days=age_days)
                while True:
                    number = f"SL{submitted_day:%Y%m%d}{rng.randint(0, 9999):04d}"
                    if number not in used:
                        used.add(number)
                        break
                phone = f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
                path = _stage_path(stage, business, detour=rng.random() < 0.4)
                start = dt.datetime.combine(submitted_day, dt.time(8 + rng.randint(0, 10)))
                history = []
                moment = start
                for step, item in enumerate(path):
                    if step:
                        moment = moment + dt.timedelta(hours=rng.randint(3, 30))
                    if moment.date() > anchor:
                        moment = dt.datetime.combine(anchor, dt.time(7, step % 60))
                    note = _NOTES[item]
                    history.append((item, moment - dt.timedelta(hours=8), note))  # to UTC
                missing: tuple[str, ...] = ()
                if stage == "materials_needed":
                    missing = tuple(rng.choice(_MISSING_MATERIALS[business]))
                courier_company = courier_number = None
                if "mailed" in path:
                    courier_company = rng.choice(_COURIERS)
                    digits = f"{rng.randint(0, 10**12 - 1):012d}"
                    courier_number = (
                        ("SF1" + digits) if courier_company == "顺丰速运" else "1" + digits
                    )
                result.append(
                    SampleCase(
                        case_number=number,
                        county=county,
                        business_code=business,
                        stage=stage,
                        phone=phone,
                        history=tuple(history),
                        window_name=windows.get(county),
                        missing_materials=missing,
                        courier_company=courier_company,
                        courier_number=courier_number,
                        applicant_masked=rng.choice(surnames) + "*" * rng.choice((1, 2)),
                    )
                )
    return result


def sample_cases_for(session: Session, anchor: dt.date = CASE_ANCHOR) -> list[SampleCase]:
    """Return the sample cases the seed writes for the counties and windows in the database.

    Demos and tests use it to know a case's (synthetic) phone number.

    Args:
        session: open session.
        anchor: the sample's "today".

    Returns:
        The deterministic sample cases.

    """
    counties = {c.id: c.name for c in session.scalars(select(County).order_by(County.id))}
    windows: dict[str, str] = {}
    for window in session.scalars(select(Window).order_by(Window.id)):
        windows.setdefault(counties[window.county_id], window.name)
    return sample_cases(list(counties.values()), windows, anchor)


def seed_cases(session: Session, anchor: dt.date = CASE_ANCHOR) -> list[SampleCase]:
    """Upsert the sample cases (by case number) and replace their stage history.

    Args:
        session: an open session (the caller commits).
        anchor: the sample's "today".

    Returns:
        The sample cases written.

    """
    counties = {c.name: c.id for c in session.scalars(select(County).order_by(County.id))}
    window_ids = {w.name: w.id for w in session.scalars(select(Window))}
    cases = sample_cases_for(session, anchor)
    existing = {
        c.case_number: c
        for c in session.scalars(
            select(Case).where(Case.case_number.in_([s.case_number for s in cases]))
        )
    }
    for sample in cases:
        values = {
            "business_code": sample.business_code,
            "county_id": counties[sample.county],
            "stage": sample.stage,
            "window_id": window_ids.get(sample.window_name or ""),
            "missing_materials": list(sample.missing_materials) or None,
            "courier_company": sample.courier_company,
            "courier_number": sample.courier_number,
            "applicant_masked": sample.applicant_masked,
            "phone_hash": hash_phone(sample.phone),
            "phone_masked": mask_phone(sample.phone),
            "created_at": sample.history[0][1],
            "updated_at": sample.history[-1][1],
        }
        row = existing.get(sample.case_number)
        if row is None:
            row = Case(case_number=sample.case_number, **values)
            session.add(row)
        else:
            for key, value in values.items():
                if getattr(row, key) != value:
                    setattr(row, key, value)
            current = [(e.stage, e.created_at, e.note) for e in row.events]
            if current == list(sample.history):
                continue  # unchanged: keep the rows (and their ids) as they are
            row.events.clear()
            session.flush()
        row.events.extend(
            CaseStageEvent(stage=stage, note=note, created_at=when)
            for stage, when, note in sample.history
        )
    session.flush()
    return cases


# --------------------------------------------------------------------------- residents


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


# --------------------------------------------------------------------------- entry point


def beijing_today() -> dt.date:
    """Today's date in Beijing time (the windows' local time)."""
    return dt.datetime.now(BEIJING).date()


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
    """Add the slots missing from the two-week horizon (daily, at startup).

    Args:
        url: database URL (None: ``DATABASE_URL`` or the SQLite default).
        today: first day (default: today in Beijing).

    Returns:
        Number of slots added.

    """
    engine = make_engine(url)
    try:
        with Session(engine, future=True) as session, session.begin():
            return seed_slots(session, today or beijing_today())
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
    report = SeedReport()
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        with Session(engine, future=True) as session, session.begin():
            counts = seed_reference(session, knowledge_dir)
            report.counties = counts["counties"]
            report.windows = counts["windows"]
            report.service_points = counts["service_points"]
            report.holidays = seed_holidays(session)
        report.timings["reference"] = time.perf_counter() - started

        started = time.perf_counter()
        with Session(engine, future=True) as session, session.begin():
            report.slots_added = seed_slots(session, today or beijing_today())
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
