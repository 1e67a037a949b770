"""Browser tests of the H5 chat page: Debian's headless Chromium driven by Playwright.

Two groups:

- against the stub server (always runs, no model): page mechanics — welcome, quick replies,
  typing indicator, links and escaping, 👍/👎 stored, reload keeps the conversation, restart,
  input limit, server down → error + retry;
- against the real bot (``needs_model``): a Chinese policy question, a quick reply, a full
  name-check flow, 👎 stored, reload, action server down, Rasa stopped.

Screenshots of the main states go to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import ChatServer
from tests.web.helpers import stored_feedback

TOKEN_KEY = "ehz.webchat.token"
BOT_ROWS = ".row.bot:not(.typing)"


def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    """Save a screenshot of the current state."""
    page.screenshot(path=str(artifacts_dir / f"webchat_{name}.png"))


def open_chat(page: Page, server: ChatServer) -> None:
    """Open the chat page and wait until it has a session."""
    page.goto(server.chat_url)
    expect(page.get_by_test_id("welcome")).to_be_visible()
    page.wait_for_function(f"() => !!localStorage.getItem('{TOKEN_KEY}')")


def bot_count(page: Page) -> int:
    return page.locator(BOT_ROWS).count()


def wait_reply(page: Page, before: int, timeout: float = 60_000) -> Any:
    """Wait until the bot answered (new bot rows, typing indicator gone); return the last row."""
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length > n && "
        "!document.querySelector('[data-testid=typing]')",
        arg=[BOT_ROWS, before],
        timeout=timeout,
    )
    return page.locator(BOT_ROWS).last


def ask(page: Page, text: str, timeout: float = 60_000) -> str:
    """Type a question, send it, wait for the answer; return all new bot text."""
    before = bot_count(page)
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("send").click()
    wait_reply(page, before, timeout)
    return new_bot_text(page, before)


def click_reply(page: Page, title: str, timeout: float = 60_000) -> str:
    """Click the last quick reply with this title; return the new bot text."""
    before = bot_count(page)
    page.locator(".qr", has_text=title).last.click()
    wait_reply(page, before, timeout)
    return new_bot_text(page, before)


def new_bot_text(page: Page, before: int) -> str:
    rows = page.locator(BOT_ROWS)
    return "\n".join(rows.nth(i).inner_text() for i in range(before, rows.count()))


def restart_chat(page: Page) -> None:
    """Click 重新开始, confirm, and wait until the new conversation is in place."""
    old = page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')")
    page.get_by_test_id("restart").click()
    page.get_by_test_id("confirm-restart").click()
    page.wait_for_function(f"t => localStorage.getItem('{TOKEN_KEY}') !== t", arg=old)
    expect(page.locator(".row.user")).to_have_count(0)


def user_bubbles(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(".row.user .bubble").all_inner_texts()]


# ============================================================================================
# Stub server: page mechanics


def test_welcome_fits_a_375px_phone(page: Page, stub: ChatServer, artifacts_dir: Path) -> None:
    open_chat(page, stub)
    welcome = page.get_by_test_id("welcome")
    expect(welcome).to_contain_text("廊坊e户政智能客服")
    titles = welcome.locator(".qr").all_inner_texts()
    assert titles == [
        "身份证补领",
        "户口迁入",
        "查办理进度",
        "新生儿重名",
        "预约办理",
        "户籍窗口",
        "转人工/留言",
    ]
    expect(page.get_by_test_id("handoff")).to_be_visible()
    expect(page.get_by_test_id("restart")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "no sideways scrolling"
    composer = page.locator("#composer").bounding_box()
    assert composer and composer["y"] + composer["height"] <= 740, "input box visible"
    expect(page.get_by_test_id("banner")).to_be_hidden()
    shot(page, artifacts_dir, "stub_01_welcome")


def test_quick_reply_sends_payload_and_shows_title(page: Page, stub: ChatServer) -> None:
    open_chat(page, stub)
    reply = click_reply(page, "新生儿重名")
    assert "请问宝宝的性别是" in reply
    reply = click_reply(page, "男孩")
    # The stub echoes what it received: the payload went to the bot, the title was shown.
    assert 'inform{"gender":"male"}' in reply
    assert user_bubbles(page) == ["新生儿重名", "男孩"]


def test_typing_indicator_while_waiting_then_polite_fallback(
    page: Page, stub: ChatServer, artifacts_dir: Path
) -> None:
    open_chat(page, stub)
    before = bot_count(page)
    page.get_by_test_id("input").fill("__slow__")
    page.get_by_test_id("input").press("Enter")
    expect(page.get_by_test_id("typing")).to_be_visible()
    expect(page.get_by_test_id("send")).to_be_disabled()
    shot(page, artifacts_dir, "stub_02_typing")
    last = wait_reply(page, before)
    expect(last).to_contain_text("系统繁忙，请稍后再试")
    expect(page.get_by_test_id("typing")).to_have_count(0)
    expect(last.locator(".fb")).to_have_count(0)  # nothing to rate on a fallback


def test_links_clickable_and_html_never_interpreted(page: Page, stub: ChatServer) -> None:
    open_chat(page, stub)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    answer = ask(page, "身份证丢了怎么补办？")
    assert "工本费40元" in answer
    link = page.locator(".row.bot .bubble a").last
    expect(link).to_have_attribute("href", "https://example.gov.cn/id-card?x=1&y=")
    expect(link).to_have_attribute("target", "_blank")
    bubble = page.locator(".row.bot .bubble").last
    assert bubble.locator("b").count() == 0 and "<b>2</b>" in bubble.inner_text()
    # Multi-line answers keep their line break.
    first = page.locator(".row.bot .bubble", has_text="工本费").last
    assert first.evaluate("e => e.getClientRects().length && e.innerText.includes('\\n')")
    ask(page, "<img src=x onerror=alert(1)><script>alert(2)</script>")
    assert page.locator(".messages img, .messages script").count() == 0
    assert "<img src=x onerror=alert(1)>" in user_bubbles(page)[-1]
    page.wait_for_timeout(300)
    assert dialogs == []


def test_thumbs_down_asks_what_was_wrong_and_stores_it(
    page: Page, stub: ChatServer, artifacts_dir: Path
) -> None:
    open_chat(page, stub)
    ask(page, "身份证丢了怎么补办？我的电话13812345678")
    row = page.locator(".row.bot[data-message-id]").nth(0)
    message_id = row.get_attribute("data-message-id")
    row.locator(".fb.down").click()
    expect(row.locator(".fb.down")).to_have_attribute("aria-pressed", "true")
    reasons = row.get_by_test_id("feedback-reasons")
    expect(reasons).to_contain_text("这条回答哪里不满意？")
    expect(reasons.locator(".fb-chip")).to_have_text(
        ["答非所问", "信息有误", "看不明白", "没解决问题", "其他"]
    )
    expect(reasons.locator(".fb-submit")).to_be_disabled()
    reasons.locator(".fb-chip", has_text="信息有误").click()
    reasons.locator(".fb-comment").fill("邮寄费好像不对，回电13900001111")
    shot(page, artifacts_dir, "stub_03_feedback_reason")
    reasons.locator(".fb-submit").click()
    expect(row.locator(".fb-note")).to_contain_text("感谢反馈")
    expect(row.get_by_test_id("feedback-reasons")).to_have_count(0)
    token = page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')")
    conversation_id = token.split(".")[1]
    rows = [r for r in stored_feedback(stub.database_url) if r.conversation_id == conversation_id]
    assert [(r.bot_message_id, r.rating, r.reason) for r in rows] == [
        (message_id, "down", "wrong_info")
    ]
    assert rows[0].comment == "邮寄费好像不对，回电139****1111"
    assert "138****5678" in rows[0].user_text and "13812345678" not in rows[0].user_text


def test_thumbs_only_under_answers_and_places_as_cards(
    page: Page, stub: ChatServer, artifacts_dir: Path
) -> None:
    open_chat(page, stub)
    expect(page.get_by_test_id("sample-notice")).to_contain_text("示例数据")
    expect(page.get_by_test_id("welcome").locator(".fb")).to_have_count(0)
    click_reply(page, "新生儿重名")
    question = page.locator(BOT_ROWS).last
    expect(question).to_contain_text("请问宝宝的性别是")
    expect(question.locator(".fb")).to_have_count(0)  # a question, not an answer
    ask(page, "固安县户籍窗口在哪")
    card = page.get_by_test_id("place").last
    expect(card.locator(".card-title")).to_have_text("固安县户政服务大厅（示例）")
    expect(card).to_contain_text("地址：固安县新源街99号")
    expect(card.locator("a[href^='tel:']")).to_have_text("0316-0000000")
    expect(card.locator(".card-map")).to_have_attribute(
        "href", "https://uri.amap.com/marker?position=116.299000,39.438000&name=x"
    )
    rows = page.locator(BOT_ROWS)
    count = rows.count()
    # heading, card: parts of the answer; the closing line carries 👍/👎 (and the buttons)
    assert [rows.nth(i).locator(".fb").count() for i in range(count - 3, count)] == [0, 0, 2]
    expect(rows.last.locator(".qr")).to_have_text(["预约办理"])
    shot(page, artifacts_dir, "stub_05_place_card")


def test_reload_keeps_the_conversation(page: Page, stub: ChatServer, artifacts_dir: Path) -> None:
    open_chat(page, stub)
    ask(page, "我想问户口迁入，电话13812345678")
    page.locator(".row.bot[data-message-id] .fb.down").last.click()
    expect(page.locator(".fb.down[aria-pressed=true]")).to_have_count(1)
    click_reply(page, "新生儿重名")
    token = page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')")
    page.reload()
    expect(page.locator(".divider")).to_have_text("以下是您之前的对话")
    expect(page.locator(".row.user")).to_have_count(2)
    assert user_bubbles(page) == ["我想问户口迁入，电话138****5678", "新生儿重名"]
    expect(page.locator(".row.bot", has_text="请问宝宝的性别是")).to_be_visible()
    expect(page.locator(".fb.down[aria-pressed=true]")).to_have_count(1)
    assert page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')") == token, "same conversation"
    shot(page, artifacts_dir, "stub_04_reloaded")
    # The conversation goes on after the reload.
    assert "收到：继续" in ask(page, "继续")


def test_restart_starts_a_fresh_conversation(page: Page, stub: ChatServer) -> None:
    open_chat(page, stub)
    ask(page, "你好")
    restart_chat(page)
    expect(page.get_by_test_id("welcome")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("welcome")).to_be_visible()
    page.wait_for_timeout(500)
    expect(page.locator(".row.user")).to_have_count(0)
    expect(page.locator(".divider")).to_have_count(0)


def test_long_input_is_limited_in_the_box(page: Page, stub: ChatServer) -> None:
    open_chat(page, stub)
    box = page.get_by_test_id("input")
    box.fill("")
    box.press_sequentially("查" * 20)
    box.fill("问" * 600)  # like a paste
    value = box.input_value()
    assert len(value) == 500
    expect(page.get_by_test_id("counter")).to_have_text("500/500 已达字数上限")
    assert "收到：" in ask(page, value)


def test_empty_input_cannot_be_sent(page: Page, stub: ChatServer) -> None:
    open_chat(page, stub)
    expect(page.get_by_test_id("send")).to_be_disabled()
    page.get_by_test_id("input").fill("   ")
    expect(page.get_by_test_id("send")).to_be_disabled()
    page.get_by_test_id("input").press("Enter")
    expect(page.locator(".row.user")).to_have_count(0)


def test_server_down_shows_error_and_retry_recovers(
    page: Page, stub: ChatServer, artifacts_dir: Path
) -> None:
    open_chat(page, stub)
    stub.main.stop()
    try:
        page.get_by_test_id("input").fill("身份证丢了怎么补办？")
        page.get_by_test_id("send").click()
        error = page.locator(".row.user .msg-error")
        expect(error).to_contain_text("发送失败：无法连接服务器，请检查网络后重试。")
        expect(page.get_by_test_id("typing")).to_have_count(0)
        expect(page.get_by_test_id("input")).to_be_editable()
        shot(page, artifacts_dir, "stub_05_server_down")
    finally:
        stub.ensure_running()
    before = bot_count(page)
    error.locator(".retry").click()
    wait_reply(page, before)
    expect(page.locator(".msg-error")).to_have_count(0)
    expect(page.locator(BOT_ROWS).nth(-2)).to_contain_text("邮寄费20元")
    assert user_bubbles(page) == ["身份证丢了怎么补办？"], "the retry reuses the same bubble"


def test_history_failure_shows_banner_with_retry(page: Page, stub: ChatServer) -> None:
    open_chat(page, stub)
    ask(page, "你好")
    page.route("**/webhooks/webchat/history", lambda route: route.abort())
    page.reload()
    banner = page.get_by_test_id("banner")
    expect(banner).to_contain_text("历史记录加载失败：无法连接服务器")
    page.unroute("**/webhooks/webchat/history")
    banner.get_by_role("button", name="重试").click()
    expect(banner).to_be_hidden()
    expect(page.locator(".row.user")).to_have_count(1)


def test_slow_server_times_out_with_a_clear_message(page: Page, stub: ChatServer) -> None:
    page.add_init_script("window.WEBCHAT_REQUEST_TIMEOUT_MS = 1500;")
    open_chat(page, stub)
    pending: list[Any] = []
    # The request is held and never answered: only the page's own timeout can end the wait.
    page.route("**/webhooks/webchat/message", lambda route: pending.append(route))
    page.get_by_test_id("input").fill("你好")
    page.get_by_test_id("send").click()
    expect(page.locator(".msg-error")).to_contain_text("服务器响应超时，请稍后重试。")
    page.unroute("**/webhooks/webchat/message")


def test_invalid_stored_token_starts_a_new_conversation(page: Page, stub: ChatServer) -> None:
    page.add_init_script(f"localStorage.setItem('{TOKEN_KEY}', 'v1.forged.1.x')")
    page.goto(stub.chat_url)
    page.wait_for_function(
        f"() => (localStorage.getItem('{TOKEN_KEY}') || '').split('.')[1] !== 'forged'"
    )
    expect(page.get_by_test_id("banner")).to_be_hidden()
    assert "收到：你好" in ask(page, "你好")


# ============================================================================================
# The real bot


@pytest.mark.needs_model
def test_real_bot_policy_question(page: Page, bot: ChatServer, artifacts_dir: Path) -> None:
    open_chat(page, bot)
    answer = ask(page, "身份证丢了怎么补办？")
    assert "40" in answer and re.search("补领|补办", answer), answer
    shot(page, artifacts_dir, "real_01_policy_answer")


@pytest.mark.needs_model
def test_real_bot_quick_reply_move_in_flow(
    page: Page, bot: ChatServer, artifacts_dir: Path
) -> None:
    open_chat(page, bot)
    question = click_reply(page, "户口迁入")
    assert "情形" in question, question
    assert user_bubbles(page) == ["户口迁入"]
    reply = click_reply(page, "购房（合法稳定住所）")
    if "县" in reply or "区" in reply:
        reply = ask(page, "固安县")
    assert "不动产权证书" in reply or "房产证" in reply, reply
    shot(page, artifacts_dir, "real_02_move_in_materials")


@pytest.mark.needs_model
def test_real_bot_name_check_flow(page: Page, bot: ChatServer, artifacts_dir: Path) -> None:
    open_chat(page, bot)
    prompt = click_reply(page, "新生儿重名")
    assert "姓名" in prompt, prompt
    result = ask(page, "王梓轩")
    assert re.search(r"同名\s*\d+\s*人", result), result
    assert "王梓轩" in result
    shot(page, artifacts_dir, "real_03_name_check")
    again = page.locator(BOT_ROWS).last.locator(".qr", has_text="再查一个名字")
    if again.count():
        assert "姓名" in click_reply(page, "再查一个名字")


WELCOME_TITLES = [
    "身份证补领",
    "户口迁入",
    "查办理进度",
    "新生儿重名",
    "预约办理",
    "户籍窗口",
    "转人工/留言",
]
CONFUSED = re.compile("没太明白|无法查询|系统繁忙")


@pytest.mark.needs_model
def test_real_bot_every_welcome_button_leads_somewhere(page: Page, bot: ChatServer) -> None:
    open_chat(page, bot)
    failures = {}
    for title in WELCOME_TITLES:
        restart_chat(page)
        reply = click_reply(page, title)
        if CONFUSED.search(reply):
            failures[title] = reply
    assert not failures, f"welcome buttons answered badly: {failures}"


@pytest.mark.needs_model
def test_real_bot_thumbs_down_stored_and_history_after_reload(
    page: Page, bot: ChatServer, artifacts_dir: Path
) -> None:
    open_chat(page, bot)
    ask(page, "居住证怎么办理？")
    row = page.locator(".row.bot[data-message-id]").last
    message_id = row.get_attribute("data-message-id")
    row.locator(".fb.down").click()
    expect(row.locator(".fb.down")).to_have_attribute("aria-pressed", "true")
    conversation_id = page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')").split(".")[1]
    rows = stored_feedback(bot.database_url, rating="down")
    assert any(
        r.conversation_id == conversation_id and r.bot_message_id == message_id for r in rows
    )
    answered = row.inner_text()
    page.reload()
    expect(page.locator(".divider")).to_be_visible()
    assert user_bubbles(page) == ["居住证怎么办理？"]
    reloaded = page.locator(f".row.bot[data-message-id='{message_id}']")
    expect(reloaded.locator(".fb.down")).to_have_attribute("aria-pressed", "true")
    assert reloaded.locator(".bubble").inner_text().strip() in answered
    shot(page, artifacts_dir, "real_04_reloaded_history")


@pytest.mark.needs_model
def test_real_bot_action_server_down_polite_reply(
    page: Page, bot: ChatServer, artifacts_dir: Path
) -> None:
    open_chat(page, bot)
    actions = bot.servers[0]
    actions.stop()
    try:
        reply = click_reply(page, "新生儿重名")
        assert "系统繁忙，请稍后再试" in reply, reply
        expect(page.locator(".bubble.fallback")).to_have_count(1)
        shot(page, artifacts_dir, "real_05_action_server_down")
        # Answers that need no custom action still work.
        assert "40" in ask(page, "身份证丢了怎么补办？")
    finally:
        actions.start()


@pytest.mark.needs_model
@pytest.mark.stops_bot
def test_real_bot_stopped_shows_error(page: Page, bot: ChatServer, artifacts_dir: Path) -> None:
    open_chat(page, bot)
    ask(page, "你好")
    bot.main.stop()  # the fixture starts it again for the next test that needs it
    page.get_by_test_id("input").fill("身份证丢了怎么补办？")
    page.get_by_test_id("send").click()
    error = page.locator(".row.user .msg-error")
    expect(error).to_contain_text("无法连接服务器")
    expect(error.get_by_role("button", name="重试")).to_be_visible()
    expect(page.get_by_test_id("input")).to_be_editable()
    shot(page, artifacts_dir, "real_06_bot_stopped")
