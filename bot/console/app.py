"""The review console's web application (aiohttp, server-rendered Jinja2 with autoescaping).

Every route except ``/login`` and the stylesheet requires a login session; every POST needs the
session's CSRF token (the login form uses a double-submit cookie); every view and change is
written to the audit log. Database work runs in a thread pool, so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from multidict import MultiDict, MultiDictProxy

from bot.console import (
    accounts,
    audit,
    inbox,
    ingest,
    messages,
    retrain,
    security,
    tracker,
    trends,
)
from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.export import export_annotations
from bot.console.intents import IntentCatalog, load_catalog
from bot.console.models import ROLES
from bot.privacy import mask_text

logger = logging.getLogger(__name__)

SESSION_COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
INLINE_SYNC_SECONDS = 0.5


@dataclass
class Req:
    """What a view needs of a request (safe to use from a worker thread).

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

    """

    method: str
    path: str
    path_qs: str
    query: Any
    form: MultiDictProxy[Any]
    match: dict[str, str]
    cookies: dict[str, str]
    headers: dict[str, str]
    remote: str
    user: accounts.CurrentUser | None = None
    extra: dict[str, Any] = field(default_factory=dict)


View = Callable[[Req], web.StreamResponse]


@dataclass
class RouteSpec:
    """A registered route.

    Attributes:
        method: HTTP method.
        path: aiohttp path pattern.
        view: the view method name.
        public: reachable without login.
        admin: admin only.
        audit: audit action recorded for every call (views); changes audit themselves.

    """

    method: str
    path: str
    view: str
    public: bool = False
    admin: bool = False
    audit: str = ""


ROUTES: list[RouteSpec] = [
    RouteSpec("GET", "/login", "login_form", public=True),
    RouteSpec("POST", "/login", "login_submit", public=True),
    RouteSpec("GET", "/static/console.css", "stylesheet", public=True),
    RouteSpec("POST", "/logout", "logout"),
    RouteSpec("GET", "/", "home"),
    RouteSpec("GET", "/inbox", "inbox_view", audit="view_inbox"),
    RouteSpec("GET", "/groups/{key}", "group_view", audit="view_group"),
    RouteSpec("POST", "/groups/{key}/review", "group_review"),
    RouteSpec("GET", "/conversations/{sender_id}", "conversation_view", audit="view_conversation"),
    RouteSpec("GET", "/messages", "messages_view", audit="view_messages"),
    RouteSpec("POST", "/messages/{id}", "message_update"),
    RouteSpec("POST", "/messages/{id}/reveal", "message_reveal"),
    RouteSpec("GET", "/trends", "trends_view", audit="view_trends"),
    RouteSpec("GET", "/export", "export_view", audit="view_export"),
    RouteSpec("POST", "/export", "export_run"),
    RouteSpec("POST", "/sync", "sync_run"),
    RouteSpec("GET", "/retrain", "retrain_view", audit="view_retrain"),
    RouteSpec("POST", "/retrain", "retrain_start"),
    RouteSpec("GET", "/admin/users", "users_view", admin=True, audit="view_users"),
    RouteSpec("POST", "/admin/users", "user_create", admin=True),
    RouteSpec("POST", "/admin/users/{id}", "user_update", admin=True),
    RouteSpec("GET", "/admin/audit", "audit_view", admin=True, audit="view_audit"),
    RouteSpec("GET", "/api/inbox", "api_inbox", audit="api_inbox"),
    RouteSpec("GET", "/api/stats", "api_stats", audit="api_stats"),
    RouteSpec("GET", "/api/intents", "api_intents", audit="api_intents"),
]

NOTICES: dict[str, str] = {
    "annotated": "已保存标注，并已导出到训练数据。",
    "proposed": "已记录新意图建议。新意图需先由管理员加入 domain.yml（并配置回复）后才能训练；"
    "建议清单见 var/console/proposed_intents.yml。",
    "reviewed": "已标记为已处理。",
    "not_useful": "已标记为无用。",
    "reopen": "已重新打开。",
    "message_saved": "留言状态已更新。",
    "user_created": "账号已创建。",
    "user_updated": "账号已更新。",
    "synced": "已读取最新对话。",
}


def _safe_next(value: str | None) -> str:
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/inbox"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/inbox"
    return value


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


class ConsoleApp:
    """The console: settings, database handles, templates and views.

    Args:
        settings: the console settings.

    """

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.db = ConsoleDB(settings)
        self.syncer = ingest.Syncer(self.db)
        self.tz = ZoneInfo(settings.timezone)
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="console")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.filters["local"] = self._local
        self.env.filters["pct"] = lambda v: "—" if v is None else f"{float(v):.0%}"
        self.env.globals["REASON_LABELS"] = inbox.REASON_LABELS
        self.env.globals["STATUS_LABELS"] = inbox.STATUS_LABELS
        self.env.globals["MESSAGE_STATUS_LABELS"] = messages.MESSAGE_STATUS_LABELS
        self.env.globals["reasons_of"] = inbox.reasons_of
        self.env.globals["urlencode"] = urlencode
        self._catalog: tuple[float, IntentCatalog] | None = None
        self._sync_task: asyncio.Task[None] | None = None

    # -- helpers -------------------------------------------------------------------------------

    def _local(self, value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return "—"
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(self.tz).strftime(fmt)

    def today(self) -> dt.date:
        """Return the local date now."""
        return dt.datetime.now(self.tz).date()

    def catalog(self) -> IntentCatalog:
        """Return the intent catalogue, reloaded when ``domain.yml`` or ``data/`` change."""
        root = self.settings.project_dir
        files = [root / "domain.yml", *sorted((root / "data").rglob("*.yml"))]
        stamp = max((p.stat().st_mtime for p in files if p.exists()), default=0.0)
        stamp += len(files)
        if self._catalog is None or self._catalog[0] != stamp:
            self._catalog = (stamp, load_catalog(root, self.settings.nlu_export_path))
        return self._catalog[1]

    def render(self, req: Req, template: str, status: int = 200, **context: Any) -> web.Response:
        """Render a template with the common context (user, CSRF token, notice)."""
        notice = NOTICES.get(str(req.query.get("notice") or ""), "")
        base = {
            "user": req.user,
            "csrf_token": req.user.csrf_token if req.user else req.extra.get("login_csrf", ""),
            "notice": notice,
            "path": req.path,
            "title": "",
        }
        base.update(context)
        html = self.env.get_template(template).render(**base)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def audit(self, req: Req, action: str, target: str = "", **detail: Any) -> None:
        """Record an audit entry for the current user."""
        with self.db.session() as session:
            audit.record(
                session,
                req.user.username if req.user else str(req.extra.get("username", "-")),
                action,
                target or req.path_qs,
                detail or None,
                user_id=req.user.id if req.user else None,
                remote=req.remote,
            )

    def _cookie_headers(self, response: web.Response, name: str, value: str, **extra: Any) -> None:
        response.set_cookie(
            name,
            value,
            httponly=True,
            samesite="Strict",
            secure=self.settings.cookie_secure,
            path=extra.pop("path", "/"),
            **extra,
        )

    # -- request pipeline ----------------------------------------------------------------------

    def dispatch(self, spec: RouteSpec, req: Req) -> web.StreamResponse:
        """Authenticate, check CSRF and role, audit, and run the view (in a worker thread)."""
        with self.db.session() as session:
            req.user = accounts.load_session(
                session, self.settings, req.cookies.get(SESSION_COOKIE)
            )
        if not spec.public and req.user is None:
            if req.path.startswith("/api/"):
                return web.json_response({"error": "login required"}, status=401)
            if req.method == "GET":
                return _redirect("/login?" + urlencode({"next": req.path_qs}))
            return _redirect("/login")
        if req.method == "POST":
            origin = req.headers.get("origin")
            host = req.headers.get("host", "")
            if origin and origin != "null" and urlsplit(origin).netloc != host:
                return self._forbidden(req, "跨站请求被拒绝。", "csrf_origin")
            sent = str(req.form.get("csrf_token") or req.headers.get("x-csrf-token") or "")
            expected = (
                req.user.csrf_token if req.user is not None else req.cookies.get(LOGIN_CSRF_COOKIE)
            )
            if not security.tokens_equal(sent, expected):
                return self._forbidden(req, "表单已过期或缺少安全令牌，请刷新页面后重试。", "csrf")
        if spec.admin and (req.user is None or not req.user.is_admin):
            return self._forbidden(req, "只有管理员可以管理账号和查看审计日志。", "forbidden")
        if spec.audit:
            self.audit(req, spec.audit)
        view: View = getattr(self, spec.view)
        return view(req)

    def _forbidden(self, req: Req, message: str, action: str) -> web.Response:
        self.audit(req, action, req.path_qs)
        if req.path.startswith("/api/"):
            return web.json_response({"error": action}, status=403)
        return self.render(req, "error.html", status=403, title="无权访问", message=message)

    def _handler(self, spec: RouteSpec) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            form: MultiDictProxy[Any] = MultiDictProxy(MultiDict())
            if request.method == "POST":
                form = await request.post()
            req = Req(
                method=request.method,
                path=request.path,
                path_qs=request.path_qs,
                query=request.query,
                form=form,
                match=dict(request.match_info),
                cookies=dict(request.cookies),
                headers={k.lower(): v for k, v in request.headers.items()},
                remote=request.remote or "",
            )
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(self.executor, self.dispatch, spec, req)
            except web.HTTPException:
                raise
            except Exception:  # noqa: BLE001 - shown as a generic error page
                logger.error("console error on %s: %s", request.path, traceback.format_exc())
                return web.Response(
                    text="服务器内部错误，请稍后再试。", status=500, content_type="text/plain"
                )

        return handle

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        spec = RouteSpec(request.method, "", "not_found")
        return await self._handler(spec)(request)

    def not_found(self, req: Req) -> web.Response:
        """Unknown path (only answered to logged-in users)."""
        return self.render(
            req, "error.html", status=404, title="页面不存在", message="页面不存在。"
        )

    @web.middleware
    async def _headers(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.path != "/static/console.css":
            response.headers["Cache-Control"] = "no-store"
        return response

    async def _background_sync(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await loop.run_in_executor(self.executor, self.syncer.sync)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep syncing; log and retry later
                logger.exception("console background sync failed")
            await asyncio.sleep(self.settings.sync_interval)

    async def _on_startup(self, _app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.executor, retrain.mark_orphans, self.db)
        if self.settings.sync_interval > 0:
            self._sync_task = asyncio.create_task(self._background_sync())

    async def _on_cleanup(self, _app: web.Application) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            try:
                await self._sync_task
            except asyncio.CancelledError:
                pass
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.db.dispose()

    def build(self) -> web.Application:
        """Create the aiohttp application with every route."""
        app = web.Application(middlewares=[self._headers], client_max_size=256 * 1024)
        for spec in ROUTES:
            app.router.add_route(spec.method, spec.path, self._handler(spec))
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        app.on_startup.append(self._on_startup)  # type: ignore[arg-type]
        app.on_cleanup.append(self._on_cleanup)  # type: ignore[arg-type]
        return app

    # -- views: login --------------------------------------------------------------------------

    def stylesheet(self, req: Req) -> web.Response:
        """Return the console's only stylesheet."""
        css = (HERE / "static" / "console.css").read_text(encoding="utf-8")
        return web.Response(
            text=css, content_type="text/css", headers={"Cache-Control": "max-age=300"}
        )

    def login_form(self, req: Req, message: str = "", status: int = 200) -> web.Response:
        """Return the login page (sets the pre-login CSRF cookie)."""
        if req.user is not None and not message:
            return _redirect("/inbox")
        token = req.cookies.get(LOGIN_CSRF_COOKIE) or security.new_token()
        req.extra["login_csrf"] = token
        response = self.render(
            req,
            "login.html",
            status=status,
            title="登录",
            message=message,
            next=_safe_next(str(req.query.get("next") or req.form.get("next") or "")),
            username=str(req.form.get("username") or "")[:64],
        )
        self._cookie_headers(response, LOGIN_CSRF_COOKIE, token, path="/login")
        return response

    def login_submit(self, req: Req) -> web.Response:
        """Check the credentials; lock the account after too many failures."""
        username = str(req.form.get("username") or "")
        password = str(req.form.get("password") or "")
        req.extra["username"] = username.strip()[:64] or "-"
        with self.db.session() as session:
            result = accounts.authenticate(session, self.settings, username, password, req.remote)
        if not result.ok:
            self.audit(req, "login_locked" if result.locked else "login_failed", "/login")
            req.user = None
            return self.login_form(req, message=result.message, status=401)
        with self.db.session() as session:
            if req.user is not None:
                accounts.end_session(session, req.user.session_id)
            req.user = accounts.load_session(session, self.settings, result.token)
        self.audit(req, "login", "/login")
        response = _redirect(_safe_next(str(req.form.get("next") or "")))
        self._cookie_headers(
            response,
            SESSION_COOKIE,
            result.token,
            max_age=int(self.settings.session_hours * 3600),
        )
        response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    def logout(self, req: Req) -> web.Response:
        """End the session."""
        assert req.user is not None
        self.audit(req, "logout")
        with self.db.session() as session:
            accounts.end_session(session, req.user.session_id)
        response = _redirect("/login")
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    def home(self, req: Req) -> web.Response:
        """Start page: the inbox."""
        return _redirect("/inbox")

    # -- views: inbox --------------------------------------------------------------------------

    def inbox_view(self, req: Req) -> web.Response:
        """Show groups (or a flat list) of unanswered questions with filters."""
        self.syncer.sync(budget_seconds=INLINE_SYNC_SECONDS, wait=False)
        flt = inbox.InboxFilter.parse(req.query, self.today())
        page = max(1, _int(req.query.get("page"), 1))
        mode = "items" if req.query.get("view") == "items" else "groups"
        sort = "recent" if req.query.get("sort") == "recent" else "size"
        with self.db.session() as session:
            if mode == "items":
                items, total = inbox.item_page(session, flt, self.tz, page, 50)
                pages = max(1, (total + 49) // 50)
                groups = None
            else:
                result = inbox.group_page(
                    session, flt, self.tz, page, self.settings.page_size, sort
                )
                groups, items, total, pages = result, [], result.total_items, result.pages
            waiting = ingest.item_counts(session)["waiting"]
        params = flt.as_params()
        return self.render(
            req,
            "inbox.html",
            title="待处理问题",
            flt=flt,
            params=params,
            mode=mode,
            sort=sort,
            groups=groups,
            items=items,
            total=total,
            page=min(page, pages),
            pages=pages,
            waiting=waiting,
            reasons=inbox.REASON_LABELS,
            statuses=inbox.STATUS_LABELS,
        )

    def group_view(self, req: Req) -> web.Response:
        """One group: every question, the conversation links and the annotation form."""
        key = req.match["key"][:16]
        with self.db.session() as session:
            label = inbox.group_label(session, key)
            if label is None:
                return self.not_found(req)
            items = inbox.group_items(session, key, None, self.tz)
        catalog = self.catalog()
        suggested = ""
        for item in items:
            if item.annotated_intent or item.proposed_intent:
                suggested = str(item.annotated_intent or item.proposed_intent)
                break
        if not suggested:
            ranked = [i.intent for i in items if i.intent and catalog.is_known(str(i.intent))]
            suggested = max(set(ranked), key=ranked.count) if ranked else ""
        return self.render(
            req,
            "group.html",
            title="问题分组",
            key=key,
            label=label,
            items=items,
            options=catalog.options(),
            suggested=suggested,
            intent_param=str(req.query.get("intent") or ""),
            new_intent=req.query.get("new") == "1",
            back=_safe_next(str(req.query.get("back") or "/inbox")),
        )

    def group_review(self, req: Req) -> web.Response:
        """Save an annotation / review decision for selected questions of a group."""
        assert req.user is not None
        key = req.match["key"][:16]
        ids = [_int(v) for v in req.form.getall("item_id", []) if _int(v) > 0]
        action = str(req.form.get("action") or "")
        texts = {
            _int(name[5:]): str(value)
            for name, value in req.form.items()
            if name.startswith("text_") and _int(name[5:]) > 0
        }
        review = inbox.Review(action=action, intent=str(req.form.get("intent") or ""), texts=texts)
        catalog = self.catalog()
        try:
            with self.db.session() as session:
                # Only items of this group can be changed from this page.
                members = {int(i.id) for i in inbox.group_items(session, key, None, self.tz, 5000)}
                selected = [i for i in ids if i in members]
                outcome = inbox.apply_review(session, selected, review, catalog, req.user.username)
        except inbox.ReviewError as exc:
            with self.db.session() as session:
                label = inbox.group_label(session, key) or ""
                items = inbox.group_items(session, key, None, self.tz)
            return self.render(
                req,
                "group.html",
                status=400,
                title="问题分组",
                key=key,
                label=label,
                items=items,
                options=catalog.options(),
                suggested=review.intent,
                intent_param="",
                new_intent=False,
                back="/inbox",
                error=str(exc),
            )
        report = None
        if action in ("annotate", "not_useful", "reopen"):
            with self.db.session() as session:
                report = export_annotations(session, self.settings, catalog)
        self.audit(
            req,
            action
            if action != "annotate"
            else ("propose_intent" if outcome.is_new_intent else "annotate"),
            f"group:{key}",
            items=selected,
            intent=outcome.intent,
            edited=[i for i in selected if i in texts],
            exported=report.examples if report else None,
        )
        notice = action
        if action == "annotate":
            notice = "proposed" if outcome.is_new_intent else "annotated"
        query = {"notice": notice}
        if outcome.intent:
            query["intent"] = outcome.intent
        return _redirect(f"/groups/{key}?" + urlencode(query))

    def conversation_view(self, req: Req) -> web.Response:
        """Return a whole conversation, masked."""
        sender_id = req.match["sender_id"][:255]
        engine = self.db.tracker_engine
        turns: list[tracker.ConversationTurn] = []
        if engine is not None and self.db.has_table(engine, "events"):
            with engine.connect() as conn:
                turns = tracker.conversation(conn, sender_id, self.tz)
        highlight = _int(req.query.get("event"))
        return self.render(
            req,
            "conversation.html",
            title="对话记录",
            sender=mask_text(sender_id),
            turns=turns,
            highlight=highlight,
        )

    # -- views: messages -----------------------------------------------------------------------

    def messages_view(self, req: Req, revealed: dict[int, str] | None = None) -> web.Response:
        """Messages left for officers, with status and notes."""
        status = str(req.query.get("status") or "")
        page = max(1, _int(req.query.get("page"), 1))
        with self.db.session() as session:
            rows, total = messages.list_messages(session, status, page)
        return self.render(
            req,
            "messages.html",
            title="留言",
            rows=rows,
            total=total,
            status_filter=status,
            page=page,
            pages=max(1, (total + 49) // 50),
            revealed=revealed or {},
            allow_reveal=self.settings.allow_phone_reveal,
            statuses=messages.MESSAGE_STATUS_LABELS,
        )

    def message_update(self, req: Req) -> web.Response:
        """Change a message's status / notes."""
        message_id = _int(req.match["id"])
        status = str(req.form.get("status") or "")
        notes = str(req.form.get("notes") or "")
        try:
            with self.db.session() as session:
                messages.update_message(session, message_id, status, notes)
        except messages.MessageError as exc:
            return self.render(req, "error.html", status=400, title="留言", message=str(exc))
        self.audit(req, "message_update", f"message:{message_id}", status=status, notes=notes)
        back = _safe_next(str(req.form.get("back") or "/messages"))
        joiner = "&" if "?" in back else "?"
        return _redirect(f"{back}{joiner}notice=message_saved")

    def message_reveal(self, req: Req) -> web.Response:
        """Show one call-back number in full, once, for the officer who calls (audited)."""
        message_id = _int(req.match["id"])
        if not self.settings.allow_phone_reveal:
            return self._forbidden(req, "本系统已关闭查看完整号码。", "reveal_phone_denied")
        try:
            with self.db.session() as session:
                phone = messages.reveal_phone(session, message_id)
        except messages.MessageError as exc:
            return self.render(req, "error.html", status=400, title="留言", message=str(exc))
        self.audit(req, "reveal_phone", f"message:{message_id}")
        return self.messages_view(req, revealed={message_id: phone})

    # -- views: trends, export, sync, retrain -------------------------------------------------

    def trends_view(self, req: Req) -> web.Response:
        """Charts: daily conversations, fallback rate per day, top unanswered groups (30 days)."""
        self.syncer.sync(budget_seconds=INLINE_SYNC_SECONDS, wait=False)
        today = self.today()
        since_local = dt.datetime.combine(today - dt.timedelta(days=29), dt.time.min, self.tz)
        since = since_local.astimezone(dt.UTC).replace(tzinfo=None)
        with self.db.session() as session:
            days = trends.daily_stats(session, today, 30)
            top = trends.top_groups(session, since, 10)
        labels = [d.day for d in days]
        charts = {
            "conversations": trends.bar_chart(
                "每日对话数", labels, [d.conversations for d in days]
            ),
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
        return self.render(
            req,
            "trends.html",
            title="趋势",
            charts=charts,
            days=days,
            top=top,
            totals=totals,
        )

    def export_view(self, req: Req, report: Any = None) -> web.Response:
        """Return the exported NLU file and the proposed new intents."""
        path = self.settings.nlu_export_path
        proposed = self.settings.proposed_intents_path
        return self.render(
            req,
            "export.html",
            title="训练数据导出",
            file_path=path.relative_to(self.settings.project_dir)
            if path.is_relative_to(self.settings.project_dir)
            else path,
            content=path.read_text(encoding="utf-8") if path.exists() else "",
            proposed_path=proposed.relative_to(self.settings.project_dir)
            if proposed.is_relative_to(self.settings.project_dir)
            else proposed,
            proposed=proposed.read_text(encoding="utf-8") if proposed.exists() else "",
            report=report,
        )

    def export_run(self, req: Req) -> web.Response:
        """Write the NLU file again from every annotation."""
        with self.db.session() as session:
            report = export_annotations(session, self.settings, self.catalog())
        self.audit(
            req,
            "export",
            str(report.path.name),
            examples=report.examples,
            conflicts=len(report.conflicts),
            proposed=report.proposed,
        )
        return self.export_view(req, report)

    def sync_run(self, req: Req) -> web.Response:
        """Read all new conversations now."""
        result = self.syncer.sync(budget_seconds=60)
        self.audit(req, "sync", "/sync", user_messages=result.user_messages, items=result.items)
        return _redirect("/inbox?notice=synced")

    def retrain_view(self, req: Req, error: str = "") -> web.Response:
        """Training jobs and the progress of the running one."""
        jobs = retrain.recent_jobs(self.db)
        running = next((j for j in jobs if j.status == "running"), None)
        progress = retrain.read_progress(running.log_path) if running else None
        last = retrain.read_progress(jobs[0].log_path) if jobs and not running else None
        return self.render(
            req,
            "retrain.html",
            title="重新训练",
            jobs=jobs,
            running=running,
            progress=progress,
            last=last,
            enabled=bool(self.settings.retrain_command.strip()),
            error=error,
        )

    def retrain_start(self, req: Req) -> web.Response:
        """Start training in the background."""
        assert req.user is not None
        try:
            job = retrain.start(self.db, req.user.username)
        except retrain.RetrainError as exc:
            return self.retrain_view(req, error=str(exc))
        self.audit(req, "retrain_start", f"job:{job.id}")
        return _redirect("/retrain")

    # -- views: admin --------------------------------------------------------------------------

    def users_view(self, req: Req, error: str = "", status: int = 200) -> web.Response:
        """Accounts (admin only)."""
        with self.db.session() as session:
            users = accounts.list_users(session)
        return self.render(
            req,
            "users.html",
            status=status,
            title="账号管理",
            users=users,
            roles=ROLES,
            error=error,
            now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )

    def user_create(self, req: Req) -> web.Response:
        """Create an account (admin only)."""
        username = str(req.form.get("username") or "")
        role = str(req.form.get("role") or "officer")
        try:
            with self.db.session() as session:
                accounts.create_user(
                    session, self.settings, username, str(req.form.get("password") or ""), role
                )
        except accounts.AccountError as exc:
            return self.users_view(req, error=str(exc), status=400)
        self.audit(req, "user_create", f"user:{username.strip()}", role=role)
        return _redirect("/admin/users?notice=user_created")

    def user_update(self, req: Req) -> web.Response:
        """Change role, enable/disable, unlock or reset the password of an account."""
        assert req.user is not None
        user_id = _int(req.match["id"])
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
            return self.users_view(req, error="未知操作。", status=400)
        try:
            with self.db.session() as session:
                user = accounts.update_user(session, self.settings, user_id, req.user.id, **kwargs)
                name = str(user.username)
        except accounts.AccountError as exc:
            return self.users_view(req, error=str(exc), status=400)
        detail = {k: v for k, v in kwargs.items() if k != "new_password"}
        self.audit(req, f"user_{action}", f"user:{name}", **detail)
        return _redirect("/admin/users?notice=user_updated")

    def audit_view(self, req: Req) -> web.Response:
        """Return the audit log (admin only)."""
        page = max(1, _int(req.query.get("page"), 1))
        username = str(req.query.get("user") or "")[:64]
        with self.db.session() as session:
            rows = audit.recent(session, 200, (page - 1) * 200, username)
        return self.render(
            req, "audit.html", title="审计日志", rows=rows, page=page, filter_user=username
        )

    # -- JSON API ------------------------------------------------------------------------------

    def api_inbox(self, req: Req) -> web.Response:
        """Return the inbox's groups as JSON (same filters as the page)."""
        self.syncer.sync(budget_seconds=INLINE_SYNC_SECONDS, wait=False)
        flt = inbox.InboxFilter.parse(req.query, self.today())
        with self.db.session() as session:
            result = inbox.group_page(
                session,
                flt,
                self.tz,
                max(1, _int(req.query.get("page"), 1)),
                self.settings.page_size,
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
                        "first_seen": self._local(g.first_seen, "%Y-%m-%dT%H:%M:%S"),
                        "last_seen": self._local(g.last_seen, "%Y-%m-%dT%H:%M:%S"),
                        "reasons": g.reasons,
                        "items": [
                            {
                                "id": i.id,
                                "text": i.text,
                                "intent": i.intent,
                                "confidence": i.confidence,
                                "reasons": inbox.reasons_of(i),
                                "status": i.status,
                                "time": self._local(i.occurred_at, "%Y-%m-%dT%H:%M:%S"),
                                "conversation": f"/conversations/{i.sender_id}",
                            }
                            for i in g.samples
                        ],
                    }
                    for g in result.groups
                ],
            }
        return web.json_response(payload, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    def api_stats(self, req: Req) -> web.Response:
        """Return daily statistics of the last 30 days as JSON."""
        self.syncer.sync(budget_seconds=INLINE_SYNC_SECONDS, wait=False)
        with self.db.session() as session:
            days = trends.daily_stats(session, self.today(), 30)
        return web.json_response(
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

    def api_intents(self, req: Req) -> web.Response:
        """Return the assignable intents as JSON."""
        return web.json_response(
            [{"intent": name, "hint": hint} for name, hint in self.catalog().options()],
            dumps=lambda o: json.dumps(o, ensure_ascii=False),
        )


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Access log without query strings (searches may contain personal data), masked."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write one access line."""
        self.logger.info(
            "%s %s %s %s %.0fms",
            request.remote,
            request.method,
            mask_text(request.path),
            response.status,
            time * 1000,
        )


def ensure_schema(settings: ConsoleSettings) -> None:
    """Migrate the app database to the newest schema if the console's tables are missing."""
    from sqlalchemy import inspect

    from bot.db.session import make_engine

    engine = make_engine(settings.database_url)
    try:
        missing = not inspect(engine).has_table("console_users")
    finally:
        engine.dispose()
    if missing:
        from bot.db import migrate

        logger.info("console tables missing: migrating the database to the newest schema")
        migrate.upgrade(settings.database_url)


def create_app(settings: ConsoleSettings | None = None) -> web.Application:
    """Build the console application (settings from the environment by default)."""
    console = ConsoleApp(settings or ConsoleSettings.from_env())
    app = console.build()
    app["console"] = console
    return app


def serve(settings: ConsoleSettings | None = None) -> None:
    """Run the console web server until interrupted."""
    settings = settings or ConsoleSettings.from_env()
    logging.basicConfig(
        level=os.environ.get("CONSOLE_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ensure_schema(settings)
    print(f"officers' review console: http://{settings.host}:{settings.port}/", flush=True)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        access_log_class=PathOnlyAccessLogger,
    )
