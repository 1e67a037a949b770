"""What the actions say: the name of a response in ``data/responses`` and the values it needs.

Every sentence a citizen reads is an officer-editable response (``utter_*`` in
``data/responses/*.yml``); code only chooses which one and fills its placeholders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa_sdk.executor import CollectingDispatcher


@dataclass(frozen=True)
class Reply:
    """One message: a response name, its placeholder values and any buttons built at run time.

    Attributes:
        response: ``utter_*`` name in ``data/responses``.
        values: values for the response's ``{placeholders}``.
        buttons: buttons added to the response's own (e.g. one per free day).
    """

    response: str
    values: dict[str, Any] = field(default_factory=dict)
    buttons: list[dict[str, str]] | None = None


def say(dispatcher: CollectingDispatcher, reply: Reply, **marks: Any) -> None:
    """Send a reply through the dispatcher (Rasa fills the response in).

    Args:
        dispatcher: the action's dispatcher.
        reply: what to say.
        **marks: extra message fields (e.g. ``bot.channels.rating.PROMPT_MARK``).
    """
    dispatcher.utter_message(
        response=reply.response, buttons=reply.buttons, **reply.values, **marks
    )
