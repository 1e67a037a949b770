"""Messages left for officers (留言): stored masked, with the phone encrypted for the call back.

The text is masked with :func:`bot.numbers.mask_text` before it is stored; the phone is kept as
mask + keyed hash + Fernet token (see :mod:`bot.db.crypto`). Officers call back within the
call-back policy in ``data/knowledge/callback.yml`` (officer-editable), computed on the
working-day calendar (``holidays``); a message still ``new`` after its deadline is overdue.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot import knowledge
from bot.db.crypto import decrypt_phone, encrypt_phone, hash_phone
from bot.db.models import CALLBACK_STATUSES, CallbackRequest, utcnow
from bot.db.queries.directory import is_working_day, next_working_day
from bot.db.views import view_of
from bot.numbers import mask_phone, mask_text
from bot.workdays import to_local, to_utc

logger = logging.getLogger(__name__)

CALLBACK_FILE = "callback.yml"
MAX_TEXT_LENGTH = 500
DUPLICATE_WINDOW = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class SavedCallback:
    """A stored message as confirmed to the citizen."""

    id: int
    phone_masked: str
    callback_due_local: dt.datetime
    duplicate: bool = False


@dataclass(frozen=True)
class CallbackView:
    """A message as listed for officers (masked phone; decrypt only on explicit request)."""

    id: int
    conversation_id: str
    text: str
    phone_masked: str
    status: str
    topic: str | None
    notes: str | None
    callback_due_local: dt.datetime | None
    created_at: dt.datetime


@dataclass(frozen=True)
class CallbackPolicy:
    """When officers call back (local times; ``data/knowledge/callback.yml``).

    Attributes:
        office_opens: messages left on a working day before this are due ``next_day_deadline``
            the same day.
        same_day_cutoff: messages left on a working day before this are due the same day.
        same_day_deadline: the same-day deadline.
        next_day_deadline: the deadline on the next working day (and before opening).

    """

    office_opens: dt.time = dt.time(9, 0)
    same_day_cutoff: dt.time = dt.time(15, 0)
    same_day_deadline: dt.time = dt.time(17, 0)
    next_day_deadline: dt.time = dt.time(12, 0)


def _time(value: Any) -> dt.time:
    if isinstance(value, int):  # YAML reads an unquoted 09:00 as sexagesimal minutes
        return dt.time(value // 60, value % 60)
    return dt.time.fromisoformat(str(value).strip())


def callback_policy() -> CallbackPolicy:
    """The call-back policy from ``data/knowledge/callback.yml`` (defaults if it is unusable)."""
    raw = knowledge.load_file(CALLBACK_FILE).get("callback")
    if not isinstance(raw, dict):
        return CallbackPolicy()
    try:
        return CallbackPolicy(**{k: _time(v) for k, v in raw.items()})
    except (TypeError, ValueError):
        logger.error("%s is not a valid call-back policy; using the defaults", CALLBACK_FILE)
        return CallbackPolicy()


def overdue_condition(now_utc: dt.datetime) -> ColumnElement[bool]:
    """SQL condition: a message still waiting for its call back after the deadline."""
    return and_(
        CallbackRequest.status == "new",
        CallbackRequest.callback_due.is_not(None),
        CallbackRequest.callback_due < now_utc,
    )


def is_overdue(message: CallbackRequest, now_utc: dt.datetime) -> bool:
    """Whether a message is still waiting for its call back after the deadline (naive UTC)."""
    due = message.callback_due
    return message.status == "new" and due is not None and due < now_utc


def callback_due(session: Session, now_utc: dt.datetime) -> dt.datetime:
    """When officers will have called back a message left at ``now_utc`` (naive local time).

    With the default policy: working day before 15:00 -> today 17:00; before opening on a
    working day -> today 12:00; otherwise the next working day 12:00
    (see :func:`callback_policy`).

    Args:
        session: open session (reads the holiday calendar).
        now_utc: the time the message was left (naive UTC).

    Returns:
        The deadline as naive Beijing time.

    """
    policy = callback_policy()
    local = to_local(now_utc)
    today = local.date()
    if is_working_day(session, today):
        if local.time() < policy.office_opens:
            return dt.datetime.combine(today, policy.next_day_deadline)
        if local.time() < policy.same_day_cutoff:
            return dt.datetime.combine(today, policy.same_day_deadline)
    return dt.datetime.combine(next_working_day(session, today), policy.next_day_deadline)


def save_callback(
    session: Session,
    conversation_id: str,
    text: str,
    phone: str,
    topic: str | None = None,
    now: dt.datetime | None = None,
) -> SavedCallback:
    """Store a message for the officers (idempotent for an identical retry within 10 minutes).

    Args:
        session: open session (the caller commits).
        conversation_id: the Rasa sender id.
        text: the citizen's question (masked here before storage).
        phone: the call-back mobile number (stored as mask + hash + ciphertext only).
        topic: optional topic (e.g. the intent that led here).
        now: current time (naive UTC), for tests.

    Returns:
        The stored message's id, masked phone and call-back deadline.

    """
    now = now or utcnow()
    masked_text = mask_text(text.strip())[:MAX_TEXT_LENGTH]
    phone_digest = hash_phone(phone)
    existing = session.scalars(
        select(CallbackRequest)
        .where(CallbackRequest.conversation_id == conversation_id)
        .where(CallbackRequest.phone_hash == phone_digest)
        .where(CallbackRequest.text == masked_text)
        .where(CallbackRequest.created_at >= now - DUPLICATE_WINDOW)
        .order_by(CallbackRequest.id.desc())
    ).first()
    if existing is not None and existing.callback_due is not None:
        return SavedCallback(
            existing.id, existing.phone_masked, to_local(existing.callback_due), duplicate=True
        )
    due_local = callback_due(session, now)
    message = CallbackRequest(
        conversation_id=conversation_id,
        text=masked_text,
        phone_masked=mask_phone(phone),
        phone_hash=phone_digest,
        phone_encrypted=encrypt_phone(phone),
        status="new",
        topic=topic,
        callback_due=to_utc(due_local),
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()
    return SavedCallback(message.id, message.phone_masked, due_local)


def _view(message: CallbackRequest) -> CallbackView:
    due = message.callback_due
    return view_of(CallbackView, message, callback_due_local=to_local(due) if due else None)


def list_callbacks(
    session: Session, status: str | None = None, limit: int = 100
) -> list[CallbackView]:
    """Messages for the officers' console, newest first.

    Args:
        session: open session.
        status: ``new``, ``called_back`` or ``closed``; None for all.
        limit: maximum rows.

    Returns:
        The messages (phones masked).

    """
    stmt = select(CallbackRequest).order_by(CallbackRequest.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(CallbackRequest.status == status)
    return [_view(m) for m in session.scalars(stmt)]


def update_status(
    session: Session, message_id: int, status: str, notes: str | None = None
) -> CallbackView | None:
    """Mark a message called back or closed, with optional officer notes (masked).

    Args:
        session: open session (the caller commits).
        message_id: the message id.
        status: one of :data:`bot.db.models.CALLBACK_STATUSES`.
        notes: officer notes; phone/ID numbers in them are masked.

    Returns:
        The updated message, or ``None`` if it does not exist.

    Raises:
        ValueError: for an unknown status.

    """
    if status not in CALLBACK_STATUSES:
        raise ValueError(f"unknown status {status!r}")
    message = session.get(CallbackRequest, message_id)
    if message is None:
        return None
    message.status = status
    if notes is not None:
        message.notes = mask_text(notes)
    message.updated_at = utcnow()
    session.flush()
    return _view(message)


def reveal_phone(session: Session, message_id: int) -> str | None:
    """Decrypt the call-back number of one message (for the officer who calls back).

    Args:
        session: open session.
        message_id: the message id.

    Returns:
        The full number, or ``None`` if the message does not exist.

    """
    message = session.get(CallbackRequest, message_id)
    return decrypt_phone(message.phone_encrypted) if message is not None else None
