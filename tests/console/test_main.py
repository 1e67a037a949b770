"""The command line (``python -m bot.console``): create-user and sync."""

from __future__ import annotations

import sqlalchemy as sa

from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.models import ConsoleUser
from tests.console.conftest import seed_standard
from tests.console.helpers import TrackerWriter, run_cli


def test_create_userrun_cli(settings: ConsoleSettings) -> None:
    done = run_cli(
        settings,
        "create-user",
        "--username",
        "li.jing",
        "--role",
        "admin",
        "--password-stdin",
        stdin="Li-Jing-Pass-2026\n",
    )
    assert done.returncode == 0, done.stderr
    assert "created admin account 'li.jing'" in done.stdout
    again = run_cli(
        settings,
        "create-user",
        "--username",
        "li.jing",
        "--password-stdin",
        stdin="Another-Pass-2026\n",
    )
    assert again.returncode == 1 and "已存在" in again.stderr
    weak = run_cli(settings, "create-user", "--username", "wang", "--password-stdin", stdin="123\n")
    assert weak.returncode == 1 and "至少需要10个字符" in weak.stderr
    db = ConsoleDB(settings)
    with db.session() as session:
        users = list(session.execute(sa.select(ConsoleUser)).scalars())
    db.dispose()
    assert [(u.username, u.role) for u in users] == [("li.jing", "admin")]
    assert users[0].password_hash.startswith("scrypt$16384$8$1$")
    assert "Li-Jing-Pass-2026" not in users[0].password_hash


def test_sync_cli_reads_the_tracker_store(writer: TrackerWriter, settings: ConsoleSettings) -> None:
    seed_standard(writer, settings)
    done = run_cli(settings, "sync")
    assert done.returncode == 0, done.stderr
    assert "read 10 user messages, 8 inbox items" in done.stdout
