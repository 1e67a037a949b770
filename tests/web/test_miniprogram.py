"""The mini-program (bot/web/miniprogram/): a complete project, its chat page rendered and used.

The page is rendered by WeChat's own ``miniprogram-simulate`` (j-component and the official
``wcc`` WXML compiler, from npm) in jsdom; ``wx.request`` is bridged to real HTTP. The tests
themselves are ``node --test`` files in ``tests/web/js/`` (taps, typing, what is shown); this
module starts them against the stub server (page mechanics, no model) and against the real bot
(``needs_model``), and checks the database afterwards. The real-bot run also leaves a picture
of the simulated page: ``tests/artifacts/miniprogram_real_places.png``. About 10 s against the
stub, 30 s against the real bot (plus a one-off ``npm ci`` of ~25 s).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ROOT, ChatServer, free_port, run_node_tests
from tests.web.helpers import stored_feedback

PROJECT = ROOT / "bot" / "web" / "miniprogram"


def _env(server: ChatServer, out: Path) -> dict[str, str]:
    return {
        "MP_API_BASE": f"{server.base_url}/webhooks/webchat",
        "MP_DEAD_BASE": f"http://127.0.0.1:{free_port()}/webhooks/webchat",
        "MP_OUT": str(out),
    }


def test_project_opens_in_wechat_devtools_as_is() -> None:
    app = json.loads((PROJECT / "app.json").read_text(encoding="utf-8"))
    for page in app["pages"]:
        for ext in ("js", "json", "wxml", "wxss"):
            assert (PROJECT / f"{page}.{ext}").is_file(), f"{page}.{ext}"
        page_json = json.loads((PROJECT / f"{page}.json").read_text(encoding="utf-8"))
        assert page_json["usingComponents"] == {}, "a Component()-built page needs it"
        assert "Component({" in (PROJECT / f"{page}.js").read_text(encoding="utf-8")
    assert (PROJECT / app["sitemapLocation"]).is_file()
    json.loads((PROJECT / "sitemap.json").read_text(encoding="utf-8"))
    project = json.loads((PROJECT / "project.config.json").read_text(encoding="utf-8"))
    assert project["compileType"] == "miniprogram" and project["appid"]
    assert (PROJECT / "app.js").is_file() and (PROJECT / "app.wxss").is_file()
    # The API base is ONE setting: config.js, nowhere else.
    holders = [
        p.relative_to(PROJECT).as_posix()
        for p in PROJECT.rglob("*.js")
        if re.search(r"https?://", p.read_text(encoding="utf-8"))
    ]
    assert holders == ["config.js"]


def test_page_mechanics_against_the_stub(
    stub: ChatServer, js_modules: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.json"
    report = run_node_tests("miniprogram_stub.test.js", _env(stub, out))
    assert re.search(r"pass 6\b", report) and re.search(r"fail 0\b", report), report
    rated = json.loads(out.read_text(encoding="utf-8"))["rated"]
    (row,) = [
        r for r in stored_feedback(stub.database_url) if r.conversation_id == rated["conversation"]
    ]
    assert (row.bot_message_id, row.rating, row.reason) == (
        rated["message_id"],
        "down",
        "wrong_info",
    )
    assert row.comment == "邮寄费不对，回电139****1111"


@pytest.mark.needs_model
def test_page_against_the_real_bot(
    bot: ChatServer, js_modules: Path, tmp_path: Path, browser: Any, artifacts_dir: Path
) -> None:
    out = tmp_path / "out.json"
    snapshot = tmp_path / "miniprogram.html"
    env = {**_env(bot, out), "MP_SNAPSHOT": str(snapshot)}
    report = run_node_tests("miniprogram_real.test.js", env)
    assert re.search(r"pass 7\b", report) and re.search(r"fail 0\b", report), report
    result = json.loads(out.read_text(encoding="utf-8"))
    rows = [
        r for r in stored_feedback(bot.database_url) if r.conversation_id == result["conversation"]
    ]
    assert {(r.rating, r.reason) for r in rows} == {("up", None), ("down", "not_solved")}
    (down,) = [r for r in rows if r.rating == "down"]
    assert down.bot_message_id == result["rated"] and "补" in down.bot_text
    # What the simulated page showed (place cards), as a picture for people.
    page = browser.new_page(viewport={"width": 750, "height": 1334})
    page.goto(snapshot.as_uri())
    page.screenshot(path=str(artifacts_dir / "miniprogram_real_places.png"), full_page=True)
    page.close()
