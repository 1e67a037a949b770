"""Trend statistics and server-side SVG charts (no JavaScript, no external assets)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from html import escape

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console.models import ConsoleCluster, ConsoleItem, ConsoleUserMessage
from bot.numbers import mask_text


@dataclass
class DayStats:
    """Statistics of one local day.

    Attributes:
        day: the local date.
        conversations: distinct conversations with at least one user message.
        messages: user messages.
        fallbacks: user messages that hit the fallback.

    """

    day: dt.date
    conversations: int = 0
    messages: int = 0
    fallbacks: int = 0

    @property
    def fallback_rate(self) -> float:
        """Share of user messages that hit the fallback (0 when there were none)."""
        return self.fallbacks / self.messages if self.messages else 0.0


def daily_stats(session: Session, today: dt.date, days: int = 30) -> list[DayStats]:
    """Per-day statistics of the last ``days`` local days (days without traffic included).

    Args:
        session: app database session.
        today: the last day.
        days: number of days.

    Returns:
        One entry per day, oldest first.

    """
    first = today - dt.timedelta(days=days - 1)
    rows = session.execute(
        sa.select(
            ConsoleUserMessage.day,
            sa.func.count(sa.distinct(ConsoleUserMessage.sender_id)),
            sa.func.count(),
            sa.func.sum(sa.cast(ConsoleUserMessage.is_fallback, sa.Integer)),
        )
        .where(ConsoleUserMessage.day >= first.isoformat())
        .where(ConsoleUserMessage.day <= today.isoformat())
        .group_by(ConsoleUserMessage.day)
    ).all()
    by_day = {str(r[0]): r for r in rows}
    out: list[DayStats] = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        row = by_day.get(day.isoformat())
        if row is None:
            out.append(DayStats(day))
        else:
            out.append(DayStats(day, int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)))
    return out


@dataclass
class TopGroup:
    """A frequent unanswered group.

    Attributes:
        key: group key.
        label: leading question.
        count: questions in the period.

    """

    key: str
    label: str
    count: int


def top_groups(session: Session, since: dt.datetime, limit: int = 10) -> list[TopGroup]:
    """Return the most frequent unanswered groups since ``since`` (naive UTC)."""
    count = sa.func.count(ConsoleItem.id).label("n")
    rows = session.execute(
        sa.select(ConsoleItem.cluster_key, count)
        .where(ConsoleItem.occurred_at >= since)
        .where(ConsoleItem.status != "not_useful")
        .group_by(ConsoleItem.cluster_key)
        .order_by(count.desc(), ConsoleItem.cluster_key)
        .limit(limit)
    ).all()
    labels = dict(
        session.execute(
            sa.select(ConsoleCluster.key, ConsoleCluster.label).where(
                ConsoleCluster.key.in_([r[0] for r in rows])
            )
        ).all()
    )
    return [TopGroup(str(k), str(labels.get(k) or "（未分组）"), int(n)) for k, n in rows]


# -- SVG ---------------------------------------------------------------------------------------

_W, _H = 720, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 16, 36


def _nice_max(value: float) -> float:
    """Smallest 4 x (1, 2 or 5 x 10^k) at or above ``value``: four round gridline steps."""
    if value <= 0:
        return 4.0
    step = value / 4
    magnitude = 10 ** math.floor(math.log10(step))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= step:
            return 4.0 * factor * magnitude
    return 40.0 * magnitude


def _frame(title: str, y_max: float, y_format: str, days: list[dt.date]) -> list[str]:
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {_W} {_H}" '
        f'width="{_W}" height="{_H}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    plot_h = _H - _TOP - _BOTTOM
    for i in range(5):
        value = y_max * i / 4
        y = _TOP + plot_h - plot_h * i / 4
        label = y_format.format(value)
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{label}</text>'
        )
    step = max(1, len(days) // 6)
    plot_w = _W - _LEFT - _RIGHT
    for i, day in enumerate(days):
        if i % step == 0 or i == len(days) - 1:
            x = _LEFT + plot_w * (i + 0.5) / len(days)
            parts.append(
                f'<text x="{x:.1f}" y="{_H - 14}" text-anchor="middle" class="axis">'
                f"{day.month}/{day.day}</text>"
            )
    return parts


def bar_chart(title: str, days: list[dt.date], values: list[int]) -> str:
    """Return a daily bar chart as an SVG string (labels escaped).

    Args:
        title: accessible title.
        days: the x axis.
        values: one value per day.

    Returns:
        The ``<svg>`` element.

    """
    y_max = max(4.0, _nice_max(max(values, default=0)))
    parts = _frame(title, y_max, "{:.0f}" if y_max >= 4 else "{:.1f}", days)
    plot_w = _W - _LEFT - _RIGHT
    plot_h = _H - _TOP - _BOTTOM
    width = plot_w / max(1, len(days))
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        height = plot_h * value / y_max
        x = _LEFT + width * i + width * 0.15
        y = _TOP + plot_h - height
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width * 0.7:.1f}" '
            f'height="{height:.1f}"><title>{day.isoformat()}: {value}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(title: str, days: list[dt.date], rates: list[float | None]) -> str:
    """Return a daily rate (0–1) line chart as an SVG string; days without data leave a gap.

    Args:
        title: accessible title.
        days: the x axis.
        rates: one rate per day, None for no data.

    Returns:
        The ``<svg>`` element.

    """
    known = [r for r in rates if r is not None]
    y_max = min(1.0, _nice_max(max(known, default=0.0) * 100) / 100) if known else 1.0
    y_max = max(y_max, 0.04)
    parts = _frame(title, y_max * 100, "{:.0f}%" if y_max >= 0.08 else "{:.1f}%", days)
    plot_w = _W - _LEFT - _RIGHT
    plot_h = _H - _TOP - _BOTTOM
    segments: list[list[tuple[float, float]]] = [[]]
    points: list[tuple[float, float, dt.date, float]] = []
    for i, (day, rate) in enumerate(zip(days, rates, strict=True)):
        if rate is None:
            if segments[-1]:
                segments.append([])
            continue
        x = _LEFT + plot_w * (i + 0.5) / len(days)
        y = _TOP + plot_h - plot_h * min(rate, y_max) / y_max
        segments[-1].append((x, y))
        points.append((x, y, day, rate))
    for segment in segments:
        if len(segment) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
            parts.append(f'<polyline class="line" points="{path}"/>')
    for x, y, day, rate in points:
        parts.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{day.isoformat()}: {rate:.1%}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(title: str, groups: list[TopGroup]) -> str:
    """Horizontal bars for the most frequent unanswered groups (labels masked, escaped, cut)."""
    row_h = 26
    height = max(60, _TOP + row_h * len(groups) + 10)
    label_w = 300
    plot_w = _W - label_w - 60
    top = max((g.count for g in groups), default=1)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {_W} {height}" '
        f'width="{_W}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    if not groups:
        parts.append(
            f'<text x="10" y="30" class="axis">{escape("最近30天没有未解答的问题")}</text>'
        )
    for i, group in enumerate(groups):
        y = _TOP + row_h * i
        full = mask_text(group.label)  # the chart is trusted markup: mask before escaping
        label = full if len(full) <= 22 else full[:21] + "…"
        width = plot_w * group.count / top
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="label">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{width:.1f}" height="16">'
            f"<title>{escape(full)}: {group.count}</title></rect>"
            f'<text x="{label_w + width + 6:.1f}" y="{y + 16}" class="axis">{group.count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
