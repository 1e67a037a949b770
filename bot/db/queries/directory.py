"""Reads of the directory: counties, registration windows, service points.

The working-day reads that used to live here are in :mod:`bot.db.queries.workdays` (still
importable from here).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import County, ServicePoint, Window, WindowBusiness
from bot.db.queries.workdays import holiday_overrides as holiday_overrides
from bot.db.queries.workdays import is_working_day as is_working_day
from bot.db.queries.workdays import next_working_day as next_working_day
from bot.db.views import view_of


@dataclass(frozen=True)
class CountyInfo:
    """A county-level unit."""

    id: int
    name: str
    urban: bool


@dataclass(frozen=True)
class WindowInfo:
    """A registration window, ready for a reply."""

    id: int
    name: str
    county: str
    address: str
    phone: str
    hours: str
    lat: float | None
    lng: float | None
    saturday: bool


@dataclass(frozen=True)
class ServicePointInfo:
    """A convenience service point (self-service machine, notary, ...)."""

    id: int
    type: str
    name: str
    county: str
    address: str
    phone: str | None
    hours: str | None
    lat: float | None
    lng: float | None


def window_info(window: Window) -> WindowInfo:
    """Convert a :class:`Window` row (with its county loaded) into a :class:`WindowInfo`.

    Args:
        window: the ORM row.

    Returns:
        The detached value.

    """
    return view_of(WindowInfo, window, county=window.county.name, saturday=bool(window.saturday))


def list_counties(session: Session) -> list[CountyInfo]:
    """All counties in seed order.

    Args:
        session: open session.

    Returns:
        The counties.

    """
    rows = session.scalars(select(County).order_by(County.id))
    return [CountyInfo(id=c.id, name=c.name, urban=bool(c.urban)) for c in rows]


def list_windows(
    session: Session, county: str | None = None, business_code: str | None = None
) -> list[WindowInfo]:
    """Registration windows, optionally of one county and/or handling one business.

    Args:
        session: open session.
        county: canonical county name.
        business_code: business type code (``id_card`` ...).

    Returns:
        The windows ordered by id.

    """
    stmt = select(Window).join(County).order_by(Window.id)
    if county:
        stmt = stmt.where(County.name == county)
    if business_code:
        stmt = stmt.join(WindowBusiness, WindowBusiness.window_id == Window.id).where(
            WindowBusiness.business_code == business_code
        )
    return [window_info(w) for w in session.scalars(stmt)]


def get_window(session: Session, window_id: int) -> WindowInfo | None:
    """One window by id.

    Args:
        session: open session.
        window_id: the id.

    Returns:
        The window or ``None``.

    """
    window = session.get(Window, window_id)
    return window_info(window) if window is not None else None


def list_service_points(
    session: Session, point_type: str | None = None, county: str | None = None
) -> list[ServicePointInfo]:
    """Service points, optionally of one type and/or county.

    Args:
        session: open session.
        point_type: ``self_service``, ``paternity``, ``notary`` or ``translation``.
        county: canonical county name.

    Returns:
        The points ordered by id.

    """
    stmt = select(ServicePoint, County.name).join(County).order_by(ServicePoint.id)
    if point_type:
        stmt = stmt.where(ServicePoint.type == point_type)
    if county:
        stmt = stmt.where(County.name == county)
    return [view_of(ServicePointInfo, p, county=name) for p, name in session.execute(stmt)]
