"""The stock rasa-webchat 1.0.1 widget (npm bundle) embedded in a web page, against the real bot.

A page on another origin (``bot.widget_origin``, the one origin the test bot allows for
socket.io) embeds ``node_modules/rasa-webchat/lib/index.js`` exactly as its README says; Debian's
Chromium (Playwright, no browser download) loads it. The widget connects over socket.io,
upgrades to a WebSocket, gets a signed session, and the citizen gets answers with buttons and
map links. About 40 s. Screenshot: ``tests/artifacts/widget_*.png``.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.web.conftest import ChatServer

pytestmark = pytest.mark.needs_model

EMBED = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>某政务网站</title></head>
<body>
<h1>某政务网站（嵌入智能客服）</h1>
<div id="webchat"></div>
<script src="rasa-webchat.js"></script>
<script>
  WebChat.default({
    socketUrl: "%(socket_url)s",
    socketPath: "/socket.io/",
    initPayload: "/greet",
    customData: {"webchat": {"title": "伪造的标题"}},
    title: "廊坊e户政",
    subtitle: "智能客服",
    inputTextFieldHint: "请输入您的问题",
    embedded: true,
    params: {storage: "local"},
    customMessageDelay: function () { return 0; }
  }, document.getElementById("webchat"));
</script>
</body></html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture()
def widget_site(bot: ChatServer, js_modules: Path, tmp_path: Path) -> Iterator[str]:
    """Serve the embedding page and the widget bundle at ``bot.widget_origin``."""
    (tmp_path / "index.html").write_text(EMBED % {"socket_url": bot.base_url}, encoding="utf-8")
    bundle = js_modules / "rasa-webchat" / "lib" / "index.js"
    (tmp_path / "rasa-webchat.js").write_bytes(bundle.read_bytes())
    port = urlsplit(bot.widget_origin).port
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", port or 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield bot.widget_origin + "/"
    server.shutdown()
    server.server_close()


def _session_token(page: Page) -> str:
    stored = page.evaluate("localStorage.getItem('chat_session')")
    return json.loads(stored or "{}").get("session_id") or ""


def test_stock_widget_gets_answers_with_buttons_over_a_websocket(
    page: Page, bot: ChatServer, widget_site: str, artifacts_dir: Path
) -> None:
    frames: list[str] = []
    sockets: list[str] = []

    def on_socket(ws: object) -> None:
        sockets.append(ws.url)  # type: ignore[attr-defined]
        ws.on("framereceived", lambda payload: frames.append(str(payload)))  # type: ignore[attr-defined]

    page.on("websocket", on_socket)
    page.goto(widget_site)
    # The greeting (initPayload /greet) with the service menu as quick replies.
    greeting = page.locator(".rw-response", has_text="廊坊e户政智能客服")
    expect(greeting).to_be_visible(timeout=60_000)
    expect(page.locator(".rw-reply", has_text="身份证补领")).to_be_visible()
    token = _session_token(page)
    assert token.startswith("v1."), "the session id is the server's signed token"

    # A quick reply: the widget shows its title and sends its payload.
    page.locator(".rw-reply", has_text="身份证补领").click()
    expect(page.locator(".rw-client", has_text="身份证补领")).to_be_visible()
    expect(page.locator(".rw-response", has_text="补领").last).to_be_visible(timeout=60_000)

    # A typed question: place cards as text with a lasting map link, then the follow-ups.
    page.locator(".rw-new-message").fill("固安县户籍窗口在哪")
    page.locator(".rw-new-message").press("Enter")
    expect(page.locator(".rw-reply", has_text="预约办理")).to_be_visible(timeout=60_000)
    place = page.locator(".rw-response", has_text="地址：").first
    expect(place).to_contain_text("固安")
    href = page.locator("a.rw-reply", has_text="地图导航").first.get_attribute("href") or ""
    assert href.startswith("https://uri.amap.com/marker?position=116.")
    page.screenshot(path=str(artifacts_dir / "widget_01_answers.png"), full_page=True)

    # The connection was upgraded to a WebSocket and the answers came over it.
    assert any("transport=websocket" in url for url in sockets), sockets
    events = [json.loads(f[2:]) for f in frames if f.startswith('42["bot_uttered"')]
    titles = [r["title"] for _, data in events for r in data.get("quick_replies") or []]
    assert "预约办理" in titles, titles

    # Reloading keeps the same signed session.
    page.reload()
    expect(page.locator(".rw-new-message")).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1500)
    assert _session_token(page) == token

    # On the server: a socket.io conversation under the token's id, the client's customData
    # ignored (no forged title in the stored message).
    conversation_id = token.split(".")[1]
    tracker = requests.get(
        f"{bot.base_url}/conversations/{conversation_id}/tracker",
        params={"token": bot.api_token},
        timeout=30,
    ).json()
    users = [e for e in tracker["events"] if e["event"] == "user"]
    assert [u["text"] for u in users][:3] == ["/greet", "身份证丢了怎么补办", "固安县户籍窗口在哪"]
    assert all(u["input_channel"] == "socketio" for u in users)
    assert not any("伪造" in json.dumps(u.get("metadata") or {}, ensure_ascii=False) for u in users)
