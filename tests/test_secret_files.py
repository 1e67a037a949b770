"""bot.secret_files: secrets from the environment or generated once, private files under var/."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.secret_files import make_private, secret_value


def test_a_generated_secret_is_private_and_stable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TEST_SECRET_X", raising=False)
    first = secret_value("TEST_SECRET_X", "x_secret", tmp_path / "var")
    assert len(first) >= 43
    path = tmp_path / "var" / "x_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    assert secret_value("TEST_SECRET_X", "x_secret", tmp_path / "var") == first
    monkeypatch.setenv("TEST_SECRET_X", "from-the-environment")
    assert secret_value("TEST_SECRET_X", "x_secret", tmp_path / "var") == "from-the-environment"


def test_make_private_tightens_var_and_new_files(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    old = var / "ehuzheng.db"
    old.write_text("x")
    old.chmod(0o644)
    previous = os.umask(0o022)
    try:
        make_private(var)
        assert stat.S_IMODE(old.stat().st_mode) == 0o600
        assert stat.S_IMODE(var.stat().st_mode) == 0o700
        new = var / "tracker.db"
        new.write_text("y")  # created after: the umask makes it private
        assert stat.S_IMODE(new.stat().st_mode) == 0o600
    finally:
        os.umask(previous)


def test_an_emptied_secret_file_is_an_error_not_an_empty_secret(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("TEST_SECRET_Y", raising=False)
    (tmp_path / "y").write_text("")
    with pytest.raises(RuntimeError):
        secret_value("TEST_SECRET_Y", tmp_path / "y")
