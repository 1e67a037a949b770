"""The review console's web application (aiohttp, server-rendered Jinja2 with autoescaping).

Every route except ``/login`` and the stylesheet requires a login session; every POST needs the
session's CSRF token (the login form uses a double-submit cookie); every view and change is
written to the audit log (:mod:`bot.console.pipeline`). The views live in
:mod:`bot.console.views`, one module per area. Database work runs in a thread pool, so the
event loop never blocks. Every text a template prints goes through
:func:`bot.numbers.mask_text`, so no page can show a whole phone or ID-card number.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from bot.console import audit, callbacks, inbox, ingest, retrain
from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.intents import IntentCatalog, load_catalog
from bot.console.pipeline import Req, Route, not_found, route_handler, security_headers
from bot.console.views import ROUTES
from bot.numbers import mask_data, mask_text

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
__all__ = ["ROUTES", "ConsoleApp", "create_app"]

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


def _mask_output(value: Any) -> Any:
    """Jinja ``finalize``: every printed text is masked (trusted markup passes unchanged)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return mask_text(value)
    return value


class ConsoleApp:
    """The console: settings, database handles, templates and the helpers views share.

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
            finalize=_mask_output,
        )
        self.env.filters["local"] = self.local
        self.env.filters["intent_label"] = lambda name: self.catalog().label(name)
        self.env.filters["pct"] = lambda v: "—" if v is None else f"{float(v):.0%}"
        self.env.globals["REASON_LABELS"] = inbox.REASON_LABELS
        self.env.globals["STATUS_LABELS"] = inbox.STATUS_LABELS
        self.env.globals["CALLBACK_STATUS_LABELS"] = callbacks.CALLBACK_STATUS_LABELS
        self.env.globals["reasons_of"] = inbox.reasons_of
        self.env.globals["urlencode"] = urlencode
        self._catalog: tuple[float, IntentCatalog] | None = None
        self._sync_task: asyncio.Task[None] | None = None

    # -- helpers views share -------------------------------------------------------------------

    def local(self, value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """Format a naive-UTC (or aware) time in the console's time zone."""
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
        token = req.user.csrf_token if req.user else req.extra.get("login_csrf", "")
        base = {
            "user": req.user,
            "csrf_token": escape(token),  # random URL-safe text: escaped, never masked
            "notice": NOTICES.get(str(req.query.get("notice") or ""), ""),
            "path": req.path,
            "title": "",
        }
        base.update(context)
        html = self.env.get_template(template).render(**base)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    @staticmethod
    def dumps(payload: Any) -> str:
        """JSON for API answers: Chinese as is, every personal number masked."""
        return json.dumps(mask_data(payload), ensure_ascii=False)

    def json(self, payload: Any, status: int = 200) -> web.Response:
        """A JSON answer (masked)."""
        return web.json_response(payload, status=status, dumps=self.dumps)

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

    def set_cookie(self, response: web.Response, name: str, value: str, **extra: Any) -> None:
        """Set an HttpOnly, SameSite=Strict cookie (Secure behind HTTPS)."""
        response.set_cookie(
            name,
            value,
            httponly=True,
            samesite="Strict",
            secure=self.settings.cookie_secure,
            path=extra.pop("path", "/"),
            **extra,
        )

    # -- application ---------------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        route = Route(request.method, "", lambda console, req: not_found(console, req))
        return await route_handler(self, route)(request)

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
        await loop.run_in_executor(self.executor, self.prepare_login)
        if self.settings.sync_interval > 0:
            self._sync_task = asyncio.create_task(self._background_sync())

    def prepare_login(self) -> None:
        """Compute the login's stand-in password hash now, not during the first login."""
        from bot.console.accounts import dummy_hash

        dummy_hash(self.settings.scrypt_n)

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
        app = web.Application(middlewares=[security_headers], client_max_size=256 * 1024)
        for route in ROUTES:
            app.router.add_route(route.method, route.path, route_handler(self, route))
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        app.on_startup.append(self._on_startup)  # type: ignore[arg-type]
        app.on_cleanup.append(self._on_cleanup)  # type: ignore[arg-type]
        return app


def create_app(settings: ConsoleSettings | None = None) -> web.Application:
    """Build the console application (settings from the environment by default)."""
    console = ConsoleApp(settings or ConsoleSettings.from_env())
    app = console.build()
    app["console"] = console
    return app
