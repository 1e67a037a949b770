"""nginx's generated configuration, run by the real nginx in front of two tiny servers.

What a citizen notices: when one replica dies, the chat is answered by the other, even if
the health monitor had just taken that other one out of rotation for a slow check.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cluster import nginx
from bot.cluster.settings import ClusterSettings
from tests.cluster.services import free_block, free_port, missing


class _Replica(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({"answered_by": self.server.server_address[1]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _settings(tmp_path: Path) -> ClusterSettings:
    rasa, actions = free_block(2), free_block(2)
    return ClusterSettings(
        host="127.0.0.1",
        port=free_port(),
        rasa_ports=(rasa, rasa + 1),
        action_ports=(actions, actions + 1),
        actions_lb_port=free_port(),
        console_port=free_port(),
        workdir=tmp_path,
    )


def _serve(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Replica)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _post(url: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=b'{"message": "hi"}', headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


@pytest.fixture
def running_nginx(tmp_path: Path) -> Iterator[ClusterSettings]:
    if not Path("/usr/sbin/nginx").exists():
        missing("nginx (make nginx)")
    yield _settings(tmp_path)


def _start(settings: ClusterSettings, healthy: dict[int, bool]) -> subprocess.Popen[bytes]:
    nginx.write_config(settings, healthy)
    proc = subprocess.Popen(nginx.command(settings), stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{settings.port}/webhooks/webchat/"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
        except urllib.error.HTTPError:
            return proc  # nginx answers (the page itself is not served by the tiny replicas)
        except OSError:
            time.sleep(0.05)
        else:
            return proc
    proc.kill()
    raise AssertionError(f"nginx did not start: {proc.stderr.read() if proc.stderr else ''}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_an_unhealthy_replica_answers_when_the_healthy_one_is_dead(running_nginx) -> None:
    settings = running_nginx
    dead, slow = settings.rasa_ports
    replica = _serve(slow)  # alive, but the monitor took it out after slow checks
    proc = _start(settings, {dead: True, slow: False})
    try:
        url = f"http://127.0.0.1:{settings.port}/webhooks/webchat/message"
        for _ in range(4):
            status, body = _post(url)
            assert (status, body.get("answered_by")) == (200, slow)
    finally:
        _stop(proc)
        replica.shutdown()


def test_an_unhealthy_replica_gets_nothing_while_a_healthy_one_answers(running_nginx) -> None:
    settings = running_nginx
    good, out = settings.rasa_ports
    servers = [_serve(good), _serve(out)]
    proc = _start(settings, {good: True, out: False})
    try:
        url = f"http://127.0.0.1:{settings.port}/webhooks/webchat/message"
        answered = {_post(url)[1].get("answered_by") for _ in range(6)}
        assert answered == {good}
    finally:
        _stop(proc)
        for server in servers:
            server.shutdown()


def test_both_replicas_dead_is_a_polite_json_503(running_nginx) -> None:
    settings = running_nginx
    proc = _start(settings, {p: False for p in settings.rasa_ports})
    try:
        status, body = _post(f"http://127.0.0.1:{settings.port}/webhooks/webchat/message")
        assert status == 503 and body["message"] == "系统繁忙，请稍后再试。"
    finally:
        _stop(proc)
