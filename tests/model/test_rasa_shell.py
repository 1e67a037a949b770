"""``make shell`` in a pseudo-terminal, while the bot is running (like ``make run`` is).

``make shell`` is ``python -m bot shell``: train if ``models/`` is empty, then ``bot.shell``
with the newest model. The test starts ``bot.shell`` with the model under test (no training)
next to the shared real bot (``rasa_bot``: a Rasa server and an action server): it must get its
own port, use that action server and the same databases, list buttons by their titles and print
no deprecation warnings. About 60 s (loading the model).
"""

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest
import requests

from tests.servers import ChatServer

pytestmark = pytest.mark.needs_model

ROOT = Path(__file__).resolve().parents[2]
DOWN = "\x1b[B"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture()
def shell(model_path: Path, bot: ChatServer):
    data_dir = Path(bot.database_url.removeprefix("sqlite:///")).parent
    env = dict(os.environ)
    env.update(
        ACTION_ENDPOINT_URL=bot.action_endpoint_url,
        ACTION_SERVER_TOKEN=bot.servers[0].env["ACTION_SERVER_TOKEN"],  # the running server's
        DATABASE_URL=bot.database_url,
        TRACKER_DATABASE_URL=f"sqlite:///{data_dir / 'tracker.db'}",
        # What `make run` listens on: the shell must not try to take it.
        RASA_PORT=bot.base_url.rsplit(":", 1)[1],
        COLUMNS="200",
        LINES="50",
    )
    env.pop("SHELL_PORT", None)
    env.pop("PYTHONWARNINGS", None)  # the shell must be quiet by itself
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot.shell", "--model", str(model_path)],
        cwd=str(ROOT),
        env=env,
        encoding="utf-8",
        timeout=300,
        dimensions=(50, 200),
    )
    child.expect("Bot loaded. Type a message and press enter")
    child.startup_output = ANSI.sub("", child.before)
    yield child
    child.sendline("/stop")
    child.terminate(force=True)


def _say(child: pexpect.spawn, text: str) -> None:
    child.expect("Your input ->")
    child.sendline(text)


def test_make_shell_beside_the_running_bot(shell: pexpect.spawn, bot: ChatServer) -> None:
    assert "Warning" not in shell.startup_output, shell.startup_output
    assert "address already in use" not in shell.startup_output
    # A greeting: the service menu, listed by titles (no payloads); Enter picks the first,
    # which sends its payload like a click would.
    _say(shell, "你好")
    shell.expect("廊坊e户政", timeout=60)
    shell.expect("1: 身份证补领")
    menu = ANSI.sub("", shell.before + shell.after)
    shell.expect("Type out your own message")
    menu += ANSI.sub("", shell.before)
    assert "(/" not in menu and "身份证丢了怎么补办" not in menu, menu
    shell.send("\r")
    shell.expect("补领", timeout=60)
    # Its buttons, if any: choose "Type out your own message..." (the last entry).
    index = shell.expect(["Your input ->", r"Type out your own message"], timeout=30)
    if index == 1:
        shell.send("\x1b[A\r")  # up from the first entry wraps to the last
        _say(shell, "固安县户籍窗口在哪")
    else:
        shell.sendline("固安县户籍窗口在哪")
    # A place from the running action server, as text with its map link (no JSON dump).
    shell.expect("固安县公安局户政服务大厅", timeout=60)
    shell.expect(r"地图：https://uri\.amap\.com/marker\?position=")
    shell.expect("1: 预约办理", timeout=30)
    assert "Custom json" not in ANSI.sub("", shell.before)
    # The running bot was not disturbed.
    assert requests.get(f"{bot.chat_url}health", timeout=10).json()["ready"] is True
