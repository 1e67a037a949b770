"""The cached action-response validator behaves like Rasa's own jsonschema.validate."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_speedups

GOOD = {
    "events": [{"event": "slot", "name": "county", "value": "固安县"}],
    "responses": [{"text": "您好", "buttons": [{"title": "预约", "payload": "/book_appointment"}]}],
}


@pytest.fixture()
def action() -> RemoteAction:
    rasa_speedups.install()
    return RemoteAction("action_find_window", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_a_valid_response_passes(action: RemoteAction) -> None:
    assert action._validate_action_result(GOOD) is True


@pytest.mark.parametrize(
    "bad",
    [
        {"events": "not a list", "responses": []},
        {"events": [{"name": "county"}], "responses": []},  # an event without its type
    ],
)
def test_an_invalid_response_is_rejected_as_before(action: RemoteAction, bad: dict) -> None:
    with pytest.raises(ValidationError) as raised:
        action._validate_action_result(bad)
    assert "Failed to validate Action server response" in raised.value.message


def test_same_verdicts_as_jsonschema_validate() -> None:
    from jsonschema import validate

    schema = RemoteAction.action_response_format_spec()
    for candidate in (GOOD, {"events": "x"}, {"events": [{"event": 3}]}, {}):
        try:
            validate(candidate, schema)
            expected = True
        except ValidationError:
            expected = False
        try:
            rasa_speedups.validate_action_result(candidate, schema)
            got = True
        except ValidationError:
            got = False
        assert got == expected, candidate


def test_the_tracker_store_installs_it(tmp_path) -> None:
    from bot.tracker_store import MaskingSQLTrackerStore

    MaskingSQLTrackerStore(url=f"sqlite:///{tmp_path / 'tracker.db'}")
    assert RemoteAction._validate_action_result.__module__ == "bot.rasa_speedups"
