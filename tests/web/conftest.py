"""Fixtures of the web-chat tests: the stub server and a headless Chromium.

- ``stub_server``: the web-chat channel inside a real Rasa/Sanic app with a scripted agent
  (``tests/web/stub_server.py``); needs no model, starts in seconds. Session-scoped and
  restartable: a test may stop it to see how the page copes.
- ``rasa_bot`` / ``bot`` (the real bot with a trained model) come from ``tests/servers.py``.
- ``browser`` / ``page``: Debian's ``/usr/bin/chromium`` driven by Playwright (no browser
  download), a 375 px wide mobile viewport, Chinese locale.
- ``js_modules``: the JavaScript test tools of ``tests/web/js/`` (WeChat's miniprogram-simulate,
  the stock rasa-webchat widget), installed with ``npm ci`` from the committed lock file when
  the lock changed. Without node/npm the tests are skipped, or fail under ``CI``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import (  # noqa: F401  (re-exported for the test modules)
    ChatServer,
    ServerProcess,
    free_port,
    http_ok,
    migrated_sqlite,
)

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "tests" / "web" / "js"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``tests/artifacts/`` (git-ignored): screenshots of the main states."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def stub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    """The web-chat channel in a real Sanic app with a scripted agent (no model needed)."""
    tmp = tmp_path_factory.mktemp("webchat_stub")
    database_url = migrated_sqlite(tmp, "stub.db")
    secret = secrets.token_urlsafe(32)
    port = free_port()
    widget_origin = f"http://localhost:{free_port()}"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        WEBCHAT_SECRET=secret,
        SOCKETIO_CORS_ORIGINS=widget_origin,
        PYTHONPATH=str(ROOT),
    )
    server = ServerProcess(
        name="web-chat stub server",
        cmd=[sys.executable, str(ROOT / "tests" / "web" / "stub_server.py"), str(port)],
        env=env,
        ready_url=f"http://127.0.0.1:{port}/webhooks/webchat/health",
        log_path=tmp / "stub.log",
        timeout=90,
    )
    chat = ChatServer(
        base_url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        secret=secret,
        servers=[server],
        api_token="stub-api-token",
        widget_origin=widget_origin,
    )
    chat.ensure_running()
    yield chat
    chat.stop_all()


@pytest.fixture()
def stub(stub_server: ChatServer) -> ChatServer:
    """The stub server, started again if a previous test stopped it."""
    stub_server.ensure_running()
    return stub_server


# Browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium under Playwright (never downloads a browser).

    Module-scoped: Playwright's sync API keeps an event loop running while it is open, which
    would break asyncio tests in later modules.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (empty localStorage) with a 375×740 phone viewport."""
    ctx = browser.new_context(
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        user_agent=(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47 miniProgram"
        ),
    )
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context: Any) -> Iterator[Any]:
    """A page; JavaScript errors on it fail the test."""
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    assert not errors, f"JavaScript errors on the page: {errors}"


# JavaScript tools


@pytest.fixture(scope="session")
def js_modules() -> Path:
    """``tests/web/js/node_modules``, installed with ``npm ci`` when the lock file changed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = "node and npm are needed for the mini-program and widget tests"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    modules = JS_DIR / "node_modules"
    lock = hashlib.sha256((JS_DIR / "package-lock.json").read_bytes()).hexdigest()
    stamp = modules / ".installed-lock"
    if not stamp.exists() or stamp.read_text(encoding="utf-8") != lock:
        subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=JS_DIR,
            check=True,
            timeout=900,
        )
        stamp.write_text(lock, encoding="utf-8")
    return modules


def run_node_tests(test_file: str, env: dict[str, str], timeout: float = 600) -> str:
    """Run one ``node --test`` file of ``tests/web/js``; fail with its report if a test fails."""
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "--test", "--test-reporter=spec", test_file],
        cwd=JS_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    report = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"{test_file} failed:\n{report[-8000:]}", pytrace=False)
    return report
