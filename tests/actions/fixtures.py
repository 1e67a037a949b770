"""Load saved tracker fixtures (tests/fixtures/trackers/*.json) as rasa_sdk Trackers."""

import json
from pathlib import Path

from rasa_sdk import Tracker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "trackers"


def load_tracker(name: str, **overrides) -> Tracker:
    state = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    state.update(overrides)
    return Tracker.from_dict(state)
