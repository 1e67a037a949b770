"""Booking rules: whether a business, county, day, window and time can be booked.

Pure functions over a database session (no rasa_sdk): each takes the candidate values and the
current state and returns a :class:`TurnResult` with slot updates and the replies to send.
Only what the database says is bookable passes (free places, working days, not past, within
the booking horizon). Every reply is a response name in ``data/responses/booking.yml``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from actions.booking.parsing import WINDOW_HINT, business_from_text, county_from_text
from actions.booking.windows import named_window
from actions.dates import format_day, half_day_of, parse_datetime, parse_time
from actions.replies import Reply
from actions.validation import phone_problem
from bot import workdays
from bot.db.crypto import hash_phone
from bot.db.queries import booking as booking_queries
from bot.numbers import mask_phone, parse_phone

HALF_DAYS = ("morning", "noon", "afternoon", "evening")


@dataclass
class TurnResult:
    """Slot updates and replies produced by one validation turn."""

    state: dict[str, Any]
    updates: dict[str, Any] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)
    stop_form: bool = False

    def set(self, slot: str, value: Any) -> None:
        """Set a slot (recorded as an update)."""
        self.state[slot] = value
        self.updates[slot] = value

    def say(self, response: str, **values: Any) -> None:
        """Queue a reply (a response of data/responses/booking.yml)."""
        self.replies.append(Reply(response, values))

    def merge(self, other: TurnResult) -> None:
        """Take another result's updates and replies (a later step of the same turn)."""
        self.updates.update(other.updates)
        self.replies.extend(other.replies)
        self.state = other.state
        self.stop_form = self.stop_form or other.stop_form


def phone_value(phone: str) -> dict[str, str]:
    """The slot value kept for a validated phone: masked for display, keyed hash for matching."""
    return {"masked": mask_phone(phone), "hash": hash_phone(phone)}


def is_phone_value(value: Any) -> bool:
    """Whether a slot holds a value made by :func:`phone_value`."""
    return isinstance(value, dict) and bool(value.get("hash")) and bool(value.get("masked"))


def business_label(session: Session, code: str | None) -> str:
    """Display name of a business (the database's name)."""
    if not code:
        return ""
    return booking_queries.business_name(session, code) or code


def _to_date(value: Any, when: dt.datetime) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return parse_datetime(str(value), when).day


def _slot_preference(value: Any) -> tuple[dt.time | None, str | None]:
    """Classify a time preference: ``"15:30"``, ``"afternoon"`` or free text."""
    text = str(value)
    if text in HALF_DAYS:
        return None, text
    if re.fullmatch(r"\d{2}:\d{2}", text):
        hour, minute = (int(p) for p in text.split(":"))
        when = dt.time(hour, minute)
        return when, half_day_of(when)
    return parse_time(text)


def filter_half_day(
    slots: list[booking_queries.SlotView], half_day: str | None
) -> list[booking_queries.SlotView]:
    """The slots in one half of the day (all of them when none is given)."""
    if not half_day:
        return slots
    return [s for s in slots if half_day_of(s.start_time) == half_day]


def day_problem(
    session: Session, state: dict[str, Any], day: dt.date | None, when: dt.datetime
) -> Reply | None:
    """Why ``day`` cannot be booked for the chosen business and county, or None."""
    today = when.date()
    if day is None:
        return Reply("utter_booking_day_unclear")
    label = format_day(day, today)
    if day < today:
        return Reply("utter_booking_day_past", {"day": label})
    reason = booking_queries.closed_reason(session, day)
    if reason:
        reason = "周末" if reason in ("周六", "周日") else reason
        return Reply("utter_booking_day_closed", {"day": label, "reason": reason})
    horizon = booking_queries.horizon_days()
    if day > today + dt.timedelta(days=horizon):
        return Reply("utter_booking_day_too_far", {"days": horizon})
    business, county = state.get("business_type"), state.get("booking_county")
    if business and county:
        if not booking_queries.available_slots(session, business, county, day, when):
            values = {"day": label, "county": county, "business": business_label(session, business)}
            return Reply("utter_booking_day_full", values)
    return None


