"""Fuzzing the real running server: generated requests to every public endpoint.

hypothesis generates at least :data:`PER_ENDPOINT` requests for each public route (headers,
tokens, content types, JSON of every shape and depth, invalid UTF-8, lone surrogates, huge
values, path traversal in parameters) and checks every answer: no 5xx, no stack trace or
internal detail in the body, JSON for API routes. Afterwards the server must still answer and
its processes must still run.
"""

from __future__ import annotations

import collections
import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.needs_model

PER_ENDPOINT = 2000
COUNTS: collections.Counter[str] = collections.Counter()
LEAKS = ("Traceback", 'File "/', "sqlalchemy", "Exception", "rasa.core", "sanic.")

FUZZ = settings(
    max_examples=PER_ENDPOINT,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

text = st.text(max_size=40) | st.sampled_from(
    ["", "\ud800", "\x00", '/inform{"x":1}', "../../etc/passwd", "' OR 1=1 --", "户" * 600]
)
# Query strings are sent encoded, so they cannot hold lone surrogates (bodies can).
param_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
json_scalar = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | text
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def body(draw: st.DrawFn, fields: dict[str, st.SearchStrategy]) -> bytes:
    """A request body: mostly JSON objects near the expected shape, sometimes anything."""
    kind = draw(st.integers(0, 9))
    if kind <= 5:
        obj = {k: draw(v | json_value) for k, v in fields.items() if draw(st.booleans())}
        obj.update(draw(st.dictionaries(text, json_value, max_size=3)))
        return json.dumps(obj, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if kind == 6:
        depth = draw(st.integers(1, 5000))
        return b"[" * depth + b"]" * draw(st.integers(0, depth))
    if kind == 7:
        return draw(st.binary(max_size=200))
    if kind == 8:
        return json.dumps(draw(json_value)).encode("utf-8", "surrogatepass")
    return b"{" + b'"message": "' + b"a" * draw(st.integers(0, 70_000)) + b'"}'


def headers(draw: st.DrawFn, token: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    choice = draw(st.integers(0, 4))
    if choice == 0 and token:
        out["Authorization"] = f"Bearer {token}"
    elif choice == 1:
        out["Authorization"] = draw(st.sampled_from(["Bearer ", "Bearer x.y.z.w", "Basic a", "v1"]))
    elif choice == 2 and token:
        parts = token.split(".")
        parts[draw(st.integers(0, 3))] = draw(st.text("abcXYZ019-_", max_size=30))
        out["Authorization"] = "Bearer " + ".".join(parts)
    out["Content-Type"] = draw(
        st.sampled_from(
            ["application/json", "application/json; charset=utf-8", "text/plain", "", "a/b"]
        )
    )
    if draw(st.integers(0, 20)) == 0:
        out["X-Long"] = "h" * draw(st.integers(0, 12_000))
    return out


def check(resp: requests.Response, route: str, api: bool = True) -> None:
    COUNTS[route] += 1
    assert resp.status_code < 500, (route, resp.status_code, resp.text[:300])
    for leak in LEAKS:
        assert leak not in resp.text, (route, leak, resp.text[:300])
    if api and resp.status_code != 301:
        assert resp.headers.get("content-type", "").startswith("application/json"), route


@pytest.fixture(scope="module")
def fuzz_target(rasa_bot, fresh_limits_module):  # type: ignore[no-untyped-def]
    bot = rasa_bot
    http = requests.Session()
    session = http.post(f"{bot.base_url}/webhooks/webchat/session", timeout=10).json()
    yield bot, http, session["token"]
    alive = http.get(f"{bot.base_url}/webhooks/webchat/health", timeout=10)
    assert alive.status_code == 200 and alive.json()["ready"] is True
    assert all(server.running() for server in bot.servers)
    print("\nfuzz requests per endpoint:", dict(COUNTS))
    assert all(count >= PER_ENDPOINT for count in COUNTS.values())


def _post(target, route: str, data: st.DataObject, fields: dict[str, st.SearchStrategy]):  # type: ignore[no-untyped-def]
    bot, http, token = target
    resp = http.post(
        f"{bot.base_url}/webhooks/webchat{route}",
        data=data.draw(body(fields)),
        headers=headers(data.draw, token),
        params=data.draw(st.dictionaries(PARAM_NAMES, param_text, max_size=2)),
        timeout=60,
    )
    check(resp, route)


PARAM_NAMES = st.sampled_from(["token", "x", "page"])
MESSAGE_FIELDS = {
    "message": text
    | st.sampled_from(["你好", "身份证丢了", "/greet", "/leave_message", "查进度SL202611050123"]),
    "title": text,
}


@FUZZ
@given(data=st.data())
def test_fuzz_message(fuzz_target, data):
    _post(fuzz_target, "/message", data, MESSAGE_FIELDS)


@FUZZ
@given(data=st.data())
def test_fuzz_feedback(fuzz_target, data):
    fields = {
        "message_id": text | st.integers(),
        "rating": st.sampled_from(["up", "down", "", "x"]),
    }
    _post(fuzz_target, "/feedback", data, fields)


@FUZZ
@given(data=st.data())
def test_fuzz_session(fuzz_target, data):
    _post(fuzz_target, "/session", data, {})


@FUZZ
@given(data=st.data())
def test_fuzz_restart(fuzz_target, data):
    _post(fuzz_target, "/restart", data, {})


@FUZZ
@given(data=st.data())
def test_fuzz_history(fuzz_target, data):
    bot, http, token = fuzz_target
    resp = http.get(
        f"{bot.base_url}/webhooks/webchat/history",
        headers=headers(data.draw, token),
        params=data.draw(st.dictionaries(param_text, param_text, max_size=3)),
        timeout=30,
    )
    check(resp, "/history")


@FUZZ
@given(data=st.data())
def test_fuzz_health_and_page(fuzz_target, data):
    bot, http, _ = fuzz_target
    path = data.draw(st.sampled_from(["/webhooks/webchat/health", "/webhooks/webchat/", "/"]))
    resp = http.get(bot.base_url + path, headers=headers(data.draw, None), timeout=30)
    check(resp, "/health, page, root", api=path.endswith("health"))


@FUZZ
@given(data=st.data())
def test_fuzz_static(fuzz_target, data):
    bot, http, _ = fuzz_target
    name = data.draw(
        st.sampled_from(["chat.js", "chat.css", "..%2f..%2fdomain.yml", "%2e%2e/x", "a.js%00"])
        | st.text(alphabet="abc./%\\_-09", min_size=1, max_size=30)
    )
    resp = http.get(f"{bot.base_url}/webhooks/webchat/static/{name}", timeout=30)
    check(resp, "/static", api=resp.status_code != 200)


@FUZZ
@given(data=st.data())
def test_fuzz_unknown_routes_and_methods(fuzz_target, data):
    bot, http, _ = fuzz_target
    path = "/" + data.draw(st.text(alphabet="abcw/._-%", max_size=40))
    method = data.draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    resp = http.request(method, bot.base_url + path, data=data.draw(st.binary(max_size=50)))
    check(resp, "unknown routes", api=False)
