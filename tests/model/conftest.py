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
