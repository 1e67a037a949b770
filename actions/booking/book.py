"""Booking a confirmed slot (``action_book_slot``) and leaving a booking form (``算了``)."""

from __future__ import annotations

import logging
from typing import List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import IntegrityError

from actions import dates
from actions.booking.prompts import busy
from actions.booking.rules import is_phone_value
from actions.booking.view import booking_values
from actions.db import DatabaseUnavailable, run_db
from bot.db.queries import booking as booking_queries

logger = logging.getLogger(__name__)

BOOKING_SLOTS = [
    "business_type",
    "booking_county",
    "booking_date",
    "booking_slot",
    "booking_window",
    "booking_time_pref",
    "booker_name",
    "booker_phone",
    "booking_confirmed",
    "cancel_confirmed",
]


def reset(*keep: str) -> List[EventType]:
    """Forget every booking choice (and the phone), except the slots named in ``keep``."""
    return [SlotSet(slot, None) for slot in BOOKING_SLOTS if slot not in keep]


class ActionBookSlot(Action):
    """Books the confirmed slot (atomically) and answers with the booking code."""

    def name(self) -> str:
        """Return the action name."""
        return "action_book_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Book, then reply with the code, or explain why not and offer what is possible."""
        slot_id = str(tracker.get_slot("booking_slot") or "")
        business = tracker.get_slot("business_type")
        name = tracker.get_slot("booker_name")
        phone = tracker.get_slot("booker_phone")
        confirmed = tracker.get_slot("booking_confirmed") is True
        if not (slot_id.isdigit() and business and name and is_phone_value(phone) and confirmed):
            return [SlotSet("booker_phone", None)]  # the form was left early
        when = dates.now_local()
        try:
            result = await run_db(
                booking_queries.book_slot,
                int(slot_id),
                business,
                name,
                phone["hash"],
                phone["masked"],
                when,
            )
        except DatabaseUnavailable:
            return busy(dispatcher, stop_form=False)
        except IntegrityError:  # a constraint refused it at the last moment: treat as taken
            result = booking_queries.BookResult("full")
        logger.info("booking slot=%s phone=%s -> %s", slot_id, phone["masked"], result.status)
        if result.status == "ok" and result.booking is not None:
            values = booking_values(result.booking, when.date())
            dispatcher.utter_message(response="utter_booking_done", **values)
            return [*reset(), SlotSet("booking_code", result.booking.code)]
        if result.status == "duplicate":
            dispatcher.utter_message(response="utter_booking_duplicate")
            return reset()
        # full / unavailable: the slot went meanwhile; keep the choices, ask for another time.
        dispatcher.utter_message(response="utter_booking_slot_taken")
        return [
            SlotSet("booking_slot", None),
            SlotSet("booking_confirmed", None),
            FollowupAction("booking_form"),
        ]


class ActionBookingStopped(Action):
    """Leaves a booking/lookup form on “算了/取消”: forgets the choices and the phone."""

    def name(self) -> str:
        """Return the action name."""
        return "action_booking_stopped"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Confirm and clear every booking slot except a booking code already given out."""
        code = tracker.get_slot("booking_code")
        verified = code and is_phone_value(tracker.get_slot("booker_phone"))
        if verified and _stopped_form(tracker) == "cancel_booking_form":
            # "不取消了" at the cancel question: say the booking stays (not "已为您取消…").
            dispatcher.utter_message(response="utter_booking_cancel_kept", code=code)
        else:
            dispatcher.utter_message(response="utter_stopped")
        return reset()


def _stopped_form(tracker: Tracker) -> str | None:
    """The form that was active before the latest deactivation, if any."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "active_loop" and event.get("name"):
            return str(event["name"])
    return None