def validate_business(session: Session, result: TurnResult, raw: Any) -> bool:
    """Validate a business candidate; True when the business changed."""
    bookable = dict(booking_queries.list_business_types(session))
    code = str(raw) if str(raw) in bookable else business_from_text(str(raw))
    if code is None or code not in bookable:
        result.say("utter_booking_business_not_bookable")
        result.set("business_type", None)
        return False
    changed = code != result.state.get("business_type")
    result.set("business_type", code)
    return changed


def validate_county(session: Session, result: TurnResult, raw: Any) -> bool:
    """Validate a county candidate against the chosen business; True when it changed."""
    business = result.state.get("business_type")
    allowed = booking_queries.list_counties(session, business)
    county = county_from_text(str(raw), allowed)
    if county is None or county not in allowed:
        known = county_from_text(str(raw), booking_queries.list_counties(session))
        if known:
            what = business_label(session, business)
            result.say("utter_booking_county_no_window", county=known, business=what)
        else:
            result.say("utter_booking_county_unknown")
        result.set("booking_county", None)
        return False
    changed = county != result.state.get("booking_county")
    result.set("booking_county", county)
    return changed


def validate_booking_turn(
    session: Session,
    candidates: dict[str, Any],
    state: dict[str, Any],
    when: dt.datetime,
) -> TurnResult:
    """Validate one turn of the booking (or reschedule) form in slot order.

    Slots that depend on a changed one are re-checked or cleared: a new business or county
    clears the chosen window and time and re-checks the day; a new day clears the time
    unless the same message also named a time that is free.

    Args:
        session: open session.
        candidates: raw values from the extractors.
        state: current values of the form's slots (and ``booking_time_pref``).
        when: current Beijing time.

    Returns:
        The slot updates and replies.
    """
    result = TurnResult(state=dict(state))
    st = result.state
    place_changed = False
    if "business_type" in candidates:
        place_changed |= validate_business(session, result, candidates["business_type"])
    if "booking_county" in candidates:
        place_changed |= validate_county(session, result, candidates["booking_county"])
    business, county = st.get("business_type"), st.get("booking_county")
    if place_changed and "booking_county" not in candidates and county and business:
        if county not in booking_queries.list_counties(session, business):
            what = business_label(session, business)
            result.say("utter_booking_county_no_window", county=county, business=what)
            result.set("booking_county", None)
    if place_changed:
        for slot in ("booking_slot", "booking_window"):
            if st.get(slot):
                result.set(slot, None)

    date_candidate = candidates.get("booking_date")
    recheck = False
    if date_candidate is None and place_changed and st.get("booking_date"):
        date_candidate, recheck = st["booking_date"], True
    day_changed = False
    if date_candidate is not None:
        day = _to_date(date_candidate, when)
        problem = day_problem(session, st, day, when)
        if problem or day is None:
            result.replies.append(problem or Reply("utter_booking_day_unclear"))
            for slot in ("booking_date", "booking_slot", "booking_window"):
                if st.get(slot) or slot == "booking_date":
                    result.set(slot, None)
        else:
            iso = day.isoformat()
            day_changed = iso != state.get("booking_date")
            if day_changed or not recheck:
                result.set("booking_date", iso)
            if day_changed and "booking_slot" not in candidates:
                for slot in ("booking_slot", "booking_window"):
                    if st.get(slot):
                        result.set(slot, None)

    if "booking_window" in candidates:
        validate_window(session, result, candidates["booking_window"], when)
    elif candidates.get(WINDOW_HINT) and st.get("booking_date") and not st.get("booking_slot"):
        # The day's message named a window ("下周三去户政大厅"): offer that window's times.
        window = named_window(_free_slots(session, st, when), str(candidates[WINDOW_HINT]))
        if window is not None:
            result.set("booking_window", str(window))
    slot_candidate = candidates.get("booking_slot")
    if slot_candidate is None and (day_changed or place_changed) and st.get("booking_time_pref"):
        slot_candidate = st["booking_time_pref"]
    if slot_candidate is not None:
        validate_slot_choice(session, result, slot_candidate, when)
    return result


