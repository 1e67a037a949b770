"""Views: the login form, login, logout, the stylesheet and the start page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.console import accounts, security
from bot.console.pipeline import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Req,
    Route,
    redirect,
    safe_next,
)

if TYPE_CHECKING:
    from bot.console.app import ConsoleApp


def stylesheet(console: ConsoleApp, req: Req) -> web.Response:
    """Return the console's only stylesheet."""
    from bot.console.app import HERE

    css = (HERE / "static" / "console.css").read_text(encoding="utf-8")
    return web.Response(text=css, content_type="text/css", headers={"Cache-Control": "max-age=300"})


def login_form(console: ConsoleApp, req: Req, message: str = "", status: int = 200) -> web.Response:
    """Return the login page (sets the pre-login CSRF cookie)."""
    if req.user is not None and not message:
        return redirect("/inbox")
    token = req.cookies.get(LOGIN_CSRF_COOKIE) or security.new_token()
    if not security.TOKEN_RE.fullmatch(token):
        token = security.new_token()
    req.extra["login_csrf"] = token
    response = console.render(
        req,
        "login.html",
        status=status,
        title="登录",
        message=message,
        next=safe_next(str(req.query.get("next") or req.form.get("next") or "")),
        username=str(req.form.get("username") or "")[:64],
        settings=console.settings,
    )
    if status == 429:
        response.headers["Retry-After"] = str(console.settings.lockout_minutes * 60)
    console.set_cookie(response, LOGIN_CSRF_COOKIE, token, path="/login")
    return response


def login_submit(console: ConsoleApp, req: Req) -> web.Response:
    """Check the credentials (throttled per client and per account)."""
    username = str(req.form.get("username") or "")
    password = str(req.form.get("password") or "")
    req.extra["username"] = username.strip()[:64] or "-"
    with console.db.session() as session:
        result = accounts.authenticate(session, console.settings, username, password, req.remote)
    if not result.ok:
        action = {"client": "login_throttled", "account": "login_locked"}.get(
            result.throttled, "login_failed"
        )
        console.audit(req, action, "/login")
        req.user = None
        status = 429 if result.throttled == "client" else 401
        return login_form(console, req, message=result.message, status=status)
    with console.db.session() as session:
        if req.user is not None:
            accounts.end_session(session, req.user.session_id)
        req.user = accounts.load_session(session, console.settings, result.token)
    console.audit(req, "login", "/login")
    response = redirect(safe_next(str(req.form.get("next") or "")))
    console.set_cookie(
        response,
        SESSION_COOKIE,
        result.token,
        max_age=int(console.settings.session_hours * 3600),
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def logout(console: ConsoleApp, req: Req) -> web.Response:
    """End the session."""
    assert req.user is not None
    console.audit(req, "logout")
    with console.db.session() as session:
        accounts.end_session(session, req.user.session_id)
    response = redirect("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def home(console: ConsoleApp, req: Req) -> web.Response:
    """Start page: the inbox."""
    return redirect("/inbox")


ROUTES = [
    Route("GET", "/login", login_form, public=True),
    Route("POST", "/login", login_submit, public=True),
    Route("GET", "/static/console.css", stylesheet, public=True),
    Route("POST", "/logout", logout),
    Route("GET", "/", home),
]
