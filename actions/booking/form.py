"""The validation actions of the booking forms: ``extract_<slot>`` and ``validate_<slot>``.

Extraction reads the latest message once per run (:func:`parsing.extract_candidates`: button
entities, NLU entities, Chinese dates, typed names and phones), so one sentence such as
“我想约明天上午的身份证” fills several slots and a correction in the middle of the form
(“换成后天”, “地点改成固安”) is understood whatever slot is being asked for.

Validation has dependencies between slots (a new county re-checks the day, a new day clears
the time), so the first ``validate_<slot>`` of a run validates every candidate of the turn in
one database session (:func:`rules.validate_booking_turn`) and each ``validate_<slot>``
returns its slot's outcome. Personal values (name, phone) and codes are validated from the
citizen's own words every time; a button can only carry what the buttons offer.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import dates
from actions.booking import parsing
from actions.booking.prompts import busy
from actions.booking.rules import (
    TurnResult,
    validate_booking_turn,
    validate_name,
    validate_phone,
)
from actions.booking.verify import check_code_and_phone
from actions.db import DatabaseUnavailable, run_db
from actions.replies import Reply, say
from actions.validation import client_key

logger = logging.getLogger(__name__)

PLACE_SLOTS = (
    "business_type",
    "booking_county",
    "booking_date",
    "booking_slot",
    "booking_window",
    parsing.WINDOW_HINT,
)
LOOKUP_SLOTS = ("booking_code", "booker_phone")
CONFIRM_SLOTS = ("booking_confirmed", "cancel_confirmed")
#: Every slot the booking forms extract and validate (see ``__getattr__``).
FORM_SLOTS = frozenset((*PLACE_SLOTS, *LOOKUP_SLOTS, "booker_name", *CONFIRM_SLOTS))
_STATE_SLOTS = (*PLACE_SLOTS, "booking_time_pref", *LOOKUP_SLOTS, "booker_name")


@dataclass
class _Run:
    """What one run of a validation action has read and decided (kept on the tracker)."""

    before: dict[str, Any]
    candidates: dict[str, Any]
    result: TurnResult | None = None
    returned: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _run(tracker: Tracker, form_slots: list[str]) -> _Run:
    """The run's state; created by the first extractor, before any slot is updated."""
    state = getattr(tracker, "_booking_run", None)
    if state is None:
        before = {slot: tracker.get_slot(slot) for slot in _STATE_SLOTS}
        candidates: dict[str, Any] = {}
        if parsing.message_is_fresh(tracker):
            requested = tracker.get_slot(parsing.REQUESTED_SLOT)
            if tracker.active_loop_name is None or requested not in form_slots:
                requested = None
            message = parsing.LatestMessage.from_tracker(tracker)
            candidates = parsing.extract_candidates(
                message, requested, form_slots, dates.now_local()
            )
            if requested is None and "booking_county" in form_slots:
                county = tracker.get_slot("county")  # said earlier in the conversation
                if county and not before.get("booking_county"):
                    candidates.setdefault("booking_county", county)
                business = parsing.business_of_previous_topic(tracker)  # just answered
                if business and not before.get("business_type"):
                    candidates.setdefault("business_type", business)
            for slot in CONFIRM_SLOTS:
                if requested == slot and message.intent != "stop":
                    # A stop or a question (nothing extracted, no yes/no) is left to the rules.
                    answer = parsing.read_confirmation(message)
                    if answer is not None or slot in candidates:
                        candidates[slot] = answer
        state = _Run(before=before, candidates=candidates)
        tracker._booking_run = state  # type: ignore[attr-defined]
    return state


