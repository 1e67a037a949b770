"""My booking, cancel and reschedule: what happens once code and phone were verified."""

from __future__ import annotations

import datetime as dt
import logging
from abc import ABCMeta, abstractmethod
from typing import List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import IntegrityError

from actions import dates
from actions.booking.book import reset
from actions.booking.rules import is_phone_value
from actions.booking.view import booking_values
from actions.db import DatabaseUnavailable, run_db
from bot.db.queries import booking as booking_queries

logger = logging.getLogger(__name__)

#: Replies for outcomes other than ``ok`` (the same for a wrong code and a wrong phone).
_OUTCOMES = {
    "not_found": "utter_booking_not_found",
    "already_cancelled": "utter_booking_already_cancelled",
    "past": "utter_booking_too_late",
    "cancelled": "utter_booking_reschedule_cancelled",
    "same": "utter_booking_same_time",
    "duplicate": "utter_booking_duplicate_day",
    "full": "utter_booking_slot_taken",
    "unavailable": "utter_booking_slot_taken",
}


class _VerifiedBookingAction(Action, metaclass=ABCMeta):
    """Runs :meth:`act` with the verified code and phone hash, then forgets the choices."""

    @abstractmethod
    def name(self) -> str:
        """Name of the action in the domain."""

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, code: str, phone_hash: str
    ) -> List[EventType]:
        """Do the work; return extra events (a retry) or none."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Check the form left code and phone, act, and reset the booking slots."""
        code, phone = tracker.get_slot("booking_code"), tracker.get_slot("booker_phone")
        if not code or not is_phone_value(phone):
            return reset("booking_code")  # the form was left early; the reason was said
        try:
            extra = await self.act(dispatcher, tracker, str(code), phone["hash"])
        except DatabaseUnavailable:
            dispatcher.utter_message(response="utter_service_unavailable")
            extra = []
        except IntegrityError:  # a concurrent change won; nothing was written
            dispatcher.utter_message(response="utter_booking_conflict")
            extra = []
        return extra or reset("booking_code")


class ActionMyBooking(_VerifiedBookingAction):
    """Shows a booking found by code + phone (masked personal data only)."""

    def name(self) -> str:
        """Return the action name."""
        return "action_my_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, code: str, phone_hash: str
    ) -> List[EventType]:
        """Look the booking up and describe it."""
        view = await run_db(booking_queries.find_booking, code, phone_hash)
        if view is None:
            dispatcher.utter_message(response=_OUTCOMES["not_found"])
            return []
        when = dates.now_local()
        values = booking_values(view, when.date())
        if view.status != "active":
            dispatcher.utter_message(response="utter_booking_details_cancelled", **values)
        elif dt.datetime.combine(view.day, view.end_time) < when:
            dispatcher.utter_message(response="utter_booking_details_past", **values)
        else:
            dispatcher.utter_message(response="utter_booking_details_active", **values)
        return []


class ActionCancelBooking(_VerifiedBookingAction):
    """Cancels a confirmed booking found by code + phone and gives the place back."""

    def name(self) -> str:
        """Return the action name."""
        return "action_cancel_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, code: str, phone_hash: str
    ) -> List[EventType]:
        """Cancel and confirm."""
        if tracker.get_slot("cancel_confirmed") is not True:
            return []
        when = dates.now_local()
        result = await run_db(booking_queries.cancel_booking, code, phone_hash, when)
        logger.info("cancel %s -> %s", code[:4], result.status)
        if result.status == "ok" and result.booking is not None:
            values = booking_values(result.booking, when.date())
            dispatcher.utter_message(response="utter_booking_cancelled", **values)
        else:
            dispatcher.utter_message(
                response=_OUTCOMES.get(result.status, "utter_booking_not_found")
            )
        return []


class ActionRescheduleBooking(_VerifiedBookingAction):
    """Moves a booking to the newly chosen slot (same code), atomically."""

    def name(self) -> str:
        """Return the action name."""
        return "action_reschedule_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, code: str, phone_hash: str
    ) -> List[EventType]:
        """Reschedule and confirm, or explain why not."""
        new_slot = str(tracker.get_slot("booking_slot") or "")
        if not new_slot.isdigit():
            return []
        when = dates.now_local()
        result = await run_db(
            booking_queries.reschedule_booking, code, phone_hash, int(new_slot), when
        )
        logger.info("reschedule %s -> %s", code[:4], result.status)
        if result.status == "ok" and result.booking is not None:
            values = booking_values(result.booking, when.date())
            dispatcher.utter_message(response="utter_booking_rescheduled", **values)
            return []
        dispatcher.utter_message(response=_OUTCOMES.get(result.status, "utter_booking_not_found"))
        if result.status in ("full", "unavailable"):
            # Keep code and phone for the retry; only the time choice is asked again.
            return [SlotSet("booking_slot", None), FollowupAction("reschedule_booking_form")]
        return []


class ActionAskCancelConfirmed(Action):
    """Shows the booking about to be cancelled and asks for a confirmation."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_cancel_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Send the booking with 确认取消 / 不取消 buttons."""
        code, phone = tracker.get_slot("booking_code"), tracker.get_slot("booker_phone")
        if not code or not is_phone_value(phone):
            return []
        try:
            view = await run_db(booking_queries.find_booking, str(code), phone["hash"])
        except DatabaseUnavailable:
            dispatcher.utter_message(response="utter_service_unavailable")
            return [SlotSet("requested_slot", None), *reset("booking_code")]
        if view is None or view.status != "active":
            dispatcher.utter_message(response="utter_booking_already_cancelled")
            return [SlotSet("requested_slot", None), *reset("booking_code")]
        values = booking_values(view, dates.now_local().date())
        dispatcher.utter_message(response="utter_ask_cancel_confirmed", **values)
        return []
