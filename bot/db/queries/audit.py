"""The audit of sensitive lookups (``lookup_audit``); it never stores the second factor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import LookupAudit, utcnow
from bot.db.views import view_of

#: Outcomes that count as failed attempts for the rate limit.
FAILED_OUTCOMES: tuple[str, ...] = ("not_found", "mismatch")


@dataclass(frozen=True)
class AuditEntry:
    """One audited lookup as shown to officers."""

    id: int
    kind: str
    conversation_id: str
    case_number_masked: str | None
    outcome: str
    created_at: dt.datetime


def record_lookup(
    session: Session,
    kind: str,
    conversation_id: str,
    outcome: str,
    case_number_masked: str | None = None,
    case_number_hash: str | None = None,
    now: dt.datetime | None = None,
    client_key: str | None = None,
) -> None:
    """Append one lookup to the audit.

    Args:
        session: open session.
        kind: ``case_status`` or ``name_check``.
        conversation_id: the Rasa sender id.
        outcome: ``ok``, ``not_found``, ``mismatch``, ``locked`` ...
        case_number_masked: the masked case number (case lookups).
        case_number_hash: keyed hash of the case number or booking code (per-subject limit).
        now: timestamp (naive UTC), default now.
        client_key: keyed hash of the caller's IP (per-client limit).

    """
    session.add(
        LookupAudit(
            kind=kind,
            conversation_id=conversation_id,
            outcome=outcome,
            case_number_masked=case_number_masked,
            case_number_hash=case_number_hash,
            client_key=client_key,
            created_at=now or utcnow(),
        )
    )
    session.flush()


def recent_lookups(session: Session, limit: int = 100, kind: str | None = None) -> list[AuditEntry]:
    """Return the newest audit entries (for the officers' console).

    Args:
        session: open session.
        limit: maximum number of rows.
        kind: restrict to one kind.

    Returns:
        Entries, newest first.

    """
    stmt = select(LookupAudit).order_by(LookupAudit.id.desc()).limit(limit)
    if kind:
        stmt = stmt.where(LookupAudit.kind == kind)
    return [view_of(AuditEntry, row) for row in session.scalars(stmt)]
