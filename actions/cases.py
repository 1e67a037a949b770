"""Case status lookup (办理进度查询): ``case_status_form`` and ``action_case_status``.

The form asks for the case number (受理编号, ``SL`` + 12 digits) and the last 4 digits of the
phone number left on the application; both can come in one message. The lookup runs in a
worker thread (:func:`actions.db.run_db`); an unknown case and a wrong second factor get the
same reply; after 5 failures (per conversation, and per case across conversations) lookups
are refused for 15 minutes. The factor is cleared from the slots right after use and never
logged; log lines carry the masked case number only.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.db import DatabaseUnavailable, run_db
from actions.replies import Reply, say
from actions.slots import ClearSlotsAction, Dispatcher, Slots
from actions.validation import (
    case_number_problem,
    client_key,
    format_wait,
    last4_problem,
    parse_case_number,
    parse_last4,
)
from bot import knowledge, workdays
from bot.db.queries.cases import CaseView, lookup_case, mask_case_number
from bot.numbers import parse_phone
from bot.responses import response_text

logger = logging.getLogger(__name__)

SERVICE_UNAVAILABLE = "utter_service_unavailable"
#: Set (by the lookup only) when a case had many failures: its form then asks for the full number.
FULL_PHONE_SLOT = "case_full_phone_required"


def case_reply(case: CaseView) -> Reply:
    """The reply for a found case: its stage and the next step (one response per stage).

    Args:
        case: the case as returned by the lookup.

    Returns:
        ``utter_case_stage_<stage>`` (``utter_case_stage_accepted_id_card`` for ID cards) with
        the case's values; the window, materials and courier where the stage has them.
    """
    updated = workdays.to_local(case.updated_at)
    values: dict[str, Any] = {
        "business": knowledge.term_name(knowledge.business_types(), case.business_code, ""),
        "county": case.county,
        "case_number": case.case_number,
        "updated": response_text(
            "utter_label_updated", month=updated.month, day=updated.day, time=f"{updated:%H:%M}"
        ),
        "materials": "\n".join(f"{i}. {item}" for i, item in enumerate(case.missing_materials, 1)),
        "courier_company": case.courier_company or "",
        "courier_number": case.courier_number or "",
    }
    stage = case.stage
    if stage == "accepted" and case.business_code == "id_card":
        stage = "accepted_id_card"
    if stage == "pre_review_passed" and case.window is None:
        stage = "pre_review_passed_no_window"
    if stage == "materials_needed" and not case.missing_materials:
        stage = "materials_needed_unlisted"
    if stage == "mailed" and not case.courier_number:
        stage = "mailed_no_number"
    if case.window is not None:
        window = case.window
        values.update(
            window=window.name, address=window.address, phone=window.phone, hours=window.hours
        )
    buttons = None
    if case.stage == "pre_review_passed":
        buttons = [{"title": "预约窗口办理", "payload": "/book_appointment"}]
    return Reply(f"utter_case_stage_{stage}", values, buttons)


def _latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


class ValidateCaseStatusForm(FormValidationAction):
    """Validates ``case_status_form``: case number format and the 4-digit second factor."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "validate_case_status_form"

    async def validate_case_number(
        self, slot_value: Any, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accept ``SL`` + 12 digits (lowercase, full-width, spaces tolerated).

        If the same message also carries the 4-digit factor, it is taken too.
        """
        raw = str(slot_value or "")
        number = parse_case_number(raw)
        if number is None:
            problem = case_number_problem(raw)
            if problem:
                say(dispatcher, problem)
            elif tracker.get_slot("requested_slot") == "case_number":
                dispatcher.utter_message(response="utter_case_number_not_found")
            return {"case_number": None}
        updates: dict[str, Any] = {"case_number": number}
        text = _latest_text(tracker)
        if parse_case_number(text) == number and not tracker.get_slot("phone_last4"):
            factor = parse_phone(text) or parse_last4(text)
            if factor:
                updates["phone_last4"] = factor
        logger.info("case status: case number %s accepted", mask_case_number(number))
        return updates

    async def validate_phone_last4(
        self, slot_value: Any, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accept 4 digits, or a full mobile number (needed when a case had many failures)."""
        if slot_value is None:  # cleared by the previous lookup: nothing typed to judge
            return {"phone_last4": None}
        raw = str(slot_value)
        factor = parse_phone(raw) or parse_last4(raw)
        number = parse_case_number(raw)
        if factor is None:
            if number:  # "不对，编号是SL…": a corrected case number; the form asks again
                return {"phone_last4": None, "case_number": number}
            say(dispatcher, last4_problem(raw))
            return {"phone_last4": None}
        updates: dict[str, Any] = {"phone_last4": factor}
        if number and number != tracker.get_slot("case_number"):
            updates["case_number"] = number
        return updates


class ActionCaseStatus(Action):
    """Looks the case up and replies with its stage and the next step."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_case_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Run the lookup (worker thread), reply, clear the factor and update the counter.

        Returns:
            Slot events: the case number and factor cleared, and the full-phone step-up flag.

        """
        number = parse_case_number(str(tracker.get_slot("case_number") or ""))
        raw_factor = str(tracker.get_slot("phone_last4") or "")
        factor = parse_phone(raw_factor) or parse_last4(raw_factor)
        clear: list[EventType] = [SlotSet("case_number", None), SlotSet("phone_last4", None)]
        if number is None or factor is None:
            dispatcher.utter_message(response="utter_case_lookup_needs_both")
            return clear
        try:
            result = await run_db(
                lookup_case, tracker.sender_id, number, factor, client_key(tracker)
            )
        except DatabaseUnavailable:
            dispatcher.utter_message(response=SERVICE_UNAVAILABLE)
            return clear
        logger.info("case status %s: %s", mask_case_number(number), result.status)
        if result.status == "ok" and result.case is not None:
            say(dispatcher, case_reply(result.case))
            return [*clear, SlotSet(FULL_PHONE_SLOT, None)]
        if result.status == "wait":
            dispatcher.utter_message(
                response="utter_case_lookup_wait", wait=format_wait(result.wait_seconds)
            )
            return [*clear, SlotSet(FULL_PHONE_SLOT, None)]
        # Failed, or the case needs the full phone number: keep the case number and ask for
        # the factor again (a corrected case number is accepted at that question too).
        keep = [SlotSet("phone_last4", None), FollowupAction("case_status_form")]
        if result.status == "full_phone":
            dispatcher.utter_message(response="utter_case_lookup_full_phone")
            return [*keep, SlotSet(FULL_PHONE_SLOT, True)]
        dispatcher.utter_message(response="utter_case_lookup_failed", case_number=number)
        return keep


class ActionClearCaseSlots(ClearSlotsAction):
    """Clears the case form's slots when the user stops the form."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_clear_case_slots"

    slots = ("case_number", "phone_last4", FULL_PHONE_SLOT)
