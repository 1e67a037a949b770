"""Security of the review console: login required everywhere, CSRF, lockout, roles, escaping."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from bot.console.app import ROUTES
from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.models import (
    ConsoleAuditLog,
    ConsoleLoginAttempt,
    ConsoleLoginThrottle,
    ConsoleUser,
)
from bot.console.security import hash_password, verify_password
from tests.console.conftest import ADMIN, OFFICER, SCRIPT_TEXT, seed_standard
from tests.console.helpers import Client, ConsoleServer, TrackerWriter, find

PARAMS = {"key": "0123456789abcdef", "sender_id": "conv-lost-1", "id": "1"}


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], path)


def _rows(db: ConsoleDB, model: type) -> list:
    with db.session() as session:
        return list(session.execute(sa.select(model)).scalars())


def test_no_page_or_api_answers_without_login(
    server: ConsoleServer, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    anon = Client(server.base_url)
    protected = [r for r in ROUTES if not r.public]
    assert len(protected) >= 20
    for route in protected:
        path = _concrete(route.path)
        if route.method == "GET":
            resp = anon.get(path)
        else:
            resp = anon.post(path, {"csrf_token": "x", "status": "closed", "action": "annotate"})
        if path.startswith("/api/"):
            assert resp.status_code == 401, path
            assert resp.json() == {"error": "login required"}
        else:
            assert resp.status_code == 303, (route.method, path, resp.status_code)
            assert resp.headers["Location"].startswith("/login"), path
        # Nothing of the data leaks into the answer.
        assert "身份证" not in resp.text and "conv-" not in resp.text
    # Unknown paths and static-looking paths too.
    for path in ("/nope", "/static/../inbox", "/admin", "/api/other"):
        resp = anon.get(path)
        assert resp.status_code in (303, 401), path
    # The only public things: the login form and the stylesheet.
    assert anon.get("/login").status_code == 200
    assert anon.get("/static/console.css").status_code == 200
    # Data did not change: the message is still new.
    from bot.db.models import Message

    db = ConsoleDB(settings)
    assert [m.status for m in _rows(db, Message)] == ["new"]
    db.dispose()


def test_session_cookie_is_httponly_samesite_and_headers_are_strict(
    server: ConsoleServer,
) -> None:
    client = Client(server.base_url)
    login_page = client.get("/login")
    assert "HttpOnly" in login_page.headers["Set-Cookie"]
    resp = client.login(*OFFICER)
    assert resp.status_code == 303
    cookie = resp.headers["Set-Cookie"]
    assert "console_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert "default-src 'none'" in inbox.headers["Content-Security-Policy"]
    assert inbox.headers["X-Frame-Options"] == "DENY"
    assert inbox.headers["Cache-Control"] == "no-store"
    # Logout ends the session server-side: the old cookie no longer works.
    old = dict(client.http.cookies)
    assert client.post_form("/logout", {}).status_code == 303
    replay = Client(server.base_url)
    replay.http.cookies.update(old)
    assert replay.get("/inbox").status_code == 303


def test_csrf_token_required_on_every_form(
    officer: Client, server: ConsoleServer, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    officer.get("/inbox")  # sync
    key = find(r"/groups/([0-9a-f]{16})", officer.get("/inbox").text)
    group_page = officer.get(f"/groups/{key}").text
    item_id = find(r'name="item_id" value="(\d+)"', group_page)
    form = {"item_id": item_id, "action": "not_useful"}
    for bad in ({}, {"csrf_token": ""}, {"csrf_token": "forged-token"}):
        resp = officer.post(f"/groups/{key}/review", {**form, **bad})
        assert resp.status_code == 403
        assert "安全令牌" in resp.text
    # Another session's token does not work either.
    other = Client(server.base_url)
    other.login(*ADMIN)
    resp = officer.post(f"/groups/{key}/review", {**form, "csrf_token": other.csrf()})
    assert resp.status_code == 403
    # A cross-site Origin is refused even with the right token.
    resp = officer.post(
        f"/groups/{key}/review",
        {**form, "csrf_token": officer.csrf()},
        headers={"Origin": "http://evil.example"},
    )
    assert resp.status_code == 403
    from bot.console.models import ConsoleItem

    db = ConsoleDB(settings)
    assert all(i.status == "new" for i in _rows(db, ConsoleItem))
    # With the token it works.
    resp = officer.post_form(f"/groups/{key}/review", form)
    assert resp.status_code == 303
    assert any(i.status == "not_useful" for i in _rows(db, ConsoleItem))
    # Messages, accounts, export, sync and logout forms are protected the same way.
    for path in ("/messages/1", "/export", "/sync", "/retrain", "/logout"):
        assert officer.post(path, {"status": "closed"}).status_code == 403, path
    assert other.post("/admin/users", {"username": "x", "password": "y" * 12}).status_code == 403
    # The login form needs its double-submit token too.
    fresh = Client(server.base_url)
    resp = fresh.post("/login", {"username": OFFICER[0], "password": OFFICER[1]})
    assert resp.status_code == 403
    audit = [a.action for a in _rows(db, ConsoleAuditLog)]
    assert audit.count("csrf") >= 5 and "csrf_origin" in audit
    db.dispose()


def test_five_failed_logins_lock_the_account_for_15_minutes(
    server: ConsoleServer, settings: ConsoleSettings
) -> None:
    client = Client(server.base_url)
    for attempt in range(4):
        resp = client.login(OFFICER[0], f"wrong-password-{attempt}")
        assert resp.status_code == 401
        assert "用户名或密码错误" in resp.text
    resp = client.login(OFFICER[0], "wrong-password-5")
    assert resp.status_code == 401 and "已被锁定" in resp.text
    # Locked: even the right password is refused.
    resp = client.login(*OFFICER)
    assert resp.status_code == 401 and "已被锁定" in resp.text
    assert client.get("/inbox").status_code == 303
    db = ConsoleDB(settings)
    with db.session() as session:
        row = session.get(ConsoleLoginThrottle, f"account:{OFFICER[0]}")
        remaining = row.locked_until - dt.datetime.now(dt.UTC).replace(tzinfo=None)
        assert dt.timedelta(minutes=14) < remaining <= dt.timedelta(minutes=15)
        # 15 minutes later (moved back in time rather than waiting)...
        row.locked_until = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    resp = client.login(*OFFICER)
    assert resp.status_code == 303
    assert client.get("/inbox").status_code == 200
    # The other account was never affected; attempts and audit are recorded.
    reasons = [a.reason for a in _rows(db, ConsoleLoginAttempt)]
    assert reasons == ["bad_password"] * 4 + ["locked_now", "locked", "ok"]
    actions = [a.action for a in _rows(db, ConsoleAuditLog)]
    assert actions.count("login_failed") == 4 and actions.count("login_locked") == 2
    db.dispose()


def test_unknown_user_gets_the_same_answer(server: ConsoleServer) -> None:
    client = Client(server.base_url)
    resp = client.login("nobody", "whatever-password")
    assert resp.status_code == 401 and "用户名或密码错误" in resp.text


def test_officer_cannot_manage_accounts_admin_can(
    officer: Client, admin: Client, settings: ConsoleSettings
) -> None:
    assert officer.get("/admin/users").status_code == 403
    assert officer.get("/admin/audit").status_code == 403
    assert "账号管理" not in officer.get("/inbox").text
    resp = officer.post_form(
        "/admin/users", {"username": "intruder", "password": "Intruder-2026!", "role": "admin"}
    )
    assert resp.status_code == 403
    db = ConsoleDB(settings)
    officer_row = next(u for u in _rows(db, ConsoleUser) if u.username == OFFICER[0])
    resp = officer.post_form(f"/admin/users/{officer_row.id}", {"action": "role", "role": "admin"})
    assert resp.status_code == 403
    assert {u.username: u.role for u in _rows(db, ConsoleUser)} == {
        OFFICER[0]: "officer",
        ADMIN[0]: "admin",
    }
    # The admin creates an account, which can log in; then disables it.
    resp = admin.post_form(
        "/admin/users",
        {"username": "officer2", "password": "Second-Officer-1", "role": "officer"},
        token_from="/admin/users",
    )
    assert resp.status_code == 303
    new = Client(officer.base)
    assert new.login("officer2", "Second-Officer-1").status_code == 303
    new_id = next(u.id for u in _rows(db, ConsoleUser) if u.username == "officer2")
    resp = admin.post_form(
        f"/admin/users/{new_id}", {"action": "deactivate"}, token_from="/admin/users"
    )
    assert resp.status_code == 303
    assert new.get("/inbox").status_code == 303  # its session ended
    # Weak passwords are refused.
    resp = admin.post_form(
        "/admin/users",
        {"username": "weak", "password": "123", "role": "officer"},
        token_from="/admin/users",
    )
    assert resp.status_code == 400 and "至少需要10个字符" in resp.text
    actions = [a.action for a in _rows(db, ConsoleAuditLog)]
    assert "forbidden" in actions and "user_create" in actions and "user_deactivate" in actions
    db.dispose()


def test_script_typed_by_a_citizen_is_shown_as_text(
    officer: Client, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    seed_standard(writer, settings)
    escaped = "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;户口本在哪打印"
    inbox = officer.get("/inbox").text
    assert escaped in inbox and SCRIPT_TEXT not in inbox
    key = find(r'href="/groups/([0-9a-f]{16})">&lt;script', inbox)
    for path in (f"/groups/{key}", "/conversations/conv-xss", "/trends", "/inbox?view=items"):
        page = officer.get(path).text
        assert "<script" not in page, path
        assert "&lt;script&gt;" in page, path
    api = officer.get("/api/inbox")
    assert api.headers["Content-Type"].startswith("application/json")


def test_passwords_are_stored_as_scrypt_hashes(settings: ConsoleSettings) -> None:
    stored = hash_password("Correct-Horse-1")  # default cost: N=2**17
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**17), "8", "1")
    assert verify_password("Correct-Horse-1", stored)
    assert not verify_password("Correct-Horse-2", stored)
    assert hash_password("Correct-Horse-1") != stored  # salted
    assert not verify_password("x", "plain-text")


@pytest.mark.parametrize("path", ["/groups/0123456789abcdef", "/conversations/nope"])
def test_unknown_objects_do_not_crash(officer: Client, path: str) -> None:
    resp = officer.get(path)
    assert resp.status_code in (200, 404)
    assert "服务器内部错误" not in resp.text
