"""Retrain from the console: background training with progress, then the new model is loaded
into the running Rasa server through its HTTP API (``PUT /model``), without a restart."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from bot.console.config import ConsoleSettings
from tests.console.conftest import ADMIN, OFFICER
from tests.console.helpers import Client, ConsoleServer, StubRasa

TOKEN = "rasa-api-token-for-tests"
FAKE_TRAIN = """
import pathlib, sys, time
print('Starting to train component DIETClassifier', flush=True)
for p in (10, 50, 90):
    print(f'Epochs: {p}%|###| {p}/100', flush=True); time.sleep(0.3)
models = pathlib.Path('models'); models.mkdir(exist_ok=True)
(models / '20261202-120000-new-model.tar.gz').write_bytes(b'model')
print('Your Rasa model is trained', flush=True)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


def _configure(settings: ConsoleSettings, rasa_url: str, exit_code: int = 0) -> None:
    stub = settings.project_dir / "fake_train.py"
    stub.write_text(FAKE_TRAIN, encoding="utf-8")
    settings.retrain_command = f"{sys.executable} {stub} {exit_code}"
    settings.rasa_url = rasa_url
    settings.rasa_token = TOKEN


def _wait_until_done(client: Client, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    page = client.get("/retrain").text
    while ("训练中" in page or "加载中" in page) and time.monotonic() < deadline:
        time.sleep(0.3)
        page = client.get("/retrain").text
    return page


@pytest.fixture()
def rasa() -> StubRasa:
    server = StubRasa(TOKEN).start()
    yield server
    server.stop()


def test_admin_retrains_and_the_running_bot_loads_the_new_model(
    settings: ConsoleSettings, accounts_created: None, rasa: StubRasa
) -> None:
    _configure(settings, rasa.base_url)
    server = ConsoleServer(settings).start()
    try:
        admin = Client(server.base_url)
        admin.login(*ADMIN)
        assert "开始训练并加载新模型" in admin.get("/retrain").text
        assert admin.post_form("/retrain", {}, "/retrain").status_code == 303
        page = admin.get("/retrain").text
        assert "训练中" in page and 'http-equiv="refresh"' in page
        assert admin.post_form("/retrain", {}, "/inbox").status_code == 200  # one at a time
        page = _wait_until_done(admin)
        assert "成功" in page and "Your Rasa model is trained" in page and "Epochs: 90%" in page
        assert "已加载" in page and "无需重启" in page
    finally:
        server.stop()
    logs = list((settings.var_dir / "retrain").glob("job-*.log"))
    assert logs and all(p.stat().st_mode & 0o777 == 0o600 for p in logs)
    model = settings.project_dir / "models" / "20261202-120000-new-model.tar.gz"
    assert rasa.loads == [{"model_file": str(model.resolve())}]
    assert rasa.model_file == model.name


def test_officers_see_training_but_cannot_start_it(
    settings: ConsoleSettings, accounts_created: None, rasa: StubRasa
) -> None:
    _configure(settings, rasa.base_url)
    server = ConsoleServer(settings).start()
    try:
        officer = Client(server.base_url)
        officer.login(*OFFICER)
        page = officer.get("/retrain").text
        assert "联系管理员" in page and "开始训练" not in page
        assert officer.post_form("/retrain", {}, "/retrain").status_code == 403
    finally:
        server.stop()
    assert rasa.loads == []
    assert not (settings.project_dir / "models").exists()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("rasa_down", "无法连接 Rasa 服务器"),
        ("wrong_token", "令牌无效"),
        ("load_fails", "返回 500"),
    ],
)
def test_a_model_the_bot_could_not_load_is_reported_not_hidden(
    settings: ConsoleSettings, accounts_created: None, case: str, expected: str
) -> None:
    rasa = StubRasa(TOKEN, load_status=500 if case == "load_fails" else 204).start()
    url = rasa.base_url
    if case == "rasa_down":
        rasa.stop()
    _configure(settings, url)
    if case == "wrong_token":
        settings.rasa_token = "not-the-token"
    server = ConsoleServer(settings).start()
    try:
        admin = Client(server.base_url)
        admin.login(*ADMIN)
        admin.post_form("/retrain", {}, "/retrain")
        page = _wait_until_done(admin)
    finally:
        server.stop()
        if case != "rasa_down":
            rasa.stop()
    assert "未加载" in page and expected in page and "重启机器人后生效" in page
    assert TOKEN not in page


def test_a_failed_training_loads_nothing(
    settings: ConsoleSettings, accounts_created: None, rasa: StubRasa
) -> None:
    _configure(settings, rasa.base_url, exit_code=1)
    server = ConsoleServer(settings).start()
    try:
        admin = Client(server.base_url)
        admin.login(*ADMIN)
        admin.post_form("/retrain", {}, "/retrain")
        page = _wait_until_done(admin)
    finally:
        server.stop()
    assert "失败" in page and "退出码 1" in page
    assert rasa.loads == []


def test_token_comes_from_the_environment_or_the_generated_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSOLE_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("RASA_PORT", "5999")
    monkeypatch.delenv("CONSOLE_RASA_URL", raising=False)
    assert ConsoleSettings.from_env().rasa_token == ""
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "rasa_auth_token").write_text("from-file\n", encoding="utf-8")
    settings = ConsoleSettings.from_env()
    assert settings.rasa_token == "from-file"
    assert settings.rasa_url == "http://127.0.0.1:5999"
    monkeypatch.setenv("RASA_AUTH_TOKEN", "from-env")
    assert ConsoleSettings.from_env().rasa_token == "from-env"
