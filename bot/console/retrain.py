"""The "retrain" action: train in the background, show the progress, load the new model.

An admin starts the configured training command (``python -m bot train --force``); the console
follows its log. When it succeeds, the newest model it wrote to ``models/`` is loaded into the
running Rasa server through Rasa's HTTP API (``PUT /model`` with the API token), so the bot
answers with the new model without a restart (see :mod:`bot.console.rasa_api`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shlex
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bot.console import rasa_api
from bot.console.db import ConsoleDB
from bot.console.files import private_dir
from bot.console.models import ConsoleRetrainJob
from bot.db.models import utcnow

logger = logging.getLogger(__name__)

_EPOCHS = re.compile(r"Epochs:\s*(\d+)%")
_COMPONENT = re.compile(
    r"(?:Starting to train component|Running graph component)[^\n]*?'?([A-Za-z]+)'?"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class RetrainError(RuntimeError):
    """Training cannot be started (message is user-facing Chinese)."""


@dataclass
class Progress:
    """What a training log says so far.

    Attributes:
        percent: progress of the current training loop (0–100), or None.
        stage: the component being trained, if known.
        tail: the last lines of the log.

    """

    percent: int | None
    stage: str
    tail: str


def read_progress(log_path: str, lines: int = 25) -> Progress:
    """Parse a training log for the current stage, the epoch percentage and the last lines."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            content = _ANSI.sub("", handle.read()[-200_000:])
    except OSError:
        return Progress(None, "", "")
    content = content.replace("\r", "\n")
    percents = _EPOCHS.findall(content)
    stages = _COMPONENT.findall(content)
    tail = "\n".join([line for line in content.splitlines() if line.strip()][-lines:])
    return Progress(int(percents[-1]) if percents else None, stages[-1] if stages else "", tail)


def running_job(db: ConsoleDB) -> ConsoleRetrainJob | None:
    """Return the job currently running, if any."""
    with db.session() as session:
        return session.execute(
            sa.select(ConsoleRetrainJob)
            .where(ConsoleRetrainJob.status == "running")
            .order_by(ConsoleRetrainJob.id.desc())
            .limit(1)
        ).scalar_one_or_none()


def recent_jobs(db: ConsoleDB, limit: int = 10) -> list[ConsoleRetrainJob]:
    """Return the latest training jobs."""
    with db.session() as session:
        return list(
            session.execute(
                sa.select(ConsoleRetrainJob).order_by(ConsoleRetrainJob.id.desc()).limit(limit)
            ).scalars()
        )


def start(db: ConsoleDB, username: str) -> ConsoleRetrainJob:
    """Start the configured training command in the background.

    Args:
        db: console database handles (settings hold the command and the project folder).
        username: who started it.

    Returns:
        The job row.

    Raises:
        RetrainError: no command configured, or a job is already running.

    """
    command = db.settings.retrain_command.strip()
    if not command:
        raise RetrainError("未配置训练命令（CONSOLE_RETRAIN_COMMAND）。")
    if running_job(db) is not None:
        raise RetrainError("已有训练任务在运行，请等待其完成。")
    private_dir(db.settings.var_dir)
    log_dir = private_dir(db.settings.var_dir / "retrain")
    with db.session() as session:
        job = ConsoleRetrainJob(started_by=username, command=command, log_path="", status="running")
        session.add(job)
        session.flush()
        job.log_path = str(log_dir / f"job-{job.id}.log")
        job_id = int(job.id)
        log_path = job.log_path
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    log = os.fdopen(fd, "w", encoding="utf-8")  # closed by the watcher
    try:
        process = subprocess.Popen(  # noqa: S603 - command is operator configuration
            shlex.split(command),
            cwd=str(db.settings.project_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        log.write(f"无法启动训练命令: {exc}\n")
        log.close()
        _finish(db, job_id, -1)
        raise RetrainError("无法启动训练命令。") from exc

    started = utcnow()

    def watch() -> None:
        code = process.wait()
        log.close()
        _finish(db, job_id, code)
        if code == 0:
            deploy(db, job_id, started)

    threading.Thread(target=watch, name=f"retrain-{job_id}", daemon=True).start()
    with db.session() as session:
        row = session.get(ConsoleRetrainJob, job_id)
        assert row is not None
        return row


def _finish(db: ConsoleDB, job_id: int, code: int) -> None:
    with db.session() as session:
        job = session.get(ConsoleRetrainJob, job_id)
        if job is not None:
            job.return_code = code
            job.status = "succeeded" if code == 0 else "failed"
            job.finished_at = utcnow()


def newest_model(models_dir: Path, since: dt.datetime | None = None) -> Path | None:
    """The newest ``*.tar.gz`` in ``models_dir`` (written at or after ``since``, naive UTC)."""
    floor = since.replace(tzinfo=dt.UTC).timestamp() - 1 if since is not None else None
    candidates = [
        p
        for p in models_dir.glob("*.tar.gz")
        if p.is_file() and (floor is None or p.stat().st_mtime >= floor)
    ]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def deploy(db: ConsoleDB, job_id: int, since: dt.datetime | None = None) -> str:
    """Load the model a finished job trained into the running Rasa server; record the outcome.

    Args:
        db: console database handles (settings: models folder, Rasa URL and token).
        job_id: the finished job.
        since: when the job started (only models written after it count).

    Returns:
        The deploy status: ``loaded``, ``failed`` or ``no_model``.

    """
    settings = db.settings
    model = newest_model(settings.models_dir, since)
    if model is None:
        status, message, path = "no_model", "训练命令没有在 models/ 中生成新模型。", None
    else:
        path = str(model.resolve())
        try:
            rasa_api.load_model(settings.rasa_url, settings.rasa_token, path, settings.load_timeout)
        except rasa_api.RasaApiError as exc:
            logger.warning("new model %s not loaded: %s", model.name, exc)
            status = "failed"
            message = f"新模型已保存（{model.name}），但机器人未能加载：{exc}。重启机器人后生效。"
        else:
            status, message = "loaded", f"机器人已加载新模型 {model.name}，无需重启。"
    with db.session() as session:
        job = session.get(ConsoleRetrainJob, job_id)
        if job is not None:
            job.model_path = path
            job.deploy_status = status
            job.deploy_message = message
    return status


def mark_orphans(db: ConsoleDB) -> None:
    """Mark jobs left "running" by a previous console process as interrupted."""
    with db.session() as session:
        session.execute(
            sa.update(ConsoleRetrainJob)
            .where(ConsoleRetrainJob.status == "running")
            .values(status="interrupted", finished_at=utcnow())
        )