class _BookingValidation(FormValidationAction):
    """Shared extraction and validation of the booking and booking-lookup forms."""

    @abstractmethod
    def name(self) -> str:
        """Name of the validation action (each form's subclass gives it)."""

    async def _form_slots(self, tracker: Tracker, domain: DomainDict) -> list[str]:
        return await self.required_slots(
            self.domain_slots(domain), CollectingDispatcher(), tracker, domain
        )

    async def _extract(self, slot: str, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        run = _run(tracker, await self._form_slots(tracker, domain))
        out = {slot: run.candidates[slot]} if slot in run.candidates else {}
        if slot == "booking_slot" and "booking_window" in run.candidates:
            # booking_window is no required slot: rasa_sdk drops its candidates unvalidated
            # (and the form would reject the click). An empty booking_slot candidate gets the
            # turn validated; the validator returns the window with the turn's other changes.
            out.setdefault("booking_slot", None)
        return out

    @abstractmethod
    async def _decide(self, run: _Run, tracker: Tracker) -> TurnResult:
        """Validate every candidate of the turn (one database session)."""

    async def _validated(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        run = _run(tracker, await self._form_slots(tracker, domain))
        if run.result is None:
            try:
                run.result = await self._decide(run, tracker)
            except DatabaseUnavailable:
                logger.warning("%s: database unavailable", self.name())
                busy(dispatcher)
                run.result = TurnResult(state=dict(run.before), stop_form=True)
                run.result.set("booker_phone", None)
            for reply in run.result.replies:
                say(dispatcher, reply)
        out = {slot: run.result.state.get(slot)}
        if not run.returned:  # the first validator also returns the other slots' changes
            run.returned = True
            out.update(run.result.updates)
            if run.result.stop_form:
                out[parsing.REQUESTED_SLOT] = None
        return out

    def __getattr__(self, name: str) -> Any:
        """``extract_<slot>`` and ``validate_<slot>`` for every slot of the booking forms.

        rasa_sdk looks these methods up by name for each slot of the running form; all of
        them read the same turn (:func:`_run`), so they are made here rather than written out.
        """
        kind, _, slot = name.partition("_")
        if slot in FORM_SLOTS and kind == "extract":

            async def extract(
                dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
            ) -> dict[str, Any]:
                return await self._extract(slot, tracker, domain)

            return extract
        if slot in FORM_SLOTS and kind == "validate":

            async def validate(
                value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
            ) -> dict[str, Any]:
                return await self._validated(slot, dispatcher, tracker, domain)

            return validate
        raise AttributeError(name)


def _confirmation(result: TurnResult, run: _Run, slot: str) -> None:
    """Take a yes; on a no without a correction, ask what to change (a booking) or keep it."""
    if slot not in run.candidates:
        return
    answer = run.candidates[slot]
    corrected = any(k in run.candidates for k in (*PLACE_SLOTS, "booker_name", "booker_phone"))
    result.set(slot, True if answer and not corrected else None)
    if answer is False and not corrected and slot == "cancel_confirmed":
        # "不取消了": the booking stays; the form ends without cancelling anything.
        code = result.state.get("booking_code") or ""
        result.replies.append(Reply("utter_booking_cancel_kept", {"code": code}))
        result.stop_form = True
    elif answer is False and not corrected:
        result.replies.append(Reply("utter_booking_what_to_change"))
    elif answer is None and not corrected:
        result.replies.append(Reply("utter_booking_confirm_unclear"))


class ValidateBookingForm(_BookingValidation):
    """Validates ``booking_form``: business, county, day, time, name, phone, confirmation."""

    def name(self) -> str:
        """Return the action name."""
        return "validate_booking_form"

    async def _decide(self, run: _Run, tracker: Tracker) -> TurnResult:
        place = {k: v for k, v in run.candidates.items() if k in PLACE_SLOTS}
        result = await run_db(validate_booking_turn, place, dict(run.before), dates.now_local())
        if "booker_name" in run.candidates:
            validate_name(result, run.candidates["booker_name"])
        if "booker_phone" in run.candidates:
            validate_phone(result, run.candidates["booker_phone"])
        _confirmation(result, run, "booking_confirmed")
        return result


class _LookupValidation(_BookingValidation):
    """Validates the code + phone forms: my booking, cancel (with a confirmation), reschedule."""

    async def _decide(self, run: _Run, tracker: Tracker) -> TurnResult:
        lookup = {k: v for k, v in run.candidates.items() if k in LOOKUP_SLOTS}
        state = dict(run.before)
        result = TurnResult(state=state)
        if lookup:
            result = await run_db(
                check_code_and_phone, lookup, state, tracker.sender_id, client_key(tracker)
            )
        place = {k: v for k, v in run.candidates.items() if k in PLACE_SLOTS}
        verified = result.state.get("booking_code") and isinstance(
            result.state.get("booker_phone"), dict
        )
        if place and verified and not result.stop_form:
            result.merge(
                await run_db(validate_booking_turn, place, result.state, dates.now_local())
            )
        _confirmation(result, run, "cancel_confirmed")
        return result


class ValidateMyBookingForm(_LookupValidation):
    """Validates the “我的预约” form (booking code + phone)."""

    def name(self) -> str:
        """Return the action name."""
        return "validate_my_booking_form"


class ValidateCancelBookingForm(_LookupValidation):
    """Validates the cancel form (booking code + phone, then a confirmation)."""

    def name(self) -> str:
        """Return the action name."""
        return "validate_cancel_booking_form"


class ValidateRescheduleBookingForm(_LookupValidation):
    """Validates the reschedule form (booking code + phone, then the new day and time)."""

    def name(self) -> str:
        """Return the action name."""
        return "validate_reschedule_booking_form"
