"""Newborn duplicate-name check (新生儿重名查询): ``name_check_form`` and ``action_check_name``.

The name comes from the raw text (there is no name entity): "张一诺", "帮我查下叫李子涵的多不多",
"男孩 王梓轩" all work; the validator extracts it, splits compound surnames and rejects digits,
Latin letters, symbols and more than 6 characters with a reason. A character outside the
8,105-character 《通用规范汉字表》 (shipped as ``data/knowledge/tongyong-guifan-hanzi-8105.tsv``)
gets "可能无法登记，以派出所为准" (wording in ``data/responses/names.yml``).
The reply gives only counts (in Langfang, and of the requested gender) and a verdict, never
anything about a holder. The name is cleared from the slots after the check and logged masked.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.db import DatabaseUnavailable, run_db
from actions.replies import Reply, say
from actions.slots import ClearSlotsAction
from actions.validation import (
    NameCheck,
    extract_gender,
    extract_name,
    validate_name,
)
from bot.db.queries.names import NameHolders, check_name

logger = logging.getLogger(__name__)

GENDER_WORDS = {"male": "男", "female": "女"}
_GENDER_VALUES = {
    "male": "male", "男": "male", "男孩": "male", "男宝": "male", "儿子": "male",
    "female": "female", "女": "female", "女孩": "female", "女宝": "female", "女儿": "female",
}  # fmt: skip
#: The verdict of the registry query -> the response that gives the advice.
ADVICE = {"重名较多": "utter_name_advice_many", "重名较少": "utter_name_advice_few"}


def check_newborn_name(name: str) -> NameCheck:
    """Validate a full name (format rules and the 《通用规范汉字表》); see ``validate_name``."""
    return validate_name(name)


def mask_name(name: str) -> str:
    """Mask a name for log lines (``张**``).

    Args:
        name: a name.

    Returns:
        The first character followed by asterisks.

    """
    return (name[:1] + "*" * max(len(name) - 1, 1)) if name else ""


def normalise_gender(value: Any) -> str | None:
    """Map a gender entity value or word to ``male``/``female``.

    Args:
        value: slot or entity value.

    Returns:
        ``male``, ``female`` or None.

    """
    if value is None:
        return None
    text = str(value).strip().lower()
    return _GENDER_VALUES.get(text) or extract_gender(text)


def name_replies(holders: NameHolders, gender: str | None) -> list[Reply]:
    """The result (counts in Langfang, of the gender if asked) and the advice; no holder's data.

    Args:
        holders: the counts.
        gender: the requested gender, if any.

    Returns:
        The replies (``utter_name_result`` or ``utter_name_result_by_gender``, then the advice).

    """
    verdict = holders.verdict(gender)
    values: dict[str, Any] = {"name": holders.full_name, "total": holders.total, "verdict": verdict}
    if gender in GENDER_WORDS:
        values.update(gender=GENDER_WORDS[gender], count=holders.count(gender))
        result = Reply("utter_name_result_by_gender", values)
    else:
        values.update(male=holders.male, female=holders.female)
        result = Reply("utter_name_result", values)
    return [result, Reply(ADVICE.get(verdict, "utter_name_advice_none"))]


class ValidateNameCheckForm(FormValidationAction):
    """Validates ``name_check_form``: extracts and checks the name, picks up the gender."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "validate_name_check_form"

    async def validate_newborn_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Extract the name from the raw text and validate it.

        A request without any name ("新生儿重名查询") is not an error: the form simply asks.

        Args:
            slot_value: the raw text of the message.
            dispatcher: to explain a rejected name.
            tracker: the conversation.
            domain: the domain.

        Returns:
            Slot updates (the clean name, and the gender if the message named one).

        """
        text = str(slot_value or "")
        updates: dict[str, Any] = {}
        if text.startswith("/"):  # a button payload such as "/check_name" carries no name
            return {"newborn_name": None}
        gender = extract_gender(text)
        if gender:  # also a correction ("不对，是女孩")
            updates["newborn_gender"] = gender
        candidate = extract_name(text)
        if candidate is None:
            if tracker.get_slot("requested_slot") == "newborn_name":
                dispatcher.utter_message(response="utter_name_missing")
            updates["newborn_name"] = None
            return updates
        check = check_newborn_name(candidate)
        if not check.ok and check.reply is not None:
            say(dispatcher, check.reply)
            updates["newborn_name"] = None
            return updates
        updates["newborn_name"] = check.name
        return updates


class ActionCheckName(Action):
    """Counts holders of the requested name and replies with the verdict."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_check_name"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        """Query the registry (worker thread) and reply; clear the name and gender afterwards.

        Args:
            dispatcher: sends the reply.
            tracker: the conversation.
            domain: the domain.

        Returns:
            Slot events clearing ``newborn_name`` and ``newborn_gender``.

        """
        clear: list[EventType] = [SlotSet("newborn_name", None), SlotSet("newborn_gender", None)]
        check = check_newborn_name(str(tracker.get_slot("newborn_name") or ""))
        if not check.ok:
            if check.reply is not None:
                say(dispatcher, check.reply)
            return clear
        gender = normalise_gender(tracker.get_slot("newborn_gender"))
        try:
            holders = await run_db(check_name, tracker.sender_id, check.name)
        except DatabaseUnavailable:
            dispatcher.utter_message(response="utter_service_unavailable")
            return clear
        logger.info("name check %s: %s", mask_name(check.name), holders.verdict(gender))
        for reply in name_replies(holders, gender):
            say(dispatcher, reply)
        return clear


class ActionClearNameSlots(ClearSlotsAction):
    """Clears the name form's slots when the user stops the form."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_clear_name_slots"

    slots = ("newborn_name", "newborn_gender")
