"""Views: the exported training data and the retrain action."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.console import retrain
from bot.console.export import export_annotations
from bot.console.pipeline import Req, Route, redirect

if TYPE_CHECKING:
    from bot.console.app import ConsoleApp


def _shown(console: ConsoleApp, path: Path) -> Path:
    root = console.settings.project_dir
    return path.relative_to(root) if path.is_relative_to(root) else path


def export_view(console: ConsoleApp, req: Req, report: Any = None) -> web.Response:
    """Return the exported NLU file and the proposed new intents."""
    path = console.settings.nlu_export_path
    proposed = console.settings.proposed_intents_path
    return console.render(
        req,
        "export.html",
        title="训练数据导出",
        file_path=_shown(console, path),
        content=path.read_text(encoding="utf-8") if path.exists() else "",
        proposed_path=_shown(console, proposed),
        proposed=proposed.read_text(encoding="utf-8") if proposed.exists() else "",
        report=report,
    )


def export_run(console: ConsoleApp, req: Req) -> web.Response:
    """Write the NLU file again from every annotation."""
    with console.db.session() as session:
        report = export_annotations(session, console.settings, console.catalog())
    console.audit(
        req,
        "export",
        str(report.path.name),
        examples=report.examples,
        conflicts=len(report.conflicts),
        proposed=report.proposed,
    )
    return export_view(console, req, report)


def retrain_view(console: ConsoleApp, req: Req, error: str = "") -> web.Response:
    """Training jobs and the progress of the running one."""
    jobs = retrain.recent_jobs(console.db)
    running = next((j for j in jobs if j.status == "running"), None)
    progress = retrain.read_progress(running.log_path) if running else None
    last = retrain.read_progress(jobs[0].log_path) if jobs and not running else None
    return console.render(
        req,
        "retrain.html",
        title="重新训练",
        jobs=jobs,
        running=running,
        loading=any(j.status == "succeeded" and not j.deploy_status for j in jobs),
        progress=progress,
        last=last,
        enabled=bool(console.settings.retrain_command.strip()),
        error=error,
    )


def retrain_start(console: ConsoleApp, req: Req) -> web.Response:
    """Start training in the background (admin only); the new model is loaded when done."""
    assert req.user is not None
    try:
        job = retrain.start(console.db, req.user.username)
    except retrain.RetrainError as exc:
        return retrain_view(console, req, error=str(exc))
    console.audit(req, "retrain_start", f"job:{job.id}")
    return redirect("/retrain")


ROUTES = [
    Route("GET", "/export", export_view, audit="view_export"),
    Route("POST", "/export", export_run),
    Route("GET", "/retrain", retrain_view, audit="view_retrain"),
    Route("POST", "/retrain", retrain_start, admin=True),
]
