"""Case status lookup (办理进度查询): second factor, limits and audit in one transaction.

The reply must not tell an unknown case number from a wrong second factor, so
:func:`lookup_case` returns ``failed`` for both (the audit keeps the difference for officers).
Guessing is limited by :mod:`bot.db.queries.throttle`: growing delays per conversation and per
client, and a step-up per case: after many failures on one case number (from anyone) the last
4 digits are no longer enough and the full phone number on file is needed, so a stranger
cannot lock the owner out. The second factor is compared and then forgotten: never stored.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.db.crypto import hash_phone, hash_value
from bot.db.models import Case, Window, utcnow
from bot.db.queries import throttle
from bot.db.queries.audit import record_lookup
from bot.db.queries.directory import WindowInfo, window_info
from bot.db.views import view_of

KIND = "case_status"


@dataclass(frozen=True)
class CaseView:
    """What the citizen may see of their own case."""

    case_number: str
    business_code: str
    county: str
    stage: str
    window: WindowInfo | None
    missing_materials: tuple[str, ...]
    courier_company: str | None
    courier_number: str | None
    updated_at: dt.datetime
    history: tuple[tuple[str, dt.datetime], ...]


@dataclass(frozen=True)
class CaseLookup:
    """Outcome of a lookup.

    Attributes:
        status: ``ok`` (with the case), ``failed`` (unknown case or wrong factor, alike),
            ``wait`` (too many failures from this client: ``wait_seconds``) or ``full_phone``
            (this case number had many failures: the full phone number is needed).
        case: the case, when ``ok``.
        wait_seconds: how long to wait, when ``wait``.
    """

    status: str
    case: CaseView | None = None
    wait_seconds: int = 0


def mask_case_number(case_number: str) -> str:
    """Mask a case number for the audit (``SL2026****0123``).

    Args:
        case_number: canonical case number.

    Returns:
        The masked value.

    """
    if len(case_number) != 14:
        return "SL****"
    return f"{case_number[:6]}****{case_number[-4:]}"


def _case_view(case: Case) -> CaseView:
    return view_of(
        CaseView,
        case,
        county=case.county.name,
        window=window_info(case.window) if case.window is not None else None,
        missing_materials=tuple(case.missing_materials or ()),
        history=tuple((e.stage, e.created_at) for e in case.events),
    )


def lookup_case(
    session: Session,
    conversation_id: str,
    case_number: str,
    factor: str,
    client_key: str | None = None,
    now: dt.datetime | None = None,
) -> CaseLookup:
    """Look up a case by number and second factor, enforcing the limits and auditing.

    Args:
        session: open session (the caller commits; the audit row is part of the transaction).
        conversation_id: the Rasa sender id.
        case_number: canonical case number (``SL`` + 12 digits).
        factor: the last 4 digits of the phone number on file, or the full 11-digit number
            (compared, never stored).
        client_key: keyed hash of the caller's IP address, if the channel gave one.
        now: current time (naive UTC), for tests.

    Returns:
        The outcome (see :class:`CaseLookup`).

    """
    now = now or utcnow()
    case_hash = hash_value(case_number, "case")
    masked = mask_case_number(case_number)

    def audit(outcome: str) -> None:
        record_lookup(
            session, KIND, conversation_id, outcome, masked, case_hash, now, client_key=client_key
        )

    verdict = throttle.check(
        session, KIND, throttle.CASE_LIMITS, conversation_id, client_key, case_hash, now
    )
    if not verdict.allowed:
        audit("throttled")
        return CaseLookup(status="wait", wait_seconds=verdict.wait_seconds)
    full_phone = len(factor or "") == 11
    if verdict.subject_under_attack and not full_phone:
        audit("step_up")
        return CaseLookup(status="full_phone")

    case = session.scalars(
        select(Case)
        .where(Case.case_number == case_number)
        .options(
            joinedload(Case.county),
            joinedload(Case.window).joinedload(Window.county),
            joinedload(Case.events),
        )
    ).first()
    if full_phone:
        expected = case.phone_hash if case is not None else "0" * 64
        given = hash_phone(factor)
    else:
        expected = case.phone_masked[-4:] if case is not None else "\x00\x00\x00\x00"
        given = factor or ""
    matches = hmac.compare_digest(expected.encode(), given.encode())
    if case is not None and matches:
        audit("ok")
        return CaseLookup(status="ok", case=_case_view(case))
    audit("not_found" if case is None else "mismatch")
    return CaseLookup(status="failed")
