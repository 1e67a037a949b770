"""Leave a message for an officer (留言/转人工): ``leave_message_form`` and ``action_save_message``.

When the user asks for a person (``human_handoff``) the bot offers to take the question
(``utter_offer_message``); ``leave_message`` starts the form directly. The form collects the
question (raw text; stored masked) and a mobile number (stored as mask + hash + ciphertext),
saves both in one transaction, tells the user when an officer will call back and clears both
slots. Phone numbers never appear in full in replies or log lines.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.db import DatabaseUnavailable, run_db
from actions.replies import say
from actions.slots import ClearSlotsAction, Dispatcher, Slots
from actions.validation import normalise, phone_problem
from bot import workdays
from bot.db.crypto import decrypt_phone, encrypt_phone
from bot.db.queries.callbacks import MAX_TEXT_LENGTH, save_callback
from bot.numbers import mask_phone, mask_text, parse_phone
from bot.responses import response_text

logger = logging.getLogger(__name__)

MIN_TEXT_LENGTH = 4

# Trigger phrases that carry no question ("我要留言", "转人工"), longest first.
_TRIGGERS = sorted(
    (
        "我要留言 我想留言 我要给民警留言 给民警留个言 给民警留言 帮我留言 留个言 留言给民警 留言 "
        "转人工服务 转人工客服 转人工 人工客服 人工服务 找人工 我要找民警 找民警 找警察 联系民警 "
        "我要投诉 我想 我要 请帮我 帮我 麻烦 你好 您好 在吗 谢谢"
    ).split(),
    key=len,
    reverse=True,
)
_NUMBER_RUN = re.compile(r"\+?\d[\d\s\-]{5,}\d")
_NOISE = re.compile(r"[\s，,。.!！?？、~～…:：;；]+")


def question_part(text: str) -> str:
    """Strip trigger phrases and punctuation (to judge whether a question was given).

    Args:
        text: raw user text.

    Returns:
        What is left.

    """
    value = normalise(text)
    for trigger in _TRIGGERS:
        value = value.replace(trigger, " ")
    return _NOISE.sub("", value)


def describe_due(due: dt.datetime, now_local: dt.datetime) -> str:
    """Say when the call back will happen ("今天17:00前", "明天11月26日（周四）12:00前").

    Args:
        due: the deadline (naive Beijing time).
        now_local: now (naive Beijing time).

    Returns:
        Short Chinese phrase (``utter_label_due_*`` in data/responses/common.yml).

    """
    days = (due.date() - now_local.date()).days
    clock = f"{due:%H:%M}"
    if days == 0:
        return response_text("utter_label_due_today", near=workdays.near_day_name(0), time=clock)
    label = response_text(
        "utter_label_day", month=due.month, day=due.day, weekday=workdays.weekday_name(due)
    )
    near = workdays.near_day_name(1) if days == 1 else ""
    return response_text("utter_label_due_day", near=near, label=label, time=clock)


_KEPT = "enc:"


def keep_phone(phone: str) -> str:
    """The slot value for a call-back number: encrypted, so it survives the turns of the form.

    The conversation store masks every number it writes, so a plain number given before the
    question would come back masked on the next turn; the ciphertext comes back whole and only
    the server can read it.

    Args:
        phone: the 11-digit number.

    Returns:
        ``enc:`` + a Fernet token.
    """
    return _KEPT + encrypt_phone(phone)


def kept_phone(value: Any) -> str | None:
    """Read a slot value written by :func:`keep_phone` (or a plain number in the same turn)."""
    text = str(value or "")
    if text.startswith(_KEPT):
        try:
            return parse_phone(decrypt_phone(text[len(_KEPT) :]))
        except Exception:  # not ours, or a rotated key: ask again
            return None
    return parse_phone(text)


class ValidateLeaveMessageForm(FormValidationAction):
    """Validates ``leave_message_form``: a real question and a mobile number."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "validate_leave_message_form"

    async def validate_message_text(
        self, slot_value: Any, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Keep the question (masked); a phone number inside it fills ``contact_phone``.

        The activation message ("我要留言", or the button payload ``/leave_message``) alone is
        no question: the form then asks for one.
        """
        original = str(slot_value or "").strip()
        if original.startswith("/"):  # a button payload ("/leave_message") is no question
            original = ""
        text = normalise(original)
        phone = parse_phone(text)
        rest = question_part(_NUMBER_RUN.sub(" ", text))
        if len(rest) < MIN_TEXT_LENGTH:
            if tracker.get_slot("requested_slot") == "message_text":
                dispatcher.utter_message(response="utter_callback_text_too_short")
            updates: dict[str, Any] = {"message_text": None}
            if phone and not tracker.get_slot("contact_phone"):
                updates["contact_phone"] = keep_phone(phone)
            return updates
        updates = {"message_text": mask_text(original)[:MAX_TEXT_LENGTH]}
        if phone and not tracker.get_slot("contact_phone"):
            updates["contact_phone"] = keep_phone(phone)
        return updates

    async def validate_contact_phone(
        self, slot_value: Any, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accept a mainland mobile number; explain what is wrong otherwise."""
        raw = str(slot_value or "")
        phone = parse_phone(raw)
        if phone is None:
            say(dispatcher, phone_problem(raw))
            return {"contact_phone": None}
        return {"contact_phone": keep_phone(phone)}


class ActionSaveMessage(Action):
    """Stores the message for the officers and says when they will call back."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_save_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Save (worker thread, one transaction), confirm, and clear the slots.

        Returns:
            Slot events clearing ``message_text`` and ``contact_phone``.

        """
        text = str(tracker.get_slot("message_text") or "").strip()
        phone = kept_phone(tracker.get_slot("contact_phone"))
        clear: list[EventType] = [SlotSet("message_text", None), SlotSet("contact_phone", None)]
        if not text or phone is None:
            dispatcher.utter_message(response="utter_callback_incomplete")
            return clear
        try:
            saved = await run_db(save_callback, tracker.sender_id, text, phone)
        except DatabaseUnavailable:
            dispatcher.utter_message(response="utter_callback_not_saved")
            return clear
        logger.info("message %s saved, call back %s", saved.id, mask_phone(phone))
        now_local = workdays.now_local()
        dispatcher.utter_message(
            response="utter_callback_saved",
            message_id=saved.id,
            phone=saved.phone_masked,
            due=describe_due(saved.callback_due_local, now_local),
        )
        return clear


class ActionClearMessageSlots(ClearSlotsAction):
    """Clears the message form's slots when the user stops the form."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_clear_message_slots"

    slots = ("message_text", "contact_phone")
