"""Measured speed-ups for Rasa 3.6 internals on the per-turn hot path.

1. Rasa validates every action-server response with ``jsonschema.validate(result, schema)``.
That function checks the *schema itself* against the JSON-Schema 2020-12 meta-schema on every
call before validating the response; profiling ``rasa run`` under the REST benchmark showed
this taking about a quarter of a whole turn's CPU time. :func:`install` replaces the check
with one compiled validator per schema: the same rules, the same ``ValidationError`` on a bad
response, without re-checking the constant schema each time.

2. Rasa turns every stored or received event back into its class with
``Event.resolve_by_type``, which walks the whole ``Event`` class tree (~40 ``inspect``
calls) for every event: reading a 50-event tracker from the tracker store spent about half
its CPU time there. :func:`install` answers from a ``type_name → class`` table built from the
same walk, in the same order (the first class with that name wins, as before), and rebuilt
when a name is not in it (an event class imported later); unknown names behave as before.

Installed by :class:`bot.tracker_store.MaskingSQLTrackerStore` when the Rasa server (or
``rasa shell``) starts; installing twice is harmless.
"""

from __future__ import annotations

import functools
import json
from typing import Any

_INSTALLED = False


@functools.lru_cache(maxsize=8)
def _validator(schema_json: str) -> Any:
    from jsonschema.validators import validator_for

    schema = json.loads(schema_json)
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, not per response
    return cls(schema)


def validate_action_result(result: dict[str, Any], schema: dict[str, Any]) -> None:
    """Validate an action server response like ``jsonschema.validate`` does.

    Args:
        result: the decoded response.
        schema: Rasa's action response schema.

    Raises:
        jsonschema.ValidationError: the response does not match the schema.
    """
    from jsonschema.exceptions import best_match

    validator = _validator(json.dumps(schema, sort_keys=True))
    error = best_match(validator.iter_errors(result))
    if error is not None:
        raise error


_EVENT_CLASSES: dict[str, Any] = {}


def _event_classes() -> dict[str, Any]:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    table: dict[str, Any] = {}
    for cls in all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    return table


def resolve_event_class(type_name: str, default: Any = None) -> Any:
    """``Event.resolve_by_type`` from a table instead of a class-tree walk per call.

    Args:
        type_name: the event's ``event`` field, e.g. ``user`` or ``slot``.
        default: the class to return for an unknown name (instead of raising).

    Returns:
        The event class; None for the legacy ``topic`` events.

    Raises:
        ValueError: an unknown name and no default (as Rasa does).
    """
    global _EVENT_CLASSES
    cls = _EVENT_CLASSES.get(type_name)
    if cls is None:
        _EVENT_CLASSES = _event_classes()
        cls = _EVENT_CLASSES.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    """Patch Rasa: the cached action-response validator and the event-class table."""
    global _INSTALLED
    if _INSTALLED:
        return
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validate_action_result(result, self.action_response_format_spec())
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your "
                "response from the Action endpoint is valid. For more information about the "
                f"format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    from rasa.shared.core.events import Event

    Event.resolve_by_type = staticmethod(resolve_event_class)  # type: ignore[method-assign,assignment]
    _INSTALLED = True
