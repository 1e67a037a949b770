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
import unicodedata
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.db import DatabaseUnavailable, run_db
from actions.slots import ClearSlotsAction
from actions.validation import (
    NameCheck,
    extract_gender,
    extract_name,
    normalise,
    split_name,
    validate_name,
)
from bot import knowledge
from bot.db.queries.names import NameHolders, check_name

logger = logging.getLogger(__name__)

GENDER_WORDS = {"male": "男", "female": "女"}
_GENDER_VALUES = {
    "male": "male", "男": "male", "男孩": "male", "男宝": "male", "儿子": "male",
    "female": "female", "女": "female", "女孩": "female", "女宝": "female", "女儿": "female",
}  # fmt: skip
ADVICE = {
    "重名较多": "建议换一个字或加一个字后再查一查，减少日后同校、同单位重名的麻烦。",
    "重名较少": "重名不多，可以放心考虑。",
    "暂无重名": "目前没有同名登记人员。",
}


# Stands in for every Chinese character while ``validate_name`` checks the other rules.
_PLAIN_HAN = "一"


def _is_cjk(char: str) -> bool:
    return unicodedata.name(char, "").startswith("CJK ")


def check_newborn_name(name: str) -> NameCheck:
    """Validate a full name; the character rule is the 《通用规范汉字表》 (8,105 characters).

    ``actions.validation.validate_name`` checks length, digits, letters and symbols; its own
    character set (GB 2312 plus an allow-list) only approximates the table, so every Chinese
    character is shown to it as a plain one and the table decides.

    Args:
        name: the extracted full name.

    Returns:
        A ``NameCheck`` whose ``reason`` is the whole reply for a refusal: characters outside
        the table get “可能无法登记，以派出所为准” (``utter_name_not_standard``), other problems
        ``utter_name_invalid``.
    """
    value = normalise(name)
    check = validate_name("".join(_PLAIN_HAN if _is_cjk(c) else c for c in value))
    if not check.ok:
        reason = knowledge.response_text("utter_name_invalid", reason=check.reason)
        return NameCheck(value, False, reason=reason)
    standard = knowledge.standard_hanzi()
    outside = [c for c in dict.fromkeys(value) if c not in standard]
    if outside:
        chars = "、".join(f"“{c}”" for c in outside)
        reason = knowledge.response_text("utter_name_not_standard", chars=chars)
        return NameCheck(value, False, reason=reason)
    surname, given = split_name(value)
    return NameCheck(value, True, surname=surname, given_name=given)


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


def format_name_reply(holders: NameHolders, gender: str | None) -> str:
    """Build the reply: counts in Langfang (and of the gender), a verdict, a short tip.

    Args:
        holders: the counts.
        gender: the requested gender, if any.

    Returns:
        Short Chinese text; no detail about any holder.

    """
    verdict = holders.verdict(gender)
    if gender in GENDER_WORDS:
        word = GENDER_WORDS[gender]
        counts = f"廊坊市已登记同名{holders.total}人，其中{word}性{holders.count(gender)}人。"
        conclusion = f"结论：{verdict}（按{word}性统计）。"
    else:
        counts = f"廊坊市已登记同名{holders.total}人（男{holders.male}人，女{holders.female}人）。"
        conclusion = f"结论：{verdict}。"
    return "\n".join(
        [
            f"“{holders.full_name}”重名查询结果：",
            counts,
            conclusion + ADVICE[verdict],
            "（仅提供人数，不提供同名人员的任何信息；结果仅供参考。）",
        ]
    )


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
                dispatcher.utter_message(text="请输入要查询的完整姓名（姓和名），例如：张一诺。")
            updates["newborn_name"] = None
            return updates
        check = check_newborn_name(candidate)
        if not check.ok:
            dispatcher.utter_message(text=check.reason)
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
            dispatcher.utter_message(text=check.reason)
            return clear
        gender = normalise_gender(tracker.get_slot("newborn_gender"))
        try:
            holders = await run_db(check_name, tracker.sender_id, check.name)
        except DatabaseUnavailable:
            dispatcher.utter_message(response="utter_service_unavailable")
            return clear
        logger.info("name check %s: %s", mask_name(check.name), holders.verdict(gender))
        dispatcher.utter_message(
            text=format_name_reply(holders, gender),
            buttons=[
                {"title": "再查一个名字", "payload": "/check_name"},
                {"title": "出生登记要带什么", "payload": "新生儿落户需要什么材料"},
            ],
        )
        return clear


class ActionClearNameSlots(ClearSlotsAction):
    """Clears the name form's slots when the user stops the form."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_clear_name_slots"

    slots = ("newborn_name", "newborn_gender")
