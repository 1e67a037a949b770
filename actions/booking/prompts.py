"""The booking form's questions: each offers only what can be booked, as buttons.

Builders (``*_prompt``) run in a worker thread with one session and return a
:class:`~actions.replies.Reply`; the ``action_ask_*`` actions send them. Button payloads carry
only the entities the form's extractors accept from a button.
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABCMeta, abstractmethod
from typing import Any, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions import dates
from actions.booking.parsing import REQUESTED_SLOT
from actions.booking.rules import HALF_DAYS, business_label, filter_half_day
from actions.booking.windows import short_window, window_label
from actions.dates import format_day
from actions.db import DatabaseUnavailable, run_db
from actions.replies import Reply, say
from bot import workdays
from bot.db.queries import booking as booking_queries
from bot.responses import response_text

BUSY_RESPONSE = "utter_service_unavailable"
#: How many days / time slots are offered as buttons.
MAX_DAY_BUTTONS = 6
MAX_SLOT_BUTTONS = 12


def inform(**entities: str) -> str:
    """A button payload setting entities (``/inform{"booking_date":"2026-12-05"}``)."""
    return "/inform" + json.dumps(entities, ensure_ascii=False, separators=(",", ":"))


def busy(dispatcher: CollectingDispatcher, stop_form: bool = True) -> List[EventType]:
    """Say the system is busy; forget the phone (and leave the form)."""
    dispatcher.utter_message(response=BUSY_RESPONSE)
    events: List[EventType] = [SlotSet("booker_phone", None)]
    if stop_form:
        events.append(SlotSet(REQUESTED_SLOT, None))
    return events


def business_prompt(session: Session) -> Reply:
    """Ask for the business, one button per bookable business."""
    buttons = [
        {"title": name, "payload": inform(business_type=code)}
        for code, name in booking_queries.list_business_types(session)
    ]
    return Reply("utter_booking_ask_business", buttons=buttons)


def county_prompt(session: Session, business: str | None) -> Reply:
    """Ask for the county, one button per county with a window for the business."""
    counties = booking_queries.list_counties(session, business)
    buttons = [{"title": c, "payload": inform(booking_county=c)} for c in counties]
    return Reply("utter_booking_ask_county", buttons=buttons)


def date_prompt(session: Session, business: str, county: str, when: dt.datetime) -> Reply:
    """Offer the next working days with free places (none: say so)."""
    days = booking_queries.available_days(session, business, county, when, limit=MAX_DAY_BUTTONS)
    values: dict[str, Any] = {"county": county, "business": business_label(session, business)}
    if not days:
        values["days"] = booking_queries.horizon_days()
        return Reply("utter_booking_no_days", values)
    buttons = [
        {
            "title": response_text(
                "utter_booking_day_button", day=format_day(day, when.date()), free=free
            ),
            "payload": inform(booking_date=day.isoformat()),
        }
        for day, free in days
    ]
    return Reply("utter_booking_ask_date", values, buttons)


def slot_prompt(
    session: Session,
    business: str,
    county: str,
    day: dt.date,
    preference: dict[str, Any],
    when: dt.datetime,
) -> Reply:
    """Offer the free times of a day: first the window (when several), then half-days, then slots.

    Args:
        session: open session.
        business: business code.
        county: canonical county name.
        day: the day.
        preference: ``half_day`` (``morning``/``afternoon``…) and ``window`` (id), if chosen.
        when: current Beijing time.

    Returns:
        The question; no buttons when the day has nothing free.
    """
    label = format_day(day, when.date())
    free = booking_queries.available_slots(session, business, county, day, when)
    window = preference.get("window")
    if window:
        free = [s for s in free if str(s.window_id) == str(window)] or free
    windows: dict[int, list[booking_queries.SlotView]] = {}
    for slot in free:
        windows.setdefault(slot.window_id, []).append(slot)
    if len(windows) > 1:
        buttons = [
            {
                "title": response_text(
                    "utter_booking_window_button",
                    window=window_label(slots[0].window_name, county),
                    count=len(slots),
                ),
                "payload": inform(booking_window=str(window_id)),
            }
            for window_id, slots in windows.items()
        ]
        return Reply("utter_booking_ask_window", {"day": label, "count": len(windows)}, buttons)
    half_day = preference.get("half_day")
    if half_day is None and len(free) > MAX_SLOT_BUTTONS:
        halves = [(name, len(filter_half_day(free, name))) for name in ("morning", "afternoon")]
        if all(count for _name, count in halves):
            buttons = [
                {
                    "title": response_text(
                        "utter_booking_half_day_button",
                        half_day=workdays.half_day_names().get(name, name),
                        count=count,
                    ),
                    "payload": inform(booking_slot=name),
                }
                for name, count in halves
            ]
            return Reply("utter_booking_ask_half_day", {"day": label}, buttons)
    shown = filter_half_day(free, half_day) or free
    buttons = [
        {
            "title": response_text(
                "utter_booking_slot_button", time=slot.time_label, free=slot.free
            ),
            "payload": inform(booking_slot=str(slot.id)),
        }
        for slot in shown[:MAX_SLOT_BUTTONS]
    ]
    if not buttons:
        return Reply("utter_booking_day_no_slots", {"day": label})
    window_name = short_window(shown[0].window_name)
    more = len(shown) > MAX_SLOT_BUTTONS
    response = "utter_booking_ask_slot_more" if more else "utter_booking_ask_slot"
    return Reply(response, {"day": label, "window": window_name}, buttons)


def summary_values(session: Session, slot_id: int, when: dt.datetime) -> dict[str, str] | None:
    """What the chosen slot is, for the recap (business, day, time, window, address)."""
    slot = booking_queries.get_slot(session, slot_id)
    if slot is None:
        return None
    return {
        "business": business_label(session, slot.business_code),
        "day": format_day(slot.day, when.date()),
        "time": slot.time_label,
        "window": short_window(slot.window_name),
        "address": slot.address,
    }


def _chosen(tracker: Tracker) -> tuple[str | None, str | None, str | None]:
    """The business, county and day chosen so far."""
    slots = ("business_type", "booking_county", "booking_date")
    business, county, day = (tracker.get_slot(slot) for slot in slots)
    return business, county, day


async def _chosen_slot(tracker: Tracker) -> dict[str, str] | None:
    """The recap values of the chosen time slot (None when none is chosen)."""
    slot_id = str(tracker.get_slot("booking_slot") or "")
    if not slot_id.isdigit():
        return None
    return await run_db(summary_values, int(slot_id), dates.now_local())


class _AskAction(Action, metaclass=ABCMeta):
    """Base of the ask actions: build a prompt in a worker thread and send it."""

    @abstractmethod
    def name(self) -> str:
        """Name of the action in the domain."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Send the question (or the busy reply when the database is unreachable)."""
        try:
            return await self.ask(dispatcher, tracker)
        except DatabaseUnavailable:
            return busy(dispatcher)

    @abstractmethod
    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Build and send the question; return slot events."""


class ActionAskBusinessType(_AskAction):
    """Asks for the business type with one button per bookable business."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_business_type"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Send the question with buttons."""
        say(dispatcher, await run_db(business_prompt))
        return []


class ActionAskBookingCounty(_AskAction):
    """Asks for the county with one button per county that takes bookings for the business."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_booking_county"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Send the question with buttons."""
        say(dispatcher, await run_db(county_prompt, tracker.get_slot("business_type")))
        return []


class ActionAskBookingDate(_AskAction):
    """Offers the next working days that still have free places, as buttons."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_booking_date"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Send the days; if none is free, say so and leave the form."""
        business, county, _ = _chosen(tracker)
        if not business or not county:
            dispatcher.utter_message(response="utter_booking_ask_date_plain")
            return []
        reply = await run_db(date_prompt, business, county, dates.now_local())
        say(dispatcher, reply)
        if not reply.buttons:
            return [SlotSet("booking_county", None), SlotSet(REQUESTED_SLOT, None)]
        return []


class ActionAskBookingSlot(_AskAction):
    """Offers the free times of the chosen day (window first, then half-day, then slots)."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_booking_slot"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Send the times; if the day filled up meanwhile, offer the days again."""
        business, county, day_iso = _chosen(tracker)
        if not (business and county and day_iso):
            dispatcher.utter_message(response="utter_booking_ask_time_plain")
            return []
        pref = tracker.get_slot("booking_time_pref")
        preference = {
            "half_day": pref if pref in HALF_DAYS else None,
            "window": tracker.get_slot("booking_window"),
        }
        when = dates.now_local()
        day = dt.date.fromisoformat(day_iso)
        reply = await run_db(slot_prompt, business, county, day, preference, when)
        say(dispatcher, reply)
        if reply.buttons:
            return []
        days = await run_db(date_prompt, business, county, when)
        say(dispatcher, days)
        next_slot = "booking_date" if days.buttons else None
        return [SlotSet("booking_date", None), SlotSet(REQUESTED_SLOT, next_slot)]


class ActionAskBookerName(_AskAction):
    """Recaps the chosen slot and asks for the booker's name."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_booker_name"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Send the recap and the question."""
        values = await _chosen_slot(tracker)
        if values:
            dispatcher.utter_message(response="utter_booking_ask_name_after_choice", **values)
        else:
            dispatcher.utter_message(response="utter_booking_ask_name")
        return []


class ActionAskBookingConfirmed(_AskAction):
    """Shows everything that will be booked and asks for a confirmation."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_booking_confirmed"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Send the summary with 确认 / 修改 / 不约了 buttons."""
        values = await _chosen_slot(tracker)
        phone = tracker.get_slot("booker_phone") or {}
        if not values or not isinstance(phone, dict):
            dispatcher.utter_message(response="utter_booking_ask_time_plain")
            return [SlotSet("booking_slot", None), SlotSet(REQUESTED_SLOT, "booking_slot")]
        values.update(name=tracker.get_slot("booker_name") or "", phone=phone.get("masked", ""))
        dispatcher.utter_message(response="utter_ask_booking_confirmed", **values)
        return []
