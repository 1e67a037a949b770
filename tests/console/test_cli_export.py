"""CLI (create-user, sync, export), ``rasa data validate`` on the export, background retrain."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.models import ConsoleUser
from bot.db.session import PROJECT_ROOT
from tests.console.conftest import seed_standard
from tests.console.helpers import Client, ConsoleServer, TrackerWriter, find

RASA = str(Path(sys.executable).parent / "rasa")


def _env(settings: ConsoleSettings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=settings.database_url,
        TRACKER_DATABASE_URL=settings.tracker_url,
        CONSOLE_PROJECT_DIR=str(settings.project_dir),
        CONSOLE_SCRYPT_N=str(2**14),
        PYTHONPATH=str(PROJECT_ROOT),
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    return env


def _cli(
    settings: ConsoleSettings, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.console", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(settings),
        cwd=PROJECT_ROOT,
        timeout=120,
    )


def test_create_user_cli(settings: ConsoleSettings) -> None:
    done = _cli(
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
    again = _cli(
        settings,
        "create-user",
        "--username",
        "li.jing",
        "--password-stdin",
        stdin="Another-Pass-2026\n",
    )
    assert again.returncode == 1 and "已存在" in again.stderr
    weak = _cli(settings, "create-user", "--username", "wang", "--password-stdin", stdin="123\n")
    assert weak.returncode == 1 and "至少需要10个字符" in weak.stderr
    db = ConsoleDB(settings)
    with db.session() as session:
        users = list(session.execute(sa.select(ConsoleUser)).scalars())
    db.dispose()
    assert [(u.username, u.role) for u in users] == [("li.jing", "admin")]
    assert users[0].password_hash.startswith("scrypt$16384$8$1$")
    assert "Li-Jing-Pass-2026" not in users[0].password_hash


def _validate(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            RASA,
            "data",
            "validate",
            "--fail-on-warnings",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--config",
            "config.yml",
        ],
        capture_output=True,
        text=True,
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RASA_TELEMETRY_ENABLED": "false"},
        timeout=600,
    )


def _problems(output: str) -> set[str]:
    lines = re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines()
    return {
        re.sub(r"^\S+ \S+ ", "", line).strip()
        for line in lines
        if "WARNING" in line or "ERROR" in line or "UserWarning" in line
    }


def test_exported_file_passes_rasa_data_validate(
    officer: Client, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    baseline = _validate(settings.project_dir)
    inbox = officer.get("/inbox").text
    for label, intent in (
        ("身份证掉了咋整", "faq/id_card_lost_online"),
        ("今天天气怎么样", "out_of_scope/other"),
        ("户口迁入要什么材料", "ask_move_in"),
    ):
        key = find(rf'href="/groups/([0-9a-f]{{16}})">{label}', inbox)
        ids = re.findall(r'name="item_id" value="(\d+)"', officer.get(f"/groups/{key}").text)
        resp = officer.post_form(
            f"/groups/{key}/review", {"item_id": ids, "action": "annotate", "intent": intent}
        )
        assert resp.status_code == 303
    exported = settings.nlu_export_path.read_text(encoding="utf-8")
    assert "- intent: out_of_scope/other\n  examples: |\n    - 今天天气怎么样" in exported
    assert "- intent: ask_move_in\n  examples: |\n    - 户口迁入要什么材料" in exported
    after = _validate(settings.project_dir)
    new_problems = _problems(after.stdout + after.stderr) - _problems(
        baseline.stdout + baseline.stderr
    )
    assert not new_problems, new_problems
    if baseline.returncode == 0:
        assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    # The CLI export writes the same file.
    done = _cli(settings, "export")
    assert done.returncode == 0, done.stderr
    assert settings.nlu_export_path.read_text(encoding="utf-8") == exported


def test_sync_cli_reads_the_tracker_store(writer: TrackerWriter, settings: ConsoleSettings) -> None:
    seed_standard(writer, settings)
    done = _cli(settings, "sync")
    assert done.returncode == 0, done.stderr
    assert "read 10 user messages, 8 inbox items" in done.stdout


def test_retrain_runs_in_background_with_visible_progress(
    settings: ConsoleSettings, accounts_created: None
) -> None:
    script = (
        "import time,sys\n"
        "print('Starting to train component DIETClassifier', flush=True)\n"
        "for p in (10, 50, 90):\n"
        "    print(f'Epochs: {p}%|###| {p}/100', flush=True); time.sleep(0.4)\n"
        "print('Your Rasa model is trained', flush=True)\n"
    )
    stub = settings.project_dir / "fake_train.py"
    stub.write_text(script, encoding="utf-8")
    settings.retrain_command = f"{sys.executable} {stub}"
    server = ConsoleServer(settings).start()
    try:
        client = Client(server.base_url)
        client.login("officer1", "Officer-Pass-2026")
        resp = client.post_form("/retrain", {}, "/retrain")
        assert resp.status_code == 303
        page = client.get("/retrain").text
        assert "训练中" in page and 'http-equiv="refresh"' in page
        assert client.post_form("/retrain", {}, "/inbox").status_code == 200  # one at a time
        deadline = time.monotonic() + 20
        while "训练中" in page and time.monotonic() < deadline:
            time.sleep(0.3)
            page = client.get("/retrain").text
        assert "成功" in page and "Your Rasa model is trained" in page
        assert "Epochs: 90%" in page
    finally:
        server.stop()
