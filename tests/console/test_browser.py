"""Browser tests of the review console: Debian's headless Chromium driven by Playwright.

An officer logs in, finds the unanswered questions grouped, annotates a group, the export is
checked on disk, the charts render, personal numbers are masked and a ``<script>`` typed by a
citizen shows as text. Screenshots go to ``tests/artifacts/console/`` (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.console.config import ConsoleSettings
from tests.console.conftest import (
    ARTIFACTS,
    FULL_ID,
    MASKED_ID,
    OFFICER,
    PHONE,
    SCRIPT_TEXT,
    seed_standard,
)
from tests.console.helpers import ConsoleServer, TrackerWriter

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A desktop-sized page; JavaScript dialogs and errors are recorded and fail the test."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    ctx.set_default_timeout(15_000)
    pg = ctx.new_page()
    problems: list[str] = []
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    pg.on("pageerror", lambda exc: problems.append(f"error: {exc}"))
    yield pg
    ctx.close()
    assert not problems, f"script ran or failed on a console page: {problems}"


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page: Any, base_url: str) -> None:
    """Log in as the officer through the form."""
    page.goto(f"{base_url}/inbox")
    assert "/login" in page.url
    page.get_by_label("用户名").fill(OFFICER[0])
    page.get_by_label("密码").fill(OFFICER[1])
    shot(page, "01_login")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base_url}/inbox*")


def test_officer_reviews_annotates_exports_and_sees_trends(
    page: Any, server: ConsoleServer, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    from playwright.sync_api import expect

    seed_standard(writer, settings)
    login(page, server.base_url)

    # Inbox: the two ways of saying "lost my ID card" are one group of 2.
    group = page.locator("section.group", has_text="身份证掉了咋整")
    expect(group).to_have_count(1)
    expect(group.locator("td.text", has_text="身份证丢了咋办")).to_be_visible()
    expect(group.locator(".size")).to_have_text("2 条")
    expect(group.locator(".badge.r-fallback").first).to_be_visible()
    # Out-of-scope, 👎 and the left message are there with their reasons.
    expect(
        page.locator("tr.item", has_text="今天天气怎么样").locator(".r-out_of_scope")
    ).to_be_visible()
    expect(
        page.locator("tr.item", has_text="户口迁入要什么材料").locator(".r-thumbs_down")
    ).to_be_visible()
    expect(
        page.locator("tr.item", has_text="集体户口怎么迁出").locator(".r-message")
    ).to_be_visible()
    # The 40-day-old question is outside the default 30-day range.
    expect(page.locator("td.text", has_text="户口簿丢了咋办")).to_have_count(0)
    # Masked ID and phone; the full numbers are nowhere on the page.
    expect(page.locator("td.text", has_text=f"我的身份证号{MASKED_ID}丢了怎么补")).to_be_visible()
    expect(page.locator("td.text", has_text="138****5678")).to_be_visible()
    html = page.content()
    assert FULL_ID not in html and PHONE not in html
    # A <script> typed by a citizen is shown as text, not run (the page fixture fails on dialogs).
    expect(page.locator("td.text", has_text=SCRIPT_TEXT)).to_be_visible()
    assert page.locator("script").count() == 0
    shot(page, "02_inbox_groups")

    # Filter by reason: only the 👎 question remains.
    page.get_by_label("原因").select_option("thumbs_down")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("section.group")).to_have_count(1)
    expect(page.locator("section.group")).to_contain_text("户口迁入要什么材料")
    # Date range that includes the old question.
    page.get_by_label("原因").select_option("")
    page.get_by_label("从").fill("2000-01-01")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("td.text", has_text="户口簿丢了咋办")).to_be_visible()

    # The whole conversation, masked.
    page.locator("tr.item", has_text=MASKED_ID).get_by_role("link", name="查看对话").click()
    expect(page.locator(".turn.user.highlight")).to_contain_text(MASKED_ID)
    assert FULL_ID not in page.content()
    # Readable for an officer: Chinese intent names, no Rasa internals.
    expect(page.locator(".turn.user.highlight .nlu")).to_contain_text("识别为：身份证丢失补领")
    assert "action_listen" not in page.content() and "action_session_start" not in page.content()
    shot(page, "03_conversation_masked")
    page.go_back()

    # Annotate the ID-card group: choose the intent, edit one example.
    page.locator("section.group", has_text="身份证掉了咋整").get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text("问题分组")
    expect(page.locator("tr.item")).to_have_count(2)
    page.get_by_label("意图").fill("faq/id_card_lost_online")
    example = page.locator("tr.item", has_text="身份证丢了咋办").locator("input.example")
    example.fill("身份证丢了咋办呀")
    page.get_by_role("button", name="保存标注并导出训练数据").click()
    expect(page.locator(".notice")).to_contain_text("已保存标注")
    expect(page.locator(".annot").first).to_contain_text("faq/id_card_lost_online")
    shot(page, "04_group_annotated")

    exported = settings.nlu_export_path
    data = yaml.safe_load(exported.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    [entry] = data["nlu"]
    assert entry["intent"] == "faq/id_card_lost_online"
    examples = [line[2:] for line in entry["examples"].splitlines()]
    assert sorted(examples) == ["身份证丢了咋办呀", "身份证掉了咋整"]

    # The group is no longer waiting in the default (待处理) view.
    page.goto(f"{server.base_url}/inbox")
    expect(page.locator("section.group", has_text="身份证掉了咋整")).to_have_count(0)

    # The export page shows the file.
    page.get_by_role("link", name="训练数据").click()
    expect(page.locator("pre.yaml").first).to_contain_text("身份证丢了咋办呀")
    shot(page, "05_export")

    # Trends: three charts with bars / points.
    page.get_by_role("link", name="趋势").click()
    expect(page.locator("svg.chart")).to_have_count(3)
    assert page.locator("svg.chart").nth(0).locator("rect.bar").count() == 30
    assert page.locator("svg.chart").nth(1).locator("circle.dot").count() >= 1
    expect(page.locator("svg.chart").nth(2).locator("text.label").first).to_be_visible()
    box = page.locator("svg.chart").first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    shot(page, "06_trends")

    # Messages: change the status and leave a note.
    page.get_by_role("link", name="留言").click()
    row = page.locator("tr", has_text="集体户口怎么迁出")
    expect(row).to_contain_text("138****5678")
    row.get_by_label("状态").select_option("called_back")
    row.get_by_label("备注").fill("已回电，已告知需本人到派出所办理")
    row.get_by_role("button", name="保存").click()
    expect(page.locator(".notice")).to_contain_text("留言状态已更新")
    expect(page.locator("tr", has_text="集体户口怎么迁出").get_by_label("状态")).to_have_value(
        "called_back"
    )
    shot(page, "07_messages")


def test_empty_install_pages_render(page: Any, server: ConsoleServer) -> None:
    from playwright.sync_api import expect

    login(page, server.base_url)
    expect(page.locator(".empty")).to_contain_text("没有符合条件的问题")
    page.get_by_role("link", name="趋势").click()
    expect(page.locator("svg.chart")).to_have_count(3)
    expect(page.locator("svg.chart").nth(2)).to_contain_text("没有未解答的问题")
    shot(page, "08_empty_trends")
    page.get_by_role("link", name="留言").click()
    expect(page.locator(".empty")).to_contain_text("暂无留言")
