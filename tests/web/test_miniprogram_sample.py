"""The sample mini-program page follows the API contract.

WeChat itself cannot run here, so the page's JavaScript runs under Node with a minimal
stand-in for ``Page()`` and ``wx.*`` whose ``wx.request`` does real HTTP against the stub
server. The WXML/WXSS are checked for the bindings the JavaScript relies on.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ROOT, ChatServer, free_port
from tests.web.helpers import stored_feedback

SAMPLE = ROOT / "bot" / "web" / "miniprogram"
HARNESS = Path(__file__).with_name("miniprogram_harness.js")
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_harness(api_base: str, *extra: str) -> dict[str, Any]:
    assert NODE is not None
    out = subprocess.run(
        [NODE, str(HARNESS), str(SAMPLE / "chat.js"), api_base, *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def bot_texts(state: dict[str, Any]) -> list[str]:
    return [
        "".join(s["value"] for s in item["segments"])
        for item in state["items"]
        if item["role"] == "bot"
    ]


def test_sample_page_talks_the_contract(stub: ChatServer) -> None:
    states = run_harness(f"{stub.base_url}/webhooks/webchat")
    loaded = states["loaded"]
    assert loaded["token"].startswith("v1.")
    assert [b["title"] for b in loaded["items"][0]["buttons"]][-1] == "转人工/留言"

    asked = states["asked"]
    assert asked["items"][1] == {
        "key": asked["items"][1]["key"],
        "role": "user",
        "text": "身份证丢了怎么办",
        "error": "",
        "message": "身份证丢了怎么办",
        "title": "",
    }
    assert any("邮寄费20元" in t for t in bot_texts(asked))
    link_segments = [
        s
        for item in asked["items"]
        if item["role"] == "bot"
        for s in item["segments"]
        if s["type"] == "link"
    ]
    assert link_segments == [{"type": "link", "value": "https://example.gov.cn/id-card?x=1&y="}]

    quick = states["quickReply"]
    assert [i["text"] for i in quick["items"] if i["role"] == "user"][-1] == "新生儿重名"
    assert [b["title"] for b in quick["items"][-1]["buttons"]] == ["男孩", "女孩"]

    rated = states["rated"]
    conversation_id = rated["token"].split(".")[1]
    rows = [r for r in stored_feedback(stub.database_url) if r.conversation_id == conversation_id]
    assert [(r.bot_message_id, r.rating) for r in rows] == [(rated["ratedId"], "down")]

    reloaded = states["reloaded"]
    assert reloaded["token"] == rated["token"]
    roles = [i["role"] for i in reloaded["items"]]
    assert roles[:2] == ["bot", "divider"] and roles.count("user") == 2
    assert any(i.get("rating") == "down" for i in reloaded["items"])

    restarted = states["restarted"]
    assert restarted["token"] != rated["token"]
    assert [i["role"] for i in restarted["items"]] == ["bot"]


def test_sample_page_shows_errors_when_the_server_is_down() -> None:
    states = run_harness(f"http://127.0.0.1:{free_port()}/webhooks/webchat", "offline")
    assert states["loaded"]["banner"] == "无法连接服务器，请检查网络后重试。"
    user = [i for i in states["sent"]["items"] if i["role"] == "user"][-1]
    assert user["error"] == "发送失败：无法连接服务器，请检查网络后重试。"
    assert user["retryable"] is True
    assert not any(i["role"] == "typing" for i in states["sent"]["items"])
    assert states["sent"]["pending"] is False


def test_wxml_binds_every_handler_the_page_defines() -> None:
    wxml = (SAMPLE / "chat.wxml").read_text(encoding="utf-8")
    script = (SAMPLE / "chat.js").read_text(encoding="utf-8")
    bound = set(re.findall(r'bind\w+="(\w+)"', wxml))
    for handler in bound:
        assert re.search(rf"^\s+{handler}\(", script, re.M), f"{handler} is bound but not defined"
    assert {"onSend", "onQuickReply", "onRate", "onRetry", "onRestart", "onHandoff"} <= bound
    assert json.loads((SAMPLE / "chat.json").read_text(encoding="utf-8"))["usingComponents"] == {}
    classes = set(
        re.findall(r"^\.([\w-]+)", (SAMPLE / "chat.wxss").read_text(encoding="utf-8"), re.M)
    )
    assert {"bubble", "qr", "feedback", "msg-error", "composer"} <= classes
