"""Accounts: login throttled per account name and per client, the same answer for unknown
names, roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
import sqlalchemy as sa

from bot.console import accounts
from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.models import (
    ConsoleAuditLog,
    ConsoleLoginAttempt,
    ConsoleLoginThrottle,
    ConsoleUser,
)
from tests.console.conftest import ADMIN, OFFICER, PHONE
from tests.console.helpers import Client, ConsoleServer

PARAMS = {"key": "0123456789abcdef", "sender_id": "conv-lost-1", "id": "1"}


def _rows(db: ConsoleDB, model: type) -> list:
    with db.session() as session:
        return list(session.execute(sa.select(model)).scalars())


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


def _attempt(settings: ConsoleSettings, name: str, password: str, remote: str = "10.0.0.1") -> Any:
    db = ConsoleDB(settings)
    try:
        with db.session() as session:
            return accounts.authenticate(session, settings, name, password, remote)
    finally:
        db.dispose()


def test_unknown_names_lock_exactly_like_real_accounts(
    server: ConsoleServer, settings: ConsoleSettings
) -> None:
    """Probing names is useless: a made-up name says 'locked' after the same failures."""
    answers: dict[str, list[tuple[int, str]]] = {}
    for name in (OFFICER[0], "ghost-officer"):
        client = Client(server.base_url)
        seen = []
        for attempt in range(7):
            resp = client.login(name, f"wrong-password-{attempt}")
            message = re.search(r'<p class="error" role="alert">([^<]+)</p>', resp.text)
            assert message
            seen.append((resp.status_code, message.group(1)))
        answers[name] = seen
    assert answers[OFFICER[0]] == answers["ghost-officer"]
    assert [m for _, m in answers["ghost-officer"]][3:5] == [
        "用户名或密码错误。",
        "该账号因连续5次登录失败已被锁定，请15分钟后再试或联系管理员。",
    ]


def test_every_login_costs_one_scrypt_whatever_the_name(
    settings: ConsoleSettings, accounts_created: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same work for known, unknown, disabled and locked names: no timing difference to probe."""
    from bot.console import security

    accounts.dummy_hash(settings.scrypt_n)  # done at start-up by the console
    calls: list[str] = []
    real_scrypt = hashlib.scrypt

    def counting(*args: Any, **kwargs: Any) -> bytes:
        calls.append("scrypt")
        return real_scrypt(*args, **kwargs)

    monkeypatch.setattr(security.hashlib, "scrypt", counting)
    db = ConsoleDB(settings)
    with db.session() as session:
        accounts.create_user(session, settings, "retired", "Retired-Pass-2026", "officer")
        retired = session.execute(
            sa.select(ConsoleUser).where(ConsoleUser.username == "retired")
        ).scalar_one()
        retired.active = False
    db.dispose()
    cases = {
        "known, wrong password": (OFFICER[0], "wrong-password-1"),
        "unknown": ("nobody-here", "wrong-password-1"),
        "disabled": ("retired", "Retired-Pass-2026"),
        "right password": (OFFICER[0], OFFICER[1]),
    }
    for label, (name, password) in cases.items():
        calls.clear()
        result = _attempt(settings, name, password)
        assert calls == ["scrypt"], label
        assert result.ok == (label == "right password"), label
    for _ in range(5):
        _attempt(settings, "nobody-here", "wrong")
        _attempt(settings, ADMIN[0], "wrong")
    for name in ("nobody-here", ADMIN[0]):
        calls.clear()
        result = _attempt(settings, name, ADMIN[1])
        assert calls == ["scrypt"] and result.locked, name


def test_one_client_cannot_keep_guessing_across_names(
    settings: ConsoleSettings, accounts_created: None
) -> None:
    settings.client_attempts = 6
    for i in range(6):  # six different names: no account reaches its own limit
        result = _attempt(settings, f"name-{i}", "wrong-password", remote="10.9.9.9")
        assert not result.ok and not result.throttled
    blocked = _attempt(settings, OFFICER[0], OFFICER[1], remote="10.9.9.9")
    assert not blocked.ok and blocked.throttled == "client"
    assert blocked.message == "登录尝试过于频繁，请15分钟后再试。"
    # Another client and the account itself are not affected.
    assert _attempt(settings, OFFICER[0], OFFICER[1], remote="10.1.1.1").ok


def test_throttled_client_gets_429_with_retry_after(
    server: ConsoleServer, settings: ConsoleSettings
) -> None:
    settings.client_attempts = 3
    client = Client(server.base_url)
    for i in range(3):
        assert client.login(f"guess-{i}", "wrong-password").status_code == 401
    resp = client.login(*OFFICER)
    assert resp.status_code == 429 and "登录尝试过于频繁" in resp.text
    assert resp.headers["Retry-After"] == "900"
    db = ConsoleDB(settings)
    reasons = [a.reason for a in _rows(db, ConsoleLoginAttempt)]
    actions = [a.action for a in _rows(db, ConsoleAuditLog)]
    db.dispose()
    assert reasons[-1] == "client_locked" and "login_throttled" in actions


def test_admin_unlocks_an_account(admin: Client, settings: ConsoleSettings) -> None:
    for _ in range(5):
        _attempt(settings, OFFICER[0], "wrong-password")
    assert _attempt(settings, OFFICER[0], OFFICER[1]).locked
    page = admin.get("/admin/users").text
    assert "已锁定至" in page
    db = ConsoleDB(settings)
    officer_id = next(u.id for u in _rows(db, ConsoleUser) if u.username == OFFICER[0])
    db.dispose()
    resp = admin.post_form(
        f"/admin/users/{officer_id}", {"action": "unlock"}, token_from="/admin/users"
    )
    assert resp.status_code == 303
    assert "已锁定至" not in admin.get("/admin/users").text
    assert _attempt(settings, OFFICER[0], OFFICER[1]).ok


def test_a_phone_number_typed_as_user_name_is_not_stored_whole(
    server: ConsoleServer, settings: ConsoleSettings
) -> None:
    Client(server.base_url).login(PHONE, "wrong-password")
    db = ConsoleDB(settings)
    stored = [a.username for a in _rows(db, ConsoleLoginAttempt)]
    stored += [a.username + (a.target or "") for a in _rows(db, ConsoleAuditLog)]
    db.dispose()
    assert stored and all(PHONE not in s for s in stored)
