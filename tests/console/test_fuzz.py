"""Fuzzing the running console (hypothesis): generated requests to every route, as an anonymous
client, an officer and an admin, with and without a valid CSRF token. Whatever is sent, the
console answers below 500, never shows a stack trace, and keeps serving.

About 2,100 requests in ~1-2 minutes on the 2-core machine (``derandomize``: the same requests
every run, so a failure is reproducible).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.console import accounts
from bot.console.app import ROUTES
from bot.console.db import ConsoleDB
from tests.console.conftest import ADMIN, OFFICER, copy_project, make_settings, seed_standard
from tests.console.helpers import CSRF_RE, Client, ConsoleServer, TrackerWriter

GET_EXAMPLES = 1100
POST_EXAMPLES = 1000
#: Deterministic (the same requests every run), no example database on disk.
SETTINGS: dict[str, Any] = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
TRACE_MARKERS = ("Traceback", 'File "', "aiohttp/", "sqlalchemy", "Exception")
SPECIAL = [
    "",
    "0",
    "-1",
    "9" * 40,
    "1e309",
    "NaN",
    "../../../../etc/passwd",
    "..%2F..%2Fsecret.key",
    "1' OR '1'='1",
    "'; DROP TABLE console_users; --",
    "<script>alert(1)</script>",
    "%00",
    "%ED%A0%80",
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "[" * 200,
    "13812345678",
    "11010519491231002X",
    "faq/id_card_fees",
    "annotate",
    "not_useful",
    "deactivate",
    "called_back",
]
PARAM_NAMES = [
    "page",
    "from",
    "to",
    "reason",
    "status",
    "q",
    "view",
    "sort",
    "event",
    "user",
    "notice",
    "next",
    "intent",
    "new",
    "back",
    "overdue",
    "item_id",
    "action",
    "text_1",
    "notes",
    "role",
    "username",
    "password",
]


@dataclass
class Fuzz:
    """The running console and its clients."""

    server: ConsoleServer
    clients: dict[str, Client]
    sent: list[int] = field(default_factory=list)

    def token(self, who: str) -> str:
        """The CSRF token of a client's session (or of the login form)."""
        page = self.clients[who].get("/login" if who == "anon" else "/inbox").text
        match = CSRF_RE.search(page)
        return match.group(1) if match else ""


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    tmp = tmp_path_factory.mktemp("fuzz")
    # The fuzzer's failed logins must not lock its own client out.
    conf = make_settings(tmp, copy_project(tmp), client_attempts=10**6)
    writer = TrackerWriter(conf.tracker_url)
    seed_standard(writer, conf)
    writer.close()
    db = ConsoleDB(conf)
    with db.session() as session:
        for i in range(50):  # the real accounts get ids the fuzzer is unlikely to pick
            accounts.create_user(session, conf, f"filler{i:02d}", "Filler-Pass-2026", "officer")
        accounts.create_user(session, conf, *OFFICER, "officer")
        accounts.create_user(session, conf, *ADMIN, "admin")
    db.dispose()
    server = ConsoleServer(conf).start()
    clients = {"anon": Client(server.base_url)}
    for who, (name, password) in (("officer", OFFICER), ("admin", ADMIN)):
        clients[who] = Client(server.base_url)
        assert clients[who].login(name, password).status_code == 303
    state = Fuzz(server, clients)
    yield state
    try:
        assert Client(server.base_url).get("/login").status_code == 200  # still serving
        assert len(state.sent) >= GET_EXAMPLES + POST_EXAMPLES
        # The fuzzer got past the door: views ran and changed things, not only the login page.
        statuses = {code: state.sent.count(code) for code in set(state.sent)}
        print(f"fuzz: {len(state.sent)} requests, statuses {sorted(statuses.items())}")
        assert statuses.get(200, 0) > len(state.sent) // 5
        assert statuses.get(303, 0) > 50 and statuses.get(400, 0) > 50
    finally:
        server.stop()


def _encoded(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return quote_from_bytes(value, safe="")
    if value.startswith("%"):
        return value
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


values = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.binary(max_size=30),
)
params = st.dictionaries(
    st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=10)), values, max_size=6
)


def _path(route_path: str, fill: list[Any]) -> str:
    parts = route_path.split("/")
    out, i = [], 0
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            out.append(_encoded(fill[i % len(fill)]) if fill else "x")
            i += 1
        else:
            out.append(part)
    return "/".join(out)


def _check(fuzz: Fuzz, resp: requests.Response, what: str) -> None:
    fuzz.sent.append(resp.status_code)
    assert resp.status_code < 500, (what, resp.status_code, resp.text[:300])
    for marker in TRACE_MARKERS:
        assert marker not in resp.text, (what, marker)


get_routes = sorted({r.path for r in ROUTES if r.method == "GET"}) + ["/{tail}", "/static/{x}"]
post_routes = sorted({r.path for r in ROUTES if r.method == "POST"} - {"/logout"})


@settings(max_examples=GET_EXAMPLES, **SETTINGS)
@given(
    who=st.sampled_from(["anon", "officer", "admin"]),
    route=st.sampled_from(get_routes),
    fill=st.lists(values, max_size=2),
    query=params,
)
def test_generated_get_requests(
    fuzz: Fuzz, who: str, route: str, fill: list[Any], query: dict[Any, Any]
) -> None:
    path = _path(route, fill)
    qs = "&".join(f"{_encoded(k)}={_encoded(v)}" for k, v in query.items())
    url = f"{path}?{qs}" if qs else path
    resp = fuzz.clients[who].get(url)
    _check(fuzz, resp, f"{who} GET {url}")


@settings(max_examples=POST_EXAMPLES, **SETTINGS)
@given(
    who=st.sampled_from(["anon", "officer", "admin"]),
    route=st.sampled_from(post_routes),
    fill=st.lists(values, max_size=2),
    form=params,
    with_token=st.booleans(),
    as_multipart=st.booleans(),
)
def test_generated_post_requests(
    fuzz: Fuzz,
    who: str,
    route: str,
    fill: list[Any],
    form: dict[Any, Any],
    with_token: bool,
    as_multipart: bool,
) -> None:
    path = _path(route, fill)
    body: dict[str, Any] = {
        (k if isinstance(k, str) else "k").encode("utf-8", "surrogatepass"): (
            v if isinstance(v, bytes) else v.encode("utf-8", "surrogatepass")
        )
        for k, v in form.items()
    }
    if with_token:
        body[b"csrf_token"] = fuzz.token(who).encode()
    client = fuzz.clients[who]
    if as_multipart:
        files = {k.decode("utf-8", "replace"): (None, v) for k, v in body.items()}
        resp = client.http.post(client.base + path, files=files, allow_redirects=False, timeout=30)
    else:
        resp = client.http.post(client.base + path, data=body, allow_redirects=False, timeout=30)
    _check(fuzz, resp, f"{who} POST {path} {form!r}"[:500])
