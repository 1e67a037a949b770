"""Inbox queries: groups of similar questions and single questions, with filters.

The officer's decisions on them are in :mod:`bot.console.review`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console.models import ITEM_STATUSES, REASONS, ConsoleCluster, ConsoleItem

REASON_LABELS: dict[str, str] = {
    "fallback": "未识别",
    "low_confidence": "低置信度",
    "low_margin": "两个意图难分",
    "out_of_scope": "业务范围外",
    "thumbs_down": "用户点踩",
    "message": "留言",
}
STATUS_LABELS: dict[str, str] = {"new": "待处理", "reviewed": "已处理", "not_useful": "无用"}
_REASON_COLUMNS = {
    "fallback": ConsoleItem.is_fallback,
    "low_confidence": ConsoleItem.is_low_confidence,
    "low_margin": ConsoleItem.is_low_margin,
    "out_of_scope": ConsoleItem.is_out_of_scope,
    "thumbs_down": ConsoleItem.is_thumbs_down,
    "message": ConsoleItem.is_message,
}


#: Dates outside this range are ignored as filters (year 1 or 9999 cannot be converted to UTC).
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)


@dataclass
class InboxFilter:
    """Filters of the inbox.

    Attributes:
        date_from: first local day shown (inclusive), or None.
        date_to: last local day shown (inclusive), or None.
        reason: one of :data:`REASONS`, or "" for all.
        status: one of :data:`ITEM_STATUSES`, or "" for all.
        query: substring of the question text, or "".

    """

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    reason: str = ""
    status: str = "new"
    query: str = ""

    @classmethod
    def parse(cls, params: Any, today: dt.date) -> InboxFilter:
        """Read filters from query parameters (invalid values fall back to defaults).

        Args:
            params: a mapping of query parameters.
            today: the local date (default range: the last 30 days).

        Returns:
            The filter.

        """

        def day(name: str, default: dt.date | None) -> dt.date | None:
            raw = str(params.get(name) or "").strip()
            if not raw:
                return default if name not in params else None
            try:
                value = dt.date.fromisoformat(raw)
            except ValueError:
                return default
            return value if FIRST_DAY <= value <= LAST_DAY else default

        reason = str(params.get("reason") or "")
        status = str(params.get("status", "new") or "")
        return cls(
            date_from=day("from", today - dt.timedelta(days=29)),
            date_to=day("to", today),
            reason=reason if reason in REASONS else "",
            status=status if status in ITEM_STATUSES else "",
            query=str(params.get("q") or "").strip()[:100],
        )

    def as_params(self) -> dict[str, str]:
        """Return the filter as query parameters (for links that keep it)."""
        return {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "reason": self.reason,
            "status": self.status,
            "q": self.query,
        }


def _bounds(flt: InboxFilter, tz: ZoneInfo) -> tuple[dt.datetime | None, dt.datetime | None]:
    def utc(day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    start = utc(flt.date_from) if flt.date_from else None
    end = utc(flt.date_to + dt.timedelta(days=1)) if flt.date_to else None
    return start, end


def _conditions(flt: InboxFilter, tz: ZoneInfo) -> list[Any]:
    start, end = _bounds(flt, tz)
    conds: list[Any] = []
    if start is not None:
        conds.append(ConsoleItem.occurred_at >= start)
    if end is not None:
        conds.append(ConsoleItem.occurred_at < end)
    if flt.reason:
        conds.append(_REASON_COLUMNS[flt.reason].is_(True))
    if flt.status:
        conds.append(ConsoleItem.status == flt.status)
    if flt.query:
        escaped = flt.query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(ConsoleItem.text.like(f"%{escaped}%", escape="\\"))
    return conds


def reasons_of(item: Any) -> list[str]:
    """Return the reasons (keys of :data:`REASON_LABELS`) an item is in the inbox."""
    return [r for r, column in _REASON_COLUMNS.items() if getattr(item, column.key)]


@dataclass
class Group:
    """One group of similar questions on an inbox page.

    Attributes:
        key: the group key.
        label: the group's leading question.
        size: questions in the group (within the filter).
        first_seen: earliest question (naive UTC).
        last_seen: latest question (naive UTC).
        reasons: reason → count within the group.
        samples: the latest few questions of the group.

    """

    key: str
    label: str
    size: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    reasons: dict[str, int] = field(default_factory=dict)
    samples: list[ConsoleItem] = field(default_factory=list)


@dataclass
class GroupPage:
    """A page of groups.

    Attributes:
        groups: the groups on this page.
        total_groups: groups matching the filter.
        total_items: questions matching the filter.
        page: 1-based page number.
        pages: number of pages.

    """

    groups: list[Group]
    total_groups: int
    total_items: int
    page: int
    pages: int


def group_page(
    session: Session,
    flt: InboxFilter,
    tz: ZoneInfo,
    page: int = 1,
    page_size: int = 20,
    sort: str = "size",
    samples: int = 3,
) -> GroupPage:
    """One page of groups of similar questions matching the filter.

    Args:
        session: app database session.
        flt: the filters.
        tz: local time zone (date filters are local days).
        page: 1-based page.
        page_size: groups per page.
        sort: ``size`` (largest first) or ``recent`` (latest question first).
        samples: questions shown per group.

    Returns:
        The page.

    """
    conds = _conditions(flt, tz)
    size = sa.func.count(ConsoleItem.id).label("size")
    last = sa.func.max(ConsoleItem.occurred_at).label("last_seen")
    base = sa.select(
        ConsoleItem.cluster_key,
        size,
        sa.func.min(ConsoleItem.occurred_at).label("first_seen"),
        last,
        *[
            sa.func.sum(sa.cast(col, sa.Integer)).label(name)
            for name, col in _REASON_COLUMNS.items()
        ],
    ).where(*conds)
    grouped = base.group_by(ConsoleItem.cluster_key)
    totals = session.execute(
        sa.select(sa.func.count(sa.distinct(ConsoleItem.cluster_key)), sa.func.count()).where(
            *conds
        )
    ).one()
    total_groups, total_items = int(totals[0] or 0), int(totals[1] or 0)
    pages = max(1, (total_groups + page_size - 1) // page_size)
    page = min(max(1, page), pages)
    order = (
        [last.desc(), ConsoleItem.cluster_key]
        if sort == "recent"
        else [size.desc(), last.desc(), ConsoleItem.cluster_key]
    )
    rows = session.execute(
        grouped.order_by(*order).limit(page_size).offset((page - 1) * page_size)
    ).all()
    keys = [r.cluster_key for r in rows]
    labels = dict(
        session.execute(
            sa.select(ConsoleCluster.key, ConsoleCluster.label).where(ConsoleCluster.key.in_(keys))
        ).all()
    )
    # The latest few questions of every group on the page, in one query (a per-group
    # "ORDER BY occurred_at DESC LIMIT n" lets PostgreSQL pick a slow backwards index scan).
    samples_by_key: dict[str, list[ConsoleItem]] = {k: [] for k in keys}
    if keys and samples > 0:
        rank = (
            sa.func.row_number()
            .over(
                partition_by=ConsoleItem.cluster_key,
                order_by=(ConsoleItem.occurred_at.desc(), ConsoleItem.id.desc()),
            )
            .label("rank")
        )
        ranked = (
            sa.select(ConsoleItem.id, rank)
            .where(ConsoleItem.cluster_key.in_(keys), *conds)
            .subquery()
        )
        sample_ids = [
            int(i)
            for (i,) in session.execute(sa.select(ranked.c.id).where(ranked.c.rank <= samples))
        ]
        for item in session.execute(
            sa.select(ConsoleItem)
            .where(ConsoleItem.id.in_(sample_ids))
            .order_by(ConsoleItem.occurred_at.desc(), ConsoleItem.id.desc())
        ).scalars():
            samples_by_key[str(item.cluster_key)].append(item)
    groups: list[Group] = []
    for row in rows:
        sample_items = samples_by_key.get(str(row.cluster_key), [])
        groups.append(
            Group(
                key=str(row.cluster_key),
                label=str(
                    labels.get(row.cluster_key) or (sample_items[0].text if sample_items else "")
                ),
                size=int(row.size),
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                reasons={r: int(getattr(row, r) or 0) for r in REASONS if getattr(row, r)},
                samples=sample_items,
            )
        )
    return GroupPage(groups, total_groups, total_items, page, pages)


def group_items(
    session: Session, key: str, flt: InboxFilter | None, tz: ZoneInfo, limit: int = 500
) -> list[ConsoleItem]:
    """Return the questions of one group (latest first), optionally within the filter."""
    conds = _conditions(flt, tz) if flt is not None else []
    return list(
        session.execute(
            sa.select(ConsoleItem)
            .where(ConsoleItem.cluster_key == key, *conds)
            .order_by(ConsoleItem.occurred_at.desc(), ConsoleItem.id.desc())
            .limit(limit)
        ).scalars()
    )


def group_label(session: Session, key: str) -> str | None:
    """Return the leading question of a group, or None if the group does not exist."""
    label = session.execute(
        sa.select(ConsoleCluster.label).where(ConsoleCluster.key == key)
    ).scalar_one_or_none()
    return str(label) if label is not None else None


def item_page(
    session: Session, flt: InboxFilter, tz: ZoneInfo, page: int = 1, page_size: int = 50
) -> tuple[list[ConsoleItem], int]:
    """Return a flat page of questions (latest first) and the total count."""
    conds = _conditions(flt, tz)
    total = int(
        session.execute(sa.select(sa.func.count(ConsoleItem.id)).where(*conds)).scalar() or 0
    )
    rows = list(
        session.execute(
            sa.select(ConsoleItem)
            .where(*conds)
            .order_by(ConsoleItem.occurred_at.desc(), ConsoleItem.id.desc())
            .limit(page_size)
            .offset((max(1, page) - 1) * page_size)
        ).scalars()
    )
    return rows, total
