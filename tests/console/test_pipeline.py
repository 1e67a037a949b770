"""The request layer: login required everywhere, CSRF, strict headers, escaping, and no
malformed input that makes the console answer 5xx or show a stack trace."""

from __future__ import annotations

import re
import socket

import pytest
import sqlalchemy as sa

from bot.console.app import ROUTES
from bot.console.config import ConsoleSettings
from bot.console.db import ConsoleDB
from bot.console.models import (
    ConsoleAuditLog,
)
from tests.console.conftest import (
    ADMIN,
    FULL_ID,
    MASKED_ID,
    OFFICER,
    PHONE,
    SCRIPT_TEXT,
    seed_standard,
)
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
    from bot.db.models import CallbackRequest

    db = ConsoleDB(settings)
    assert [m.status for m in _rows(db, CallbackRequest)] == ["new"]
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


@pytest.mark.parametrize("path", ["/groups/0123456789abcdef", "/conversations/nope"])
def test_unknown_objects_do_not_crash(officer: Client, path: str) -> None:
    resp = officer.get(path)
    assert resp.status_code in (200, 404)
    assert "服务器内部错误" not in resp.text


# -- malformed input ----------------------------------------------------------------------------

TRACE_MARKERS = ("Traceback", 'File "', "Error:", "aiohttp/", "sqlalchemy", "Exception")
HUGE = "9" * 40
SQL = "1' OR '1'='1'; DROP TABLE console_users; --"
TRAVERSAL = "../../../../etc/passwd"
NESTED = "[" * 5000 + "]" * 5000

#: (method, path, form) sent by a logged-in admin with a valid CSRF token where a form is given.
MALFORMED: list[tuple[str, str, dict[str, str] | None]] = [
    ("GET", f"/inbox?page={HUGE}", None),
    ("GET", "/inbox?page=-3", None),
    ("GET", "/inbox?page=1e309", None),
    ("GET", "/inbox?from=0001-01-01&to=9999-12-31", None),
    ("GET", "/inbox?from=0000-00-00", None),
    ("GET", "/inbox?from=2026-02-30&to=not-a-date", None),
    ("GET", f"/inbox?q={SQL}", None),
    ("GET", "/inbox?q=%00%01%02%7f", None),
    ("GET", "/inbox?q=%ED%A0%80%F0%9F", None),  # a UTF-16 surrogate and a cut-off emoji
    ("GET", "/inbox?reason=fallback&reason[]=x&status=%00", None),
    ("GET", "/inbox?view=items&page=" + HUGE, None),
    ("GET", "/inbox?" + "&".join(f"k{i}=v" for i in range(500)), None),
    ("GET", "/groups/" + TRAVERSAL.replace("/", "%2F"), None),
    ("GET", "/groups/%00%00", None),
    ("GET", "/conversations/" + "%ED%A0%80", None),
    ("GET", "/conversations/" + "x" * 3000, None),
    ("GET", "/conversations/" + SQL.replace(" ", "%20"), None),
    ("GET", "/conversations/conv-lost-1?event=" + HUGE, None),
    ("GET", f"/items/{HUGE}/conversation", None),
    ("GET", "/items/-1/conversation", None),
    ("GET", "/messages/abc/conversation", None),
    ("GET", f"/messages?page={HUGE}&status={SQL}&overdue=%00", None),
    ("GET", f"/admin/audit?page={HUGE}&user={SQL}", None),
    ("GET", f"/api/inbox?page={HUGE}&from=0001-01-01", None),
    ("GET", "/static/..%2F..%2Fapp.py", None),
    ("GET", "/static/console.css/../../config.py", None),
    ("POST", f"/messages/{HUGE}", {"status": "closed", "notes": "x"}),
    ("POST", "/messages/1", {"status": SQL, "notes": "\x00" * 100}),
    ("POST", f"/messages/{HUGE}/reveal", {}),
    ("POST", f"/admin/users/{HUGE}", {"action": "unlock"}),
    ("POST", "/admin/users/1", {"action": "role", "role": SQL}),
    ("POST", "/admin/users", {"username": TRAVERSAL, "password": "x" * 20000, "role": "root"}),
    ("POST", "/groups/0123456789abcdef/review", {"item_id": HUGE, "action": "annotate"}),
    ("POST", "/groups/0123456789abcdef/review", {"item_id": "-1", f"text_{HUGE}": "x"}),
    ("POST", "/groups/0123456789abcdef/review", {"action": "annotate", "intent": NESTED}),
    ("POST", "/login", {"username": "\ud800" * 10, "password": "\x00"}),
    ("POST", "/login", {"username": SQL, "password": SQL, "next": "//evil.example/"}),
    ("PUT", "/inbox", None),
    ("DELETE", "/admin/users/1", None),
    ("PATCH", "/messages/1", None),
]


