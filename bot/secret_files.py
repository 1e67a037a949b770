"""Server secrets: from the environment, else generated once into a private file under ``var/``.

One place creates every local secret (the HTTP API token, the web-chat signing key, the action
server's shared secret, the key of phone hashes): a file is created atomically with mode 0600
in a 0700 directory and never rewritten; production sets the environment variables instead.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def secret_value(env_name: str, file_name: str | Path, var_dir: Path | None = None) -> str:
    """Return a secret: the environment variable if set, else the file's (created if missing).

    Args:
        env_name: environment variable that holds the secret in production.
        file_name: file under ``var/`` (or an absolute path) used when the variable is unset.
        var_dir: directory for relative file names (default: ``<project>/var``).

    Returns:
        The secret (at least 256 bits of entropy when generated).
    """
    from_env = os.environ.get(env_name, "").strip()
    if from_env:
        return from_env
    path = Path(file_name)
    if not path.is_absolute():
        path = (var_dir or PROJECT_ROOT / "var") / path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise RuntimeError(f"the secret file {path} is empty: delete it to generate a new one")
    return value


def make_private(var_dir: Path | None = None) -> None:
    """Keep what this process creates private, and tighten what is already under ``var/``.

    Sets the umask to 077 (new databases, logs and secrets: owner only), and makes ``var/``
    0700 and every file in it 0600.

    Args:
        var_dir: the directory (default: ``<project>/var``).
    """
    os.umask(0o077)
    directory = var_dir or PROJECT_ROOT / "var"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    for path in directory.rglob("*"):
        try:
            path.chmod(0o700 if path.is_dir() else 0o600)
        except OSError:  # vanished meanwhile, or not ours
            continue
