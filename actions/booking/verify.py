"""Verifying a booking code and the phone that made it (my booking, cancel, reschedule).

Pure function over a database session (no rasa_sdk). A wrong code and a wrong phone get the
same answer; attempts are limited in the database (:mod:`bot.db.queries.throttle`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from actions.booking.parsing import find_booking_code
from actions.booking.rules import TurnResult, validate_phone
from actions.validation import format_wait
from bot.db.crypto import hash_value
from bot.db.queries import booking as booking_queries
from bot.db.queries import throttle
from bot.db.queries.audit import record_lookup

LOOKUP_KIND = "booking"


def mask_code(code: str) -> str:
    """Mask a booking code for the audit (``YY7K****``)."""
    return f"{code[:4]}****"


def check_code_and_phone(
    session: Session,
    candidates: dict[str, Any],
    state: dict[str, Any],
    conversation_id: str,
    client: str | None,
) -> TurnResult:
    """Validate the code and phone of a lookup form; when both are known, look them up.

    A wrong code and a wrong phone get the same answer. Attempts are limited in the database
    (:mod:`bot.db.queries.throttle`): per conversation, per client and per booking code, so
    ``/restart``, a new session or a server restart does not reset them.

    Args:
        session: open session.
        candidates: raw values.
        state: current slot values.
        conversation_id: the Rasa sender id.
        client: keyed hash of the caller's IP (from the channel), if any.

    Returns:
        The turn result (sets ``business_type``/``booking_county`` of a found booking, for
        rescheduling).
    """
    result = TurnResult(state=dict(state))
    if "booking_code" in candidates:
        code = find_booking_code(str(candidates["booking_code"]))
        if code is None:
            result.say("utter_booking_code_invalid")
        result.set("booking_code", code)
    if "booker_phone" in candidates:
        validate_phone(result, candidates["booker_phone"])
    code, phone = result.state.get("booking_code"), result.state.get("booker_phone")
    if not (code and isinstance(phone, dict) and "booker_phone" in result.updates):
        return result
    subject = hash_value(code, "booking")
    verdict = throttle.check(
        session, LOOKUP_KIND, throttle.BOOKING_LIMITS, conversation_id, client, subject
    )

    def audit(outcome: str) -> None:
        record_lookup(
            session, LOOKUP_KIND, conversation_id, outcome, mask_code(code), subject,
            client_key=client,
        )  # fmt: skip

    if not verdict.allowed:
        audit("throttled")
        result.say("utter_booking_lookup_wait", wait=format_wait(verdict.wait_seconds))
        result.set("booking_code", None)
        result.set("booker_phone", None)
        result.stop_form = True
        return result
    view = booking_queries.find_booking(session, code, phone["hash"])
    if view is None:
        audit("not_found")
        result.set("booking_code", None)
        result.set("booker_phone", None)
        result.say("utter_booking_not_found_retry")
    else:
        audit("ok")
        result.set("business_type", view.business_code)
        result.set("booking_county", view.county)
    return result