def _no_trace(text: str) -> None:
    for marker in TRACE_MARKERS:
        assert marker not in text, marker


@pytest.mark.parametrize(("method", "path", "form"), MALFORMED)
def test_malformed_input_gets_a_polite_answer_never_a_500(
    admin: Client,
    writer: TrackerWriter,
    settings: ConsoleSettings,
    method: str,
    path: str,
    form: dict[str, str] | None,
) -> None:
    if form is not None:
        token = admin.csrf("/admin/users")
        data = {k: v.encode("utf-8", "surrogatepass") for k, v in form.items()}
        resp = admin.http.request(
            method,
            admin.base + path,
            data={**data, "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
    else:
        resp = admin.http.request(method, admin.base + path, allow_redirects=False, timeout=30)
    assert resp.status_code < 500, (path, resp.status_code, resp.text[:300])
    _no_trace(resp.text)
    if path.startswith("/api/"):
        assert resp.headers["Content-Type"].startswith("application/json")
    # The console is still there and the admin still logged in.
    assert admin.get("/inbox").status_code == 200


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except TimeoutError:
            pass
    return out


END = b"\r\n\r\n"
RAW: list[tuple[str, bytes, int]] = [
    (
        "huge header",
        b"GET /login HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n",
        400,
    ),
    (
        "huge cookie",
        b"GET /inbox HTTP/1.1\r\nHost: x\r\nCookie: a=" + b"b" * 20_000 + b"\r\n\r\n",
        400,
    ),
    ("NUL in the path", b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("not HTTP", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n", 400),
    (
        "broken multipart",
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\n"
        b"Content-Length: 19\r\nConnection: close\r\n\r\n--zz\r\nbroken-------",
        400,
    ),
    (
        "1 MB body",
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 1048576\r\nConnection: close\r\n\r\n" + b"a=" + b"b" * 1048574,
        413,
    ),
    (
        "deeply nested JSON",
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(NESTED)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + NESTED.encode(),
        403,
    ),
    (
        "invalid UTF-8 form",
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded; "
        b"charset=utf-8\r\nContent-Length: 12\r\nConnection: close\r\n\r\nusername=\xff\xfe\xfd",
        400,
    ),
    (
        "bad chunked body",
        b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        400,
    ),
]


@pytest.mark.parametrize(("name", "data", "status"), RAW, ids=[r[0] for r in RAW])
def test_broken_requests_get_a_4xx_without_details(
    server: ConsoleServer, name: str, data: bytes, status: int
) -> None:
    answer = _raw(server.port, data)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and int(head.split()[1]) == status, head[:200]
    _no_trace(body.decode("utf-8", "replace"))
    assert Client(server.base_url).get("/login").status_code == 200


def test_an_unreachable_database_answers_503_not_a_trace(
    server: ConsoleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(server.console.db, "session", down)
    client = Client(server.base_url)
    page = client.get("/inbox")
    assert page.status_code == 503 and "数据库暂时不可用" in page.text
    _no_trace(page.text)
    api = client.get("/api/stats")
    assert api.status_code == 503 and api.json() == {"error": "数据库暂时不可用，请稍后再试。"}
    monkeypatch.undo()
    assert client.get("/login").status_code == 200


def test_every_page_masks_numbers_the_stored_text_still_holds(
    officer: Client, writer: TrackerWriter, settings: ConsoleSettings
) -> None:
    """Text stored before the masker knew a form (or by another process) is masked on output."""
    from bot.console.models import ConsoleCluster, ConsoleItem

    seed_standard(writer, settings)
    officer.get("/inbox")
    db = ConsoleDB(settings)
    with db.session() as session:
        item = session.execute(sa.select(ConsoleItem).limit(1)).scalar_one()
        item.text = f"身份证{FULL_ID}电话{PHONE}"
        item.intent = f"faq/{PHONE}"
        cluster = session.get(ConsoleCluster, item.cluster_key)
        cluster.label = f"电话{PHONE}"
        key, item_id = item.cluster_key, item.id
    db.dispose()
    pages = [
        "/inbox",
        "/inbox?view=items",
        f"/groups/{key}",
        f"/items/{item_id}/conversation",
        "/trends",
        "/api/inbox",
        f"/inbox?q={PHONE}",
    ]
    for path in pages:
        text = officer.get(path).text
        assert FULL_ID not in text and PHONE not in text, path
    assert MASKED_ID in officer.get("/inbox?view=items").text
