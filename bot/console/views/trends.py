"""Views: the trend charts (conversations per day, fallback rate, frequent unanswered groups)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from aiohttp import web

from bot.console import trends
from bot.console.pipeline import Req, Route
from bot.console.views.inbox import INLINE_SYNC_SECONDS

if TYPE_CHECKING:
    from bot.console.app import ConsoleApp

DAYS = 30


def trends_view(console: ConsoleApp, req: Req) -> web.Response:
    """Charts: daily conversations, fallback rate per day, top unanswered groups (30 days)."""
    console.syncer.sync(budget_seconds=INLINE_SYNC_SECONDS, wait=False)
    today = console.today()
    since_local = dt.datetime.combine(today - dt.timedelta(days=DAYS - 1), dt.time.min, console.tz)
    since = since_local.astimezone(dt.UTC).replace(tzinfo=None)
    with console.db.session() as session:
        days = trends.daily_stats(session, today, DAYS)
        top = trends.top_groups(session, since, 10)
    labels = [d.day for d in days]
    charts = {
        "conversations": trends.bar_chart("每日对话数", labels, [d.conversations for d in days]),
        "fallback": trends.line_chart(
            "每日未识别率", labels, [d.fallback_rate if d.messages else None for d in days]
        ),
        "top": trends.hbar_chart("最近30天最常见的未解答问题", top),
    }
    totals = {
        "conversations": sum(d.conversations for d in days),
        "messages": sum(d.messages for d in days),
        "fallbacks": sum(d.fallbacks for d in days),
    }
    return console.render(
        req, "trends.html", title="趋势", charts=charts, days=days, top=top, totals=totals
    )


ROUTES = [Route("GET", "/trends", trends_view, audit="view_trends")]
