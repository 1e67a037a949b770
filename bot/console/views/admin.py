"""Views (admin only): accounts and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.console import accounts, audit, throttle
from bot.console.models import ROLES
from bot.console.pipeline import Req, Route, int_param, page_param, redirect

if TYPE_CHECKING:
    from bot.console.app import ConsoleApp

AUDIT_PAGE_SIZE = 200


def users_view(console: ConsoleApp, req: Req, error: str = "", status: int = 200) -> web.Response:
    """Accounts, with their lock state."""
    with console.db.session() as session:
        users = accounts.list_users(session)
        locked = throttle.locked_accounts(session, [str(u.username) for u in users])
    return console.render(
        req,
        "users.html",
        status=status,
        title="账号管理",
        users=users,
        locked=locked,
        roles=ROLES,
        error=error,
        now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )


def user_create(console: ConsoleApp, req: Req) -> web.Response:
    """Create an account."""
    username = str(req.form.get("username") or "")
    role = str(req.form.get("role") or "officer")
    try:
        with console.db.session() as session:
            accounts.create_user(
                session, console.settings, username, str(req.form.get("password") or ""), role
            )
    except accounts.AccountError as exc:
        return users_view(console, req, error=str(exc), status=400)
    console.audit(req, "user_create", f"user:{username.strip()}", role=role)
    return redirect("/admin/users?notice=user_created")


def user_update(console: ConsoleApp, req: Req) -> web.Response:
    """Change role, enable/disable, unlock or reset the password of an account."""
    assert req.user is not None
    user_id = int_param(req.match["id"]) or 0
    action = str(req.form.get("action") or "")
    kwargs: dict[str, Any] = {}
    if action == "role":
        kwargs["role"] = str(req.form.get("role") or "")
    elif action in ("activate", "deactivate"):
        kwargs["active"] = action == "activate"
    elif action == "unlock":
        kwargs["unlock"] = True
    elif action == "password":
        kwargs["new_password"] = str(req.form.get("password") or "")
    else:
        return users_view(console, req, error="未知操作。", status=400)
    try:
        with console.db.session() as session:
            user = accounts.update_user(session, console.settings, user_id, req.user.id, **kwargs)
            name = str(user.username)
    except accounts.AccountError as exc:
        return users_view(console, req, error=str(exc), status=400)
    detail = {k: v for k, v in kwargs.items() if k != "new_password"}
    console.audit(req, f"user_{action}", f"user:{name}", **detail)
    return redirect("/admin/users?notice=user_updated")


def audit_view(console: ConsoleApp, req: Req) -> web.Response:
    """Return the audit log."""
    page = page_param(req.query)
    username = str(req.query.get("user") or "")[:64]
    with console.db.session() as session:
        rows = audit.recent(session, AUDIT_PAGE_SIZE, (page - 1) * AUDIT_PAGE_SIZE, username)
    return console.render(
        req, "audit.html", title="审计日志", rows=rows, page=page, filter_user=username
    )


ROUTES = [
    Route("GET", "/admin/users", users_view, admin=True, audit="view_users"),
    Route("POST", "/admin/users", user_create, admin=True),
    Route("POST", "/admin/users/{id}", user_update, admin=True),
    Route("GET", "/admin/audit", audit_view, admin=True, audit="view_audit"),
]
