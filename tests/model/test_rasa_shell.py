"""A real `rasa shell` in a pseudo-terminal: a developer chats in Chinese end to end.

Uses the action server (and its seeded database) of the shared ``rasa_bot`` fixture.
"""

import os
import sys
from pathlib import Path

import pexpect
import pytest

from tests.servers import ChatServer

pytestmark = pytest.mark.needs_model

ROOT = Path(__file__).resolve().parents[2]
UP = "\x1b[A"


@pytest.fixture()
def shell(model_path, tmp_path, bot: ChatServer):
    env = dict(os.environ)
    env["ACTION_ENDPOINT_URL"] = bot.action_endpoint_url
    env["TRACKER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'shell-tracker.db'}"
    env.setdefault("LOCK_STORE_TYPE", "in_memory")
    env.setdefault("REDIS_HOST", "127.0.0.1")
    env["COLUMNS"], env["LINES"] = "200", "50"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "rasa", "shell", "--model", str(model_path), "--endpoints", "endpoints.yml"],
        cwd=str(ROOT),
        env=env,
        encoding="utf-8",
        timeout=240,
        dimensions=(50, 200),
    )
    child.expect("Bot loaded. Type a message and press enter")
    yield child
    child.sendline("/stop")
    child.terminate(force=True)


def _say(child, text: str) -> None:
    child.expect("Your input ->")
    child.sendline(text)


def test_chinese_conversation_in_rasa_shell(shell):
    # A greeting comes back with the service menu as buttons; pick the first one
    # (身份证补领), which sends its payload like a click would.
    _say(shell, "你好")
    shell.expect("廊坊e户政", timeout=60)
    shell.expect("身份证补领")
    shell.send("\r")
    shell.expect("15个工作日", timeout=60)
    # The answer may carry buttons of its own: choose "Type out your own message...".
    index = shell.expect(["Your input ->", r"Type out your own message"], timeout=30)
    if index == 1:
        shell.send(UP)
        shell.send("\r")
    else:
        shell.sendline("我在固安买的房，想把户口迁过来要啥材料")
    if index == 1:
        _say(shell, "我在固安买的房，想把户口迁过来要啥材料")
    # Both the county and the situation are understood from one sentence.
    shell.expect("固安县", timeout=60)
    shell.expect("合法稳定住所迁入")
