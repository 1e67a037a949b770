"""Case status lookup (办理进度查询): second factor, rate limit and audit in one transaction.

The reply must not tell an unknown case number from a wrong second factor, so
:func:`lookup_case` returns ``failed`` for both (the audit keeps the difference for officers).
After :data:`MAX_FAILURES` failures within :data:`LOCK_WINDOW` in one conversation, or for one
case number across all conversations, lookups are refused until 15 minutes after the failure
that reached the limit. The second factor is compared and then forgotten: it is never stored.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.db.crypto import hash_value
from bot.db.models import Case, Window, utcnow
from bot.db.queries.audit import failure_times, record_lookup
from bot.db.queries.directory import WindowInfo, window_info

MAX_FAILURES = 5
LOCK_WINDOW = dt.timedelta(minutes=15)
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
    """Outcome of a lookup: ``ok`` (with the case), ``failed`` or ``locked``."""

    status: str
    case: CaseView | None = None
    attempts_left: int = MAX_FAILURES
    retry_after_minutes: int = 0


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


def _locked_until(times_desc: list[dt.datetime]) -> dt.datetime | None:
    """When a lock that started at the MAX_FAILURES-th failure within LOCK_WINDOW ends."""
    for i in range(len(times_desc) - MAX_FAILURES + 1):
        if times_desc[i] - times_desc[i + MAX_FAILURES - 1] <= LOCK_WINDOW:
            return times_desc[i] + LOCK_WINDOW
    return None


def _case_view(case: Case) -> CaseView:
    return CaseView(
        case_number=case.case_number,
        business_code=case.business_code,
        county=case.county.name,
        stage=case.stage,
        window=window_info(case.window) if case.window is not None else None,
        missing_materials=tuple(case.missing_materials or ()),
        courier_company=case.courier_company,
        courier_number=case.courier_number,
        updated_at=case.updated_at,
        history=tuple((e.stage, e.created_at) for e in case.events),
    )


def lock_status(
    session: Session,
    conversation_id: str,
    case_number: str | None = None,
    now: dt.datetime | None = None,
) -> CaseLookup | None:
    """Whether lookups are currently refused for this conversation (or case number).

    Args:
        session: open session.
        conversation_id: the Rasa sender id.
        case_number: canonical case number, if known.
        now: current time (naive UTC).

    Returns:
        A ``locked`` result, or ``None`` when lookups are allowed.

    """
    now = now or utcnow()
    since = now - 2 * LOCK_WINDOW
    until = _locked_until(failure_times(session, since, conversation_id=conversation_id))
    if case_number is not None:
        by_case = _locked_until(
            failure_times(session, since, case_number_hash=hash_value(case_number, "case"))
        )
        if by_case is not None and (until is None or by_case > until):
            until = by_case
    if until is not None and until > now:
        minutes = max(1, -(-int((until - now).total_seconds()) // 60))
        return CaseLookup(status="locked", attempts_left=0, retry_after_minutes=minutes)
    return None


def lookup_case(
    session: Session,
    conversation_id: str,
    case_number: str,
    last4: str,
    now: dt.datetime | None = None,
) -> CaseLookup:
    """Look up a case by number and second factor, enforcing the rate limit and auditing.

    Args:
        session: open session (the caller commits; the audit row is part of the transaction).
        conversation_id: the Rasa sender id.
        case_number: canonical case number (``SL`` + 12 digits).
        last4: last 4 digits of the phone number on file (compared, never stored).
        now: current time (naive UTC), for tests.

    Returns:
        ``ok`` with the case, ``failed`` (unknown case or wrong factor, indistinguishable) with
        the attempts left, or ``locked`` with the minutes to wait.

    """
    now = now or utcnow()
    case_hash = hash_value(case_number, "case")
    masked = mask_case_number(case_number)
    locked = lock_status(session, conversation_id, case_number, now)
    if locked is not None:
        record_lookup(session, KIND, conversation_id, "locked", masked, case_hash, now)
        return locked

    case = session.scalars(
        select(Case)
        .where(Case.case_number == case_number)
        .options(
            joinedload(Case.county),
            joinedload(Case.window).joinedload(Window.county),
            joinedload(Case.events),
        )
    ).first()
    expected = case.phone_masked[-4:] if case is not None else "\x00\x00\x00\x00"
    matches = hmac.compare_digest(expected.encode(), (last4 or "").encode())
    if case is not None and matches:
        record_lookup(session, KIND, conversation_id, "ok", masked, case_hash, now)
        return CaseLookup(status="ok", case=_case_view(case))

    outcome = "not_found" if case is None else "mismatch"
    record_lookup(session, KIND, conversation_id, outcome, masked, case_hash, now)
    window_start = now - LOCK_WINDOW
    by_conversation = failure_times(session, window_start, conversation_id=conversation_id)
    by_case = failure_times(session, window_start, case_number_hash=case_hash)
    used = max(len(by_conversation), len(by_case))
    left = max(0, MAX_FAILURES - used)
    if left == 0:
        minutes = int(LOCK_WINDOW.total_seconds() // 60)
        return CaseLookup(status="failed", attempts_left=0, retry_after_minutes=minutes)
    return CaseLookup(status="failed", attempts_left=left)
