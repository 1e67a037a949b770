"""The cached action-response validator behaves like Rasa's own jsonschema.validate."""

import sys

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


@pytest.fixture()
def entry_point(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Run bot.rasa_server.main up to the point where Rasa would start serving."""
    import rasa.__main__

    from bot import logmask, rasa_server

    started: list[list[str]] = []
    monkeypatch.setattr(rasa.__main__, "main", lambda: started.append(list(sys.argv)))
    monkeypatch.setattr(logmask, "install", lambda streams=True: None)  # keep pytest's capture
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setenv("RASA_AUTH_TOKEN", "a-test-token-of-some-length")
    monkeypatch.setattr(RemoteAction, "_validate_action_result", ORIGINAL_VALIDATE)
    monkeypatch.setattr(rasa_speedups, "_INSTALLED", False)
    rasa_server.main(["--model", "models", "--port", "5999"])
    return started


ORIGINAL_VALIDATE = RemoteAction._validate_action_result


def test_the_server_entry_point_installs_the_validator_and_it_runs(
    entry_point: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert entry_point and entry_point[0][:2] == ["rasa", "run"]
    assert "a-test-token-of-some-length" not in " ".join(entry_point[0])  # not visible in ps

    def per_call_meta_schema_check(*args: object, **kwargs: object) -> None:
        raise AssertionError("jsonschema.validate ran: the speed-up is not installed")

    monkeypatch.setattr("jsonschema.validate", per_call_meta_schema_check)
    action = RemoteAction("action_find_window", EndpointConfig("http://127.0.0.1:1/webhook"))
    assert action._validate_action_result(GOOD) is True
    with pytest.raises(ValidationError) as raised:
        action._validate_action_result({"events": [{"name": "county"}], "responses": []})
    assert "Failed to validate Action server response" in raised.value.message


def test_another_rasa_release_stops_the_server_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rasa

    from bot import rasa_server

    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(SystemExit) as stopped:
        rasa_server.check_rasa_version()
    assert "3.6.21" in str(stopped.value) and "3.7.0" in str(stopped.value)


def test_every_event_name_resolves_to_the_class_rasa_would_pick() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    walk = all_subclasses(Event)  # what Rasa's resolve_by_type walks, in its order
    names = {cls.type_name for cls in walk}
    assert len(names) > 20
    expected = {name: next(c for c in walk if c.type_name == name) for name in names}
    for name in sorted(names):
        assert rasa_speedups.resolve_event_class(name) is expected[name], name


def test_unknown_event_names_behave_as_in_rasa() -> None:
    from rasa.shared.core.events import ActionExecuted

    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        rasa_speedups.resolve_event_class("no_such_event")
    assert rasa_speedups.resolve_event_class("no_such_event", ActionExecuted) is ActionExecuted
    assert rasa_speedups.resolve_event_class("topic") is None


def test_a_tracker_read_back_after_install_equals_the_original() -> None:
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.slots import TextSlot
    from rasa.shared.core.trackers import DialogueStateTracker

    slots = [TextSlot("county", mappings=[])]
    events = [
        ActionExecuted("action_listen"),
        UserUttered("我想约固安县", {"name": "book_appointment", "confidence": 0.9}),
        SlotSet("county", "固安县"),
        BotUttered("请选择时间段", {"buttons": [{"title": "9:00", "payload": "/x"}]}),
    ]
    original = DialogueStateTracker.from_events("a", events, slots)
    dumped = [e.as_dict() for e in original.events]
    rasa_speedups.install()
    again = DialogueStateTracker.from_dict("a", dumped, slots)
    assert list(again.events) == list(original.events)
    assert again.get_slot("county") == "固安县"
