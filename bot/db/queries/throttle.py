"""Limits on guessing lookups (case progress, booking lookup/cancel/reschedule), in the database.

Every attempt is a row of ``lookup_audit`` (never the second factor itself), keyed three ways:
the conversation, the *client* (a keyed hash of the caller's IP address, set by the channel)
and the *subject* (a keyed hash of the case number or booking code). The limits therefore
survive ``/restart``, new sessions and server restarts, and hold across replicas.

- **Per client** (conversation and IP): the first failures are free, then each further attempt
  must wait a delay that doubles with every failure (``30 s, 60 s, 120 s …`` up to 15 min).
  A stranger cannot speed up by opening new conversations: the IP limit still counts.
- **Per subject**: many failures on one case from anywhere (a distributed guesser) do not lock
  the owner out. For a *case*, the lookup steps up instead: the last 4 digits are no longer
  enough and the full phone number on file is asked for, which the owner knows and a guesser
  cannot search. A *booking code* has no stronger factor, so its attempts are slowed with
  growing delays (the booking itself is never touched).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import LookupAudit, utcnow
from bot.db.queries.audit import FAILED_OUTCOMES


@dataclass(frozen=True)
class Limits:
    """The numbers of one kind of lookup.

    Attributes:
        free_per_conversation: failures in one conversation before delays start.
        free_per_client: failures from one IP before delays start.
        base_delay_s: the first delay; each further failure doubles it.
        max_delay_s: the longest delay.
        window: how far back failures are counted.
        subject_failures: failures on one subject (from anyone) that change the rule for it.
    """

    free_per_conversation: int = 3
    free_per_client: int = 10
    base_delay_s: int = 30
    max_delay_s: int = 15 * 60
    window: dt.timedelta = dt.timedelta(hours=1)
    subject_failures: int = 5


CASE_LIMITS = Limits()
BOOKING_LIMITS = Limits(free_per_conversation=3, free_per_client=10)


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may be evaluated now.

    Attributes:
        wait_seconds: 0 when the attempt may go ahead, else how long to wait.
        subject_under_attack: the subject had many failures recently (step up / slow down).
    """

    wait_seconds: int = 0
    subject_under_attack: bool = False

    @property
    def allowed(self) -> bool:
        """Whether the attempt may be evaluated now."""
        return self.wait_seconds <= 0


def _failures(session: Session, kind: str, since: dt.datetime, **key: str) -> list[dt.datetime]:
    column, value = next(iter(key.items()))
    stmt = (
        select(LookupAudit.created_at)
        .where(LookupAudit.kind == kind)
        .where(LookupAudit.outcome.in_(FAILED_OUTCOMES))
        .where(LookupAudit.created_at >= since)
        .where(getattr(LookupAudit, column) == value)
        .order_by(LookupAudit.created_at.desc())
        .limit(64)
    )
    return list(session.scalars(stmt))


def delay_after(failures: int, free: int, limits: Limits) -> int:
    """The wait (seconds) required after ``failures`` failures when ``free`` are free."""
    if failures <= free:
        return 0
    return int(min(limits.max_delay_s, limits.base_delay_s * math.pow(2, failures - free - 1)))


def _wait(times_desc: list[dt.datetime], free: int, limits: Limits, now: dt.datetime) -> int:
    required = delay_after(len(times_desc), free, limits)
    if not required or not times_desc:
        return 0
    ready_at = times_desc[0] + dt.timedelta(seconds=required)
    return max(0, math.ceil((ready_at - now).total_seconds()))


def check(
    session: Session,
    kind: str,
    limits: Limits,
    conversation_id: str,
    client_key: str | None,
    subject_hash: str | None,
    now: dt.datetime | None = None,
) -> Verdict:
    """Decide whether an attempt may be evaluated now.

    Args:
        session: open session.
        kind: ``case_status`` or ``booking``.
        limits: the limits of that kind.
        conversation_id: the Rasa sender id.
        client_key: keyed hash of the caller's IP (None when the channel gives none).
        subject_hash: keyed hash of the case number / booking code (None when not known yet).
        now: current time (naive UTC), for tests.

    Returns:
        The verdict.
    """
    now = now or utcnow()
    since = now - limits.window
    wait = _wait(
        _failures(session, kind, since, conversation_id=conversation_id),
        limits.free_per_conversation,
        limits,
        now,
    )
    if client_key:
        wait = max(
            wait,
            _wait(
                _failures(session, kind, since, client_key=client_key),
                limits.free_per_client,
                limits,
                now,
            ),
        )
    under_attack = False
    if subject_hash:
        subject_times = _failures(
            session, kind, now - dt.timedelta(hours=24), case_number_hash=subject_hash
        )
        under_attack = len(subject_times) >= limits.subject_failures
        if under_attack and kind != "case_status":
            wait = max(wait, _wait(subject_times, limits.subject_failures - 1, limits, now))
    return Verdict(wait_seconds=wait, subject_under_attack=under_attack)


def failures_today(session: Session, kind: str, conversation_id: str) -> int:
    """How many failed attempts a conversation made in the last 24 hours (for replies)."""
    since = utcnow() - dt.timedelta(hours=24)
    return int(
        session.scalar(
            select(func.count())
            .select_from(LookupAudit)
            .where(LookupAudit.kind == kind)
            .where(LookupAudit.outcome.in_(FAILED_OUTCOMES))
            .where(LookupAudit.created_at >= since)
            .where(LookupAudit.conversation_id == conversation_id)
        )
        or 0
    )
