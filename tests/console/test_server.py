"""The console process: it waits for its database instead of exiting; its files are private."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bot.console.config import ConsoleSettings
from bot.console.files import make_private, private_dir
from bot.console.server import ensure_schema
from bot.db.session import PROJECT_ROOT
from tests.console.helpers import cli_env, free_port


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_console_waits_for_its_database_then_starts(tmp_path: Path, project: Path) -> None:
    # A directory where the database file should be: SQLite cannot open it ("unable to open
    # database file"), as it cannot reach a PostgreSQL that is still starting.
    db_file = tmp_path / "app.db"
    db_file.mkdir()
    settings = ConsoleSettings(
        database_url=f"sqlite:///{db_file}", tracker_url=f"sqlite:///{tmp_path / 't.db'}"
    )
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            db_file.rmdir()  # the database "comes up"

    ensure_schema(settings, sleep=sleep)
    assert pauses == [1.0, 2.0, 4.0]  # growing pauses, no exit
    assert sa.inspect(sa.create_engine(settings.database_url)).has_table("console_users")
    assert _mode(db_file) == 0o600  # the console created it: owner only


def test_gives_up_only_when_told_to(tmp_path: Path) -> None:
    db_dir = tmp_path / "not-a-file.db"
    db_dir.mkdir()
    settings = ConsoleSettings(database_url=f"sqlite:///{db_dir}", tracker_url="sqlite://")
    with pytest.raises(sa.exc.OperationalError):
        ensure_schema(settings, timeout=0.0, sleep=lambda s: None)


def test_private_files_and_folders(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    for name in ("x.db", "x.db-wal", "x.db-shm"):
        (tmp_path / name).write_text("", encoding="utf-8")
        (tmp_path / name).chmod(0o644)
    make_private(db)
    assert {_mode(tmp_path / n) for n in ("x.db", "x.db-wal", "x.db-shm")} == {0o600}
    folder = private_dir(tmp_path / "var" / "console")
    assert _mode(folder) == 0o700


def test_files_the_console_writes_are_private(officer: object, settings: ConsoleSettings) -> None:
    from bot.console.db import ConsoleDB
    from bot.console.export import export_annotations
    from bot.console.intents import load_catalog

    db = ConsoleDB(settings)
    with db.session() as session:
        export_annotations(session, settings, load_catalog(settings.project_dir))
    db.dispose()
    assert _mode(settings.proposed_intents_path) == 0o600
    assert _mode(settings.var_dir) == 0o700


@pytest.mark.postgres
def test_console_process_outlives_a_missing_postgresql_database(settings: ConsoleSettings) -> None:
    """``python -m bot.console`` keeps retrying until its database exists, then serves."""
    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError:
        if os.environ.get("CI"):
            raise
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    name = f"console_wait_{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = cli_env(settings)
    env.update(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{name}",
        CONSOLE_PORT=str(port),
        CONSOLE_SYNC_INTERVAL="0",
    )
    log = settings.project_dir / "console.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.console"], env=env, cwd=PROJECT_ROOT, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while "retrying" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)
        assert proc.poll() is None, log.read_text()[-2000:]  # still waiting, not exited
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        up = False
        while not up and time.monotonic() < deadline + 60:
            try:
                up = requests.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200
            except requests.ConnectionError:
                time.sleep(0.5)
        assert up, log.read_text()[-2000:]
        assert "postgres@" in log.read_text() and "retrying in" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(20)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(settings.project_dir / "var", ignore_errors=True)
