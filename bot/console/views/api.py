"""Views: the JSON API (inbox groups, daily statistics, assignable intents), all masked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.console import inbox, trends
from bot.console.pipeline import Req, Route, page_param
from bot.console.views.inbox import INLINE_SYNC_SECONDS

if TYPE_CHECKING:
    from bot.console.app import ConsoleApp

ISO = "%Y-%m-%dT%H:%M:%S"


def _item(console: ConsoleApp, item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "text": item.text,
        "intent": item.intent,
        "confidence": item.confidence,
        "reasons": inbox.reasons_of(item),
        "status": item.status,
        "time": console.local(item.occurred_at, ISO),
        "conversation": f"/items/{item.id}/conversation",
    }


def api_inbox(console: ConsoleApp, req: Req) -> web.Response:
    """Return the inbox's groups as JSON (same filters as the page)."""
    console.syncer.sync(budget_seconds=INLINE_SYNC_SECONDS, wait=False)
    flt = inbox.InboxFilter.parse(req.query, console.today())
    with console.db.session() as session:
        result = inbox.group_page(
            session, flt, console.tz, page_param(req.query), console.settings.page_size
        )
        payload = {
            "total_groups": result.total_groups,
            "total_items": result.total_items,
            "page": result.page,
            "pages": result.pages,
            "groups": [
                {
                    "key": g.key,
                    "label": g.label,
                    "size": g.size,
                    "first_seen": console.local(g.first_seen, ISO),
                    "last_seen": console.local(g.last_seen, ISO),
                    "reasons": g.reasons,
                    "items": [_item(console, i) for i in g.samples],
                }
                for g in result.groups
            ],
        }
    return console.json(payload)


def api_stats(console: ConsoleApp, req: Req) -> web.Response:
    """Return daily statistics of the last 30 days as JSON."""
    console.syncer.sync(budget_seconds=INLINE_SYNC_SECONDS, wait=False)
    with console.db.session() as session:
        days = trends.daily_stats(session, console.today(), 30)
    return console.json(
        [
            {
                "day": d.day.isoformat(),
                "conversations": d.conversations,
                "messages": d.messages,
                "fallbacks": d.fallbacks,
                "fallback_rate": round(d.fallback_rate, 4),
            }
            for d in days
        ]
    )


def api_intents(console: ConsoleApp, req: Req) -> web.Response:
    """Return the assignable intents as JSON."""
    return console.json(
        [{"intent": name, "hint": hint} for name, hint in console.catalog().options()]
    )


ROUTES = [
    Route("GET", "/api/inbox", api_inbox, audit="api_inbox"),
    Route("GET", "/api/stats", api_stats, audit="api_stats"),
    Route("GET", "/api/intents", api_intents, audit="api_intents"),
]
