"""Reference data: business types, counties, windows (and their businesses), service points.

Read from ``data/knowledge/{counties,windows,service_points}.yml`` (built-in placeholders when a
file is missing) and upserted by name, so a second run changes nothing and an officer's edit
updates the rows in place.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import knowledge
from bot.db.models import BusinessType, County, ServicePoint, Window, WindowBusiness
from bot.db.session import PROJECT_ROOT

logger = logging.getLogger(__name__)

# Placeholder counties when data/knowledge/counties.yml is missing (urban = 市区).
_FALLBACK_COUNTIES: list[tuple[str, bool]] = [
    ("广阳区", True), ("安次区", True), ("廊坊经济技术开发区", True), ("三河市", False),
    ("霸州市", False), ("香河县", False), ("大厂回族自治县", False), ("固安县", False),
    ("永清县", False), ("文安县", False), ("大城县", False), ("廊坊临空经济区", False),
]  # fmt: skip


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
    return knowledge.term_from_text(knowledge.business_types(), str(value))


def seed_reference(session: Session, knowledge_dir: Path | None = None) -> dict[str, int]:
    """Upsert business types, counties, windows (+ their businesses) and service points.

    Args:
        session: an open session (the caller commits).
        knowledge_dir: folder with counties.yml / windows.yml / service_points.yml.

    Returns:
        Row counts per table after the upsert.

    """
    directory = _knowledge_dir(knowledge_dir)
    for term in knowledge.business_types():
        row = session.get(BusinessType, term.code)
        if row is None:
            session.add(BusinessType(code=term.code, name=term.name))
        else:
            row.name = term.name
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
        window_business[name] = sorted(set(codes)) or [
            t.code for t in knowledge.business_types() if t.bookable and t.code != "other"
        ]
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