def validate_window(session: Session, result: TurnResult, raw: Any, when: dt.datetime) -> None:
    """Accept a window with free places on the chosen day: a button's id or a typed name.

    Typed text that names no offered window is a question about the windows ("窗口在哪"):
    it is answered with the county's windows, and the form asks again.
    """
    st = result.state
    free = _free_slots(session, st, when)
    text = str(raw).strip()
    if text.isdigit():
        if any(s.window_id == int(text) for s in free):
            result.set("booking_window", text)
            return
        result.say("utter_booking_window_full")
        result.set("booking_window", None)
        return
    named = named_window(free, text)
    if named is not None:
        result.set("booking_window", str(named))
        return
    from actions.lookups import window_list_parts  # noqa: PLC0415 - lookups imports booking

    result.set("booking_window", None)
    if st.get("booking_county"):
        result.replies.extend(window_list_parts(session, str(st["booking_county"])))


def _free_slots(
    session: Session, st: dict[str, Any], when: dt.datetime
) -> list[booking_queries.SlotView]:
    business, county, day_iso = (
        st.get("business_type"),
        st.get("booking_county"),
        st.get("booking_date"),
    )
    if not (business and county and day_iso):
        return []
    day = dt.date.fromisoformat(day_iso)
    return booking_queries.available_slots(session, business, county, day, when)


def validate_slot_choice(
    session: Session, result: TurnResult, value: Any, when: dt.datetime
) -> None:
    """Accept a slot id offered on a button, or find the free slot a spoken time means."""
    st = result.state
    business, county, day_iso = (
        st.get("business_type"),
        st.get("booking_county"),
        st.get("booking_date"),
    )
    text = str(value).strip()
    if text.isdigit():
        slot = booking_queries.get_slot(session, int(text))
        if (
            slot is not None
            and slot.business_code == business
            and slot.county == county
            and any(
                s.id == slot.id
                for s in booking_queries.available_slots(session, business, county, slot.day, when)
            )
        ):
            result.set("booking_slot", str(slot.id))
            result.set("booking_window", str(slot.window_id))
            if slot.day.isoformat() != day_iso:
                result.set("booking_date", slot.day.isoformat())
            if st.get("booking_time_pref"):
                result.set("booking_time_pref", None)
            return
        result.say("utter_booking_slot_taken")
        result.set("booking_slot", None)
        return

    exact, half_day = _slot_preference(text)
    if exact is None and half_day is None:
        window = named_window(_free_slots(session, st, when), text)
        if window is not None:
            result.set("booking_window", str(window))
        else:
            result.say("utter_booking_slot_unclear")
        result.set("booking_slot", None)
        return
    preference = exact.strftime("%H:%M") if exact else half_day
    if not (business and county and day_iso):
        result.set("booking_time_pref", preference)  # applied once the day is known
        return
    free = _free_slots(session, st, when)
    window = st.get("booking_window")
    if window:
        free = [s for s in free if str(s.window_id) == str(window)] or free
    if exact is not None:
        match = next((s for s in free if s.start_time == exact), None) or next(
            (s for s in free if s.start_time <= exact < s.end_time), None
        )
        if match is not None:
            result.set("booking_slot", str(match.id))
            result.set("booking_window", str(match.window_id))
            if st.get("booking_time_pref"):
                result.set("booking_time_pref", None)
            return
        result.say("utter_booking_time_not_free", time=f"{exact:%H:%M}")
        result.set("booking_slot", None)
        result.set("booking_time_pref", half_day)
        return
    result.set("booking_slot", None)
    result.set("booking_time_pref", half_day)
    if not filter_half_day(free, half_day):
        label = workdays.half_day_names().get(str(half_day), "")
        result.say("utter_booking_half_day_full", half_day=label)
        result.set("booking_time_pref", None)


def validate_name(result: TurnResult, raw: Any) -> None:
    """Accept the booker's name from typed text; only its masked form is kept."""
    from actions.booking.parsing import clean_name, mask_name

    name = clean_name(str(raw))
    if name is None:
        result.say("utter_booking_name_invalid")
        result.set("booker_name", None)
    else:
        result.set("booker_name", mask_name(name))


def validate_phone(result: TurnResult, raw: Any) -> None:
    """Accept the booker's phone from typed text; only mask + keyed hash are kept."""
    phone = parse_phone(str(raw))
    if phone is None:
        result.replies.append(phone_problem(str(raw)))
        result.set("booker_phone", None)
    else:
        result.set("booker_phone", phone_value(phone))
