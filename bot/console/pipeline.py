"""The console's request layer: clean the input, log in, check CSRF and role, audit, run the view.

Every request becomes a :class:`Req` holding only cleaned text (no invalid Unicode, no NUL or
control characters, bounded lengths), so views, templates and the database never see raw client
bytes. Views are plain functions ``view(console, req) -> web.Response`` that run in the console's
thread pool (they use the synchronous SQLAlchemy session), registered with :class:`Route`.
Malformed input gets a polite 4xx page (JSON under ``/api/``), an unreachable database a 503;
no client input can produce a 500 or a stack trace in a body.
"""

from __future__ import annotations

import asyncio
import logging
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import sqlalchemy.exc
from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from bot.console import accounts, security
from bot.numbers import mask_text

if TYPE_CHECKING:
    from bot.console.app import ConsoleApp

logger = logging.getLogger(__name__)

SESSION_COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
#: Longest accepted value of a query parameter, form field and path parameter.
MAX_QUERY_VALUE = 1000
MAX_FORM_VALUE = 10_000
MAX_PATH_VALUE = 255
#: Largest id or page number a view accepts (database integer columns are 32-bit).
MAX_ID = 2**31 - 1
MAX_PAGE = 1_000_000
# Lone surrogates, NUL and other C0/C1 controls (tab, newline and carriage return are kept),
# DEL, and invisible format characters that only serve to disguise text.
_UNWANTED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
    "\ud800-\udfff]"
)
_DIGITS = re.compile(r"[0-9]{1,12}")


def clean(value: Any, limit: int) -> str:
    """Return ``value`` as text without invalid Unicode or control characters, at most ``limit``.

    Args:
        value: anything a client sent (non-text becomes "").
        limit: maximum length kept.

    Returns:
        The cleaned text.

    """
    if not isinstance(value, str):
        return ""
    return _UNWANTED.sub("", value[: limit * 2])[:limit]


def clean_multidict(raw: Mapping[str, Any] | Any, limit: int) -> MultiDictProxy[str]:
    """Clean every key and value of a (multi)dict; file uploads and other non-text are dropped."""
    cleaned: MultiDict[str] = MultiDict()
    items = raw.items() if hasattr(raw, "items") else []
    for key, value in list(items)[:1000]:
        if isinstance(key, str) and isinstance(value, str):
            cleaned.add(clean(key, 100), clean(value, limit))
    return MultiDictProxy(cleaned)


def int_param(value: Any, default: int | None = None, maximum: int = MAX_ID) -> int | None:
    """Read a positive integer (ASCII digits only, 1..maximum); anything else gives ``default``."""
    text = str(value or "").strip()
    if not _DIGITS.fullmatch(text):
        return default
    number = int(text)
    return number if 1 <= number <= maximum else default


def page_param(query: Mapping[str, str]) -> int:
    """The ``page`` query parameter (1 when missing or invalid; huge pages are clamped)."""
    text = str(query.get("page") or "").strip()
    if _DIGITS.fullmatch(text):
        return max(1, min(int(text), MAX_PAGE))
    return 1


@dataclass
class Req:
    """What a view needs of a request, cleaned (safe to use from a worker thread).

    Attributes:
        method: HTTP method.
        path: path without query.
        path_qs: path with query.
        query: query parameters.
        form: POSTed form fields.
        match: path parameters.
        cookies: request cookies.
        headers: request headers (lower-cased names).
        remote: client address.
        user: the logged-in user, if any.
        extra: per-request values views pass to the layer (login CSRF token, typed username).

    """

    method: str
    path: str
    path_qs: str
    query: MultiDictProxy[str]
    form: MultiDictProxy[str]
    match: dict[str, str]
    cookies: dict[str, str]
    headers: dict[str, str]
    remote: str
    user: accounts.CurrentUser | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_api(self) -> bool:
        """Whether the request is for the JSON API (errors as JSON)."""
        return self.path.startswith("/api/")


View = Callable[["ConsoleApp", Req], web.StreamResponse]


@dataclass(frozen=True)
class Route:
    """A registered route.

    Attributes:
        method: HTTP method.
        path: aiohttp path pattern.
        view: the view function.
        public: reachable without login.
        admin: admin only.
        audit: audit action recorded for every call (views); changes audit themselves.

    """

    method: str
    path: str
    view: View
    public: bool = False
    admin: bool = False
    audit: str = ""


class BadRequest(Exception):
    """Raised by a view for input it cannot use (message is user-facing Chinese)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def redirect(location: str) -> web.Response:
    """A 303 redirect (after a POST, or to the login page)."""
    return web.Response(status=303, headers={"Location": location})


def safe_next(value: str | None) -> str:
    """A local path to go to after a form (anything else: the inbox)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/inbox"
    try:
        parts = urlsplit(value)
    except ValueError:
        return "/inbox"
    if parts.scheme or parts.netloc:
        return "/inbox"
    return value


def error_response(
    console: ConsoleApp, req: Req, status: int, title: str, message: str
) -> web.Response:
    """A polite error: an HTML page, or ``{"error": ...}`` under ``/api/``."""
    if req.is_api:
        return web.json_response({"error": message}, status=status, dumps=console.dumps)
    return console.render(req, "error.html", status=status, title=title, message=message)


