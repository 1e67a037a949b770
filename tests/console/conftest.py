"""Fixtures of the console tests: a private project copy, migrated databases, a running console.

Every test gets its own app database (migrated with Alembic to head, so the console's
migration is exercised), its own tracker store file and its own copy of ``domain.yml``,
``config.yml`` and ``data/`` so exports never touch the real training data.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.models import ConsoleItem
from bot.db.session import PROJECT_ROOT
from tests.console.helpers import Client, ConsoleServer, TrackerWriter, Turn

OFFICER = ("officer1", "Officer-Pass-2026")
ADMIN = ("admin1", "Admin-Pass-2026!")
FULL_ID = "11010519491231002X"
MASKED_ID = "1101**********002X"
PHONE = "13812345678"
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts" / "console"


def copy_project(tmp_path: Path) -> Path:
    """A copy of the project's domain, config and data under ``tmp_path/project``."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("domain.yml", "config.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(
        PROJECT_ROOT / "data",
        root / "data",
        ignore=shutil.ignore_patterns("console_annotations.yml"),
    )
    return root


def make_settings(tmp_path: Path, project: Path, **overrides: object) -> ConsoleSettings:
    """Console settings on fresh, migrated SQLite databases in ``tmp_path``."""
    from bot.db import migrate

    app_url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate.upgrade(app_url)
    values: dict[str, object] = {
        "database_url": app_url,
        "tracker_url": f"sqlite:///{tmp_path / 'tracker.db'}",
        "project_dir": project,
        "sync_interval": 0,
        "scrypt_n": 2**14,
        "retrain_command": "",
        **overrides,
    }
    return ConsoleSettings(**values)  # type: ignore[arg-type]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the project's domain, config and data (exports go here, not to data/)."""
    return copy_project(tmp_path)


@pytest.fixture()
def settings(tmp_path: Path, project: Path) -> ConsoleSettings:
    """Console settings on fresh, migrated SQLite databases in ``tmp_path``."""
    return make_settings(tmp_path, project)


@pytest.fixture()
def db(settings: ConsoleSettings) -> Iterator[ConsoleDB]:
    """The console's database handles on the test databases."""
    handle = ConsoleDB(settings)
    yield handle
    handle.dispose()


def items_by_text(db: ConsoleDB) -> dict[str, ConsoleItem]:
    """Every inbox item, by its (masked) text."""
    with db.session() as session:
        return {i.text: i for i in session.execute(sa.select(ConsoleItem)).scalars()}


@pytest.fixture()
def writer(settings: ConsoleSettings) -> Iterator[TrackerWriter]:
    """Writes conversations into the test tracker store."""
    w = TrackerWriter(settings.tracker_url)
    yield w
    w.close()


@pytest.fixture()
def accounts_created(settings: ConsoleSettings) -> None:
    """An officer and an admin account."""
    from bot.console import accounts
    from bot.console.db import ConsoleDB

    db = ConsoleDB(settings)
    with db.session() as session:
        accounts.create_user(session, settings, OFFICER[0], OFFICER[1], "officer")
        accounts.create_user(session, settings, ADMIN[0], ADMIN[1], "admin")
    db.dispose()


@pytest.fixture()
def server(settings: ConsoleSettings, accounts_created: None) -> Iterator[ConsoleServer]:
    """The console, running."""
    srv = ConsoleServer(settings).start()
    yield srv
    srv.stop()


@pytest.fixture()
def officer(server: ConsoleServer) -> Client:
    """A client logged in as an officer."""
    client = Client(server.base_url)
    resp = client.login(*OFFICER)
    assert resp.status_code == 303, resp.text
    return client


@pytest.fixture()
def admin(server: ConsoleServer) -> Client:
    """A client logged in as an admin."""
    client = Client(server.base_url)
    resp = client.login(*ADMIN)
    assert resp.status_code == 303, resp.text
    return client


def now_utc() -> dt.datetime:
    """Naive UTC now."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


SCRIPT_TEXT = "<script>alert('xss')</script>户口本在哪打印"


def seed_standard(writer: TrackerWriter, settings: ConsoleSettings) -> dict[str, str]:
    """A realistic mix of conversations, a 👎 and a left message. Returns sender ids."""
    from bot.db import crypto
    from bot.db.models import CallbackRequest, Feedback
    from bot.db.session import make_engine
    from bot.numbers import mask_phone, mask_text

    now = now_utc()
    start = now - dt.timedelta(hours=2)
    ids = {
        "lost1": "conv-lost-1",
        "lost2": "conv-lost-2",
        "id": "conv-with-id",
        "oos": "conv-oos",
        "xss": "conv-xss",
        "ok": "conv-answered",
        "down": "conv-thumbs-down",
        "old": "conv-old",
        "msg": "conv-message",
    }
    writer.write(
        ids["lost1"],
        [Turn("你好", "greet", 0.99), Turn("身份证掉了咋整", "nlu_fallback", 0.55)],
        start,
    )
    writer.write(ids["lost2"], [Turn("身份证丢了咋办", "nlu_fallback", 0.55)], start)
    writer.write(
        ids["id"],
        [
            Turn(
                f"我的身份证号{FULL_ID}丢了怎么补",
                "faq",
                0.61,
                sub_intent="faq/id_card_lost_online",
            )
        ],
        start,
    )
    writer.write(
        ids["oos"],
        [
            Turn("今天天气怎么样", "out_of_scope", 0.93, sub_intent="out_of_scope/other"),
            Turn("驾照扣分怎么查", "out_of_scope", 0.9, sub_intent="out_of_scope/traffic"),
        ],
        start,
    )
    writer.write(ids["xss"], [Turn(SCRIPT_TEXT, "nlu_fallback", 0.55)], start)
    writer.write(
        ids["ok"],
        [Turn("身份证补办多少钱", "faq", 0.97, sub_intent="faq/id_card_fees")],
        start,
    )
    writer.write(ids["down"], [Turn("户口迁入要什么材料", "ask_move_in", 0.92)], start)
    writer.write(
        ids["old"], [Turn("户口簿丢了咋办", "nlu_fallback", 0.55)], now - dt.timedelta(days=40)
    )
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Feedback.__table__),
            [
                {
                    "conversation_id": ids["down"],
                    "bot_message_id": "m1",
                    "bot_text": "请问您属于哪种迁入情形？",
                    "user_text": "户口迁入要什么材料",
                    "rating": "down",
                    "created_at": now - dt.timedelta(hours=1),
                }
            ],
        )
        conn.execute(
            sa.insert(CallbackRequest.__table__),
            [
                {
                    "conversation_id": ids["msg"],
                    "text": mask_text(f"集体户口怎么迁出？我电话{PHONE}"),
                    "phone_masked": mask_phone(PHONE),
                    "phone_hash": crypto.hash_phone(PHONE),
                    "phone_encrypted": crypto.encrypt_phone(PHONE),
                    "status": "new",
                    "created_at": now - dt.timedelta(minutes=30),
                    "updated_at": now - dt.timedelta(minutes=30),
                }
            ],
        )
    engine.dispose()
    return ids
