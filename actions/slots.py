"""Shared action helpers for clearing form slots (personal data is never kept after use)."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

#: Short names for the types of every validator's signature.
Dispatcher = CollectingDispatcher
Slots = dict[str, Any]


class ClearSlotsAction(Action, metaclass=ABCMeta):
    """Base for the ``action_clear_*_slots`` actions run when a user stops a form.

    Subclasses implement :meth:`name` and set :attr:`slots`. The base class is abstract, so
    the action server does not register it.
    """

    slots: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def name(self) -> str:
        """Name of the action in the domain."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Reset every slot in :attr:`slots`.

        Returns:
            The slot events.
        """
        return [SlotSet(slot, None) for slot in self.slots]
