"""Files the console writes: owner-only folders and database files, atomic private writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create a folder readable by its owner only (an existing one is tightened)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR)
    return path


def make_private(path: Path) -> None:
    """Restrict a file (and SQLite's ``-wal``/``-shm``/``-journal`` companions) to its owner."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            candidate.chmod(PRIVATE_FILE)


def write_atomic(path: Path, content: str) -> None:
    """Replace ``path`` with ``content`` in one step (never half-written); the file is 0600.

    Args:
        path: the file to write (its folder is created if missing).
        content: the new text (UTF-8).

    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
