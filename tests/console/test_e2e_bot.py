"""End to end: real conversations through the running bot show up in the console.

Uses the shared ``rasa_bot`` fixture (``tests/servers.py``: ``rasa run`` + action server with
the model under test, fresh SQLite databases); skipped when no model has been trained.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.console import accounts
from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from tests.console.conftest import ARTIFACTS, FULL_ID, MASKED_ID, OFFICER
from tests.console.helpers import Client, ConsoleServer
from tests.servers import ChatServer
from tests.web.helpers import ChatClient

pytestmark = pytest.mark.needs_model

NONSENSE = ["阿巴阿巴阿巴", "量子纠缠的原理是什么", "asdfghjkl qwerty"]
RATED_QUESTION = "身份证丢了怎么补办"


def _settings(bot: ChatServer, project: Path) -> ConsoleSettings:
    tracker = re.sub(r"ehuzheng\.db$", "tracker.db", bot.database_url)
    assert tracker != bot.database_url
    return ConsoleSettings(
        database_url=bot.database_url,
        tracker_url=tracker,
        project_dir=project,
        sync_interval=0,
        scrypt_n=2**14,
        retrain_command="",
    )


def test_real_fallbacks_and_thumbs_down_reach_the_console(
    rasa_bot: ChatServer,
    project: Path,
) -> None:
    rasa_bot.ensure_running()
    chat = ChatClient(rasa_bot.base_url).start()
    for text in NONSENSE:
        chat.say(text)
    chat.say(f"我的身份证号{FULL_ID}掉了咋整")
    # Only answers can be rated: a policy answer (a form's question could not be).
    answers: list[dict[str, Any]] = [m for m in chat.say(RATED_QUESTION) if m.get("rateable")]
    assert answers, "the bot gave no rateable answer"
    assert chat.rate(answers[-1]["id"], "down").status_code == 200

    settings = _settings(rasa_bot, project)
    db = ConsoleDB(settings)
    with db.session() as session:
        if not accounts.list_users(session):
            accounts.create_user(session, settings, OFFICER[0], OFFICER[1], "officer")
    db.dispose()
    server = ConsoleServer(settings).start()
    try:
        client = Client(server.base_url)
        assert client.login(*OFFICER).status_code == 303
        page = client.get("/inbox?view=items&status=").text
        found = [t for t in NONSENSE if t in page]
        assert found, "none of the nonsense messages reached the inbox"
        assert "r-fallback" in page or "r-out_of_scope" in page
        assert RATED_QUESTION in page and "r-thumbs_down" in page
        assert FULL_ID not in page
        if "我的身份证号" in page:
            assert MASKED_ID in page
        conv = client.get(f"/conversations/{chat.conversation_id}").text
        assert RATED_QUESTION in conv and FULL_ID not in conv
        groups = client.get("/inbox?status=").text
        assert re.search(r"/groups/[0-9a-f]{16}", groups)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "e2e_inbox.html").write_text(page, encoding="utf-8")
    finally:
        server.stop()


def test_retrain_from_the_console_swaps_the_model_of_the_running_bot(
    rasa_bot: ChatServer, project: Path
) -> None:
    """The admin's retrain button ends with the running Rasa server answering from the new model
    (Rasa's real ``PUT /model``); the "training" here copies the model under test to a new name."""
    import json
    import sys
    import time
    import urllib.request

    from tests.servers import latest_model

    rasa_bot.ensure_running()
    source = latest_model()
    assert source is not None
    script = project / "fake_train.py"
    script.write_text(
        "import pathlib, shutil, sys\n"
        "out = pathlib.Path('models'); out.mkdir(exist_ok=True)\n"
        f"shutil.copy({str(source)!r}, out / '20991231-235959-retrained.tar.gz')\n"
        "print('Your Rasa model is trained', flush=True)\n",
        encoding="utf-8",
    )
    settings = _settings(rasa_bot, project)
    settings.retrain_command = f"{sys.executable} {script}"
    settings.rasa_url = rasa_bot.base_url
    settings.rasa_token = rasa_bot.api_token
    db = ConsoleDB(settings)
    with db.session() as session:
        if not any(u.username == "e2e.admin" for u in accounts.list_users(session)):
            accounts.create_user(session, settings, "e2e.admin", "E2e-Admin-Pass-1", "admin")
    db.dispose()
    server = ConsoleServer(settings).start()
    try:
        admin = Client(server.base_url)
        assert admin.login("e2e.admin", "E2e-Admin-Pass-1").status_code == 303
        assert admin.post_form("/retrain", {}, "/retrain").status_code == 303
        deadline = time.monotonic() + 600
        page = admin.get("/retrain").text
        while ("训练中" in page or "加载中" in page) and time.monotonic() < deadline:
            time.sleep(2)
            page = admin.get("/retrain").text
        assert "已加载" in page, page[-3000:]
    finally:
        server.stop()
    url = f"{rasa_bot.base_url}/status?token={rasa_bot.api_token}"
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert json.load(resp)["model_file"] == "20991231-235959-retrained.tar.gz"
    chat = ChatClient(rasa_bot.base_url).start()
    assert chat.say("身份证丢了怎么补办"), "the bot stopped answering after the swap"
