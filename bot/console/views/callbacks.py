"""Views: messages left for officers (留言), their follow-up and the audited phone reveal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from markupsafe import Markup, escape

from bot.console import callbacks
from bot.console.pipeline import (
    Req,
    Route,
    error_response,
    forbidden,
    int_param,
    page_param,
    redirect,
    safe_next,
)

if TYPE_CHECKING:
    from bot.console.app import ConsoleApp

PAGE_SIZE = 50


def callbacks_view(
    console: ConsoleApp, req: Req, revealed: dict[int, Markup] | None = None
) -> web.Response:
    """Messages left for officers, with status and notes."""
    status = str(req.query.get("status") or "")
    status = status if status in callbacks.CALLBACK_STATUS_LABELS else ""
    overdue_only = req.query.get("overdue") == "1"
    page = page_param(req.query)
    with console.db.session() as session:
        result = callbacks.list_callbacks(session, status, page, PAGE_SIZE, overdue_only)
    return console.render(
        req,
        "callbacks.html",
        title="留言",
        rows=result.rows,
        total=result.total,
        overdue=result.overdue,
        overdue_ids=result.overdue_ids,
        overdue_only=overdue_only,
        status_filter=status,
        page=page,
        pages=max(1, (result.total + PAGE_SIZE - 1) // PAGE_SIZE),
        revealed=revealed or {},
        allow_reveal=console.settings.allow_phone_reveal,
        statuses=callbacks.CALLBACK_STATUS_LABELS,
    )


def callback_update(console: ConsoleApp, req: Req) -> web.Response:
    """Change a message's status / notes."""
    message_id = int_param(req.match["id"])
    status = str(req.form.get("status") or "")
    notes = str(req.form.get("notes") or "")
    try:
        with console.db.session() as session:
            callbacks.update_callback(session, message_id or 0, status, notes)
    except callbacks.CallbackError as exc:
        return error_response(console, req, 400, "留言", str(exc))
    console.audit(req, "callback_update", f"message:{message_id}", status=status, notes=notes)
    back = safe_next(str(req.form.get("back") or "/messages"))
    joiner = "&" if "?" in back else "?"
    return redirect(f"{back}{joiner}notice=message_saved")


def callback_reveal(console: ConsoleApp, req: Req) -> web.Response:
    """Show one call-back number in full, once, for the officer who calls (audited)."""
    message_id = int_param(req.match["id"])
    if not console.settings.allow_phone_reveal:
        return forbidden(console, req, "本系统已关闭查看完整号码。", "reveal_phone_denied")
    try:
        with console.db.session() as session:
            phone = callbacks.reveal_phone(session, message_id or 0)
    except callbacks.CallbackError as exc:
        return error_response(console, req, 400, "留言", str(exc))
    console.audit(req, "reveal_phone", f"message:{message_id}")
    # The one number shown whole, on purpose: marked so that the page's masking lets it pass.
    return callbacks_view(console, req, revealed={message_id or 0: escape(phone)})


ROUTES = [
    Route("GET", "/messages", callbacks_view, audit="view_messages"),
    Route("POST", "/messages/{id}", callback_update),
    Route("POST", "/messages/{id}/reveal", callback_reveal),
]
