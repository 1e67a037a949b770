"""Fixtures for tests that need a trained model (marked ``needs_model``)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The model under test: $TEST_MODEL (set by scripts/test.sh) or the newest in models/."""
    env = os.environ.get("TEST_MODEL")
    if env:
        path = Path(env)
        assert path.exists(), f"TEST_MODEL={env} does not exist"
        return path
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.skip("no trained model: run `make train` (make test trains one itself)")
    return models[-1]


def clear_lookup_audit(database_url: str) -> None:
    """Forget every audited lookup of a test bot (the limits start from nothing)."""
    from sqlalchemy import create_engine, delete

    from bot.db.models import LookupAudit

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(delete(LookupAudit))
    engine.dispose()


@pytest.fixture()
def fresh_limits(bot):  # type: ignore[no-untyped-def]
    """Every web-chat test comes from 127.0.0.1: start and leave with no failed lookups."""
    clear_lookup_audit(bot.database_url)
    yield
    clear_lookup_audit(bot.database_url)


@pytest.fixture(scope="module")
def fresh_limits_module(rasa_bot):  # type: ignore[no-untyped-def]
    """:func:`fresh_limits` for a whole module."""
    rasa_bot.ensure_running()
    clear_lookup_audit(rasa_bot.database_url)
    yield
    clear_lookup_audit(rasa_bot.database_url)