def forbidden(console: ConsoleApp, req: Req, message: str, action: str) -> web.Response:
    """Refuse a request (audited)."""
    console.audit(req, action, req.path_qs)
    if req.is_api:
        return web.json_response({"error": action}, status=403)
    return console.render(req, "error.html", status=403, title="无权访问", message=message)


def not_found(console: ConsoleApp, req: Req) -> web.Response:
    """Unknown path or object (only answered to logged-in users)."""
    return error_response(console, req, 404, "页面不存在", "页面不存在。")


def _csrf_problem(req: Req) -> str:
    origin = req.headers.get("origin")
    if origin and origin != "null":
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:
            netloc = "\x00"
        if netloc != req.headers.get("host", ""):
            return "csrf_origin"
    sent = str(req.form.get("csrf_token") or req.headers.get("x-csrf-token") or "")
    expected = req.user.csrf_token if req.user is not None else req.cookies.get(LOGIN_CSRF_COOKIE)
    return "" if security.tokens_equal(sent, expected) else "csrf"


def dispatch(console: ConsoleApp, route: Route, req: Req) -> web.StreamResponse:
    """Authenticate, check CSRF and role, audit, and run the view (in a worker thread)."""
    with console.db.session() as session:
        req.user = accounts.load_session(session, console.settings, req.cookies.get(SESSION_COOKIE))
    if not route.public and req.user is None:
        if req.is_api:
            return web.json_response({"error": "login required"}, status=401)
        if req.method in ("GET", "HEAD"):
            return redirect("/login?" + urlencode({"next": req.path_qs}))
        return redirect("/login")
    if req.method == "POST":
        problem = _csrf_problem(req)
        if problem == "csrf_origin":
            return forbidden(console, req, "跨站请求被拒绝。", problem)
        if problem:
            return forbidden(console, req, "表单已过期或缺少安全令牌，请刷新页面后重试。", problem)
    if route.admin and (req.user is None or not req.user.is_admin):
        return forbidden(console, req, "此功能只对管理员开放。", "forbidden")
    if route.audit:
        console.audit(req, route.audit)
    try:
        return route.view(console, req)
    except BadRequest as exc:
        return error_response(console, req, exc.status, "请求无效", exc.message)


async def _read_form(request: web.Request) -> MultiDictProxy[str] | None:
    if request.method != "POST":
        return MultiDictProxy(MultiDict())
    try:
        raw = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise
    except Exception:  # noqa: BLE001 - broken multipart, bad encoding, truncated body
        return None
    return clean_multidict(raw, MAX_FORM_VALUE)


def _build_req(request: web.Request, form: MultiDictProxy[str]) -> Req:
    query = clean_multidict(request.query, MAX_QUERY_VALUE)
    path = clean(request.path, 2000)
    return Req(
        method=request.method,
        path=path,
        path_qs=path + ("?" + urlencode(list(query.items())) if query else ""),
        query=query,
        form=form,
        match={k: clean(v, MAX_PATH_VALUE) for k, v in request.match_info.items()},
        cookies={k: clean(v, 300) for k, v in request.cookies.items()},
        headers={k.lower(): clean(v, 2000) for k, v in request.headers.items()},
        remote=clean(request.remote or "", 64),
    )


def route_handler(console: ConsoleApp, route: Route) -> Callable[[web.Request], Any]:
    """The aiohttp handler of one route: read and clean the request, dispatch in the pool."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            form = await _read_form(request)
        except web.HTTPRequestEntityTooLarge:
            form = None
            status, message = 413, "提交的内容过大。"
        else:
            status, message = 400, "提交的表单格式无效。"
        req = _build_req(request, form if form is not None else MultiDictProxy(MultiDict()))
        loop = asyncio.get_running_loop()
        if form is None:
            return await loop.run_in_executor(
                console.executor, error_response, console, req, status, "请求无效", message
            )
        try:
            return await loop.run_in_executor(console.executor, dispatch, console, route, req)
        except sqlalchemy.exc.OperationalError:
            logger.error("console database unavailable on %s", mask_text(req.path))
            return _plain_error(req, 503, "数据库暂时不可用，请稍后再试。")
        except Exception:  # noqa: BLE001 - a bug: logged, answered without details
            logger.error("console error on %s: %s", mask_text(req.path), traceback.format_exc())
            return _plain_error(req, 500, "服务器内部错误，请稍后再试。")

    return handle


def _plain_error(req: Req, status: int, message: str) -> web.Response:
    if req.is_api:
        return web.json_response({"error": message}, status=status)
    return web.Response(text=message, status=status, content_type="text/plain")


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    """Strict browser security headers on every answer; nothing but the stylesheet is cached."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:  # raised by aiohttp itself (e.g. 405): plain, no details
        response = web.Response(status=exc.status, text=exc.reason, content_type="text/plain")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.path != "/static/console.css":
        response.headers["Cache-Control"] = "no-store"
    return response
