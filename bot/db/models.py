"""SQLAlchemy models of the e户政 data layer (schema owned by the Alembic migrations).

Tables (all timestamps ``*_at`` are naive UTC; ``day``/``start_time``/``end_time`` are local
Beijing dates and times; no column ever holds a full phone or ID number):

- ``business_types(code PK, name)``: id_card, hukou_move_in, birth_registration, ... (the
  ``business_type`` entity values).
- ``counties(id PK, name unique, urban)``: the 12 county-level units; ``urban`` marks the urban
  districts. ``windows(id, county_id→counties, name, address, phone, hours, lat, lng, saturday)``:
  registration windows (``saturday`` = also open Saturday mornings); ``window_businesses
  (window_id, business_code)`` says which businesses a window handles.
  ``service_points(id, type, county_id, name, address, phone, hours, lat, lng)``: ``type`` is
  one of self_service / paternity / notary / translation (windows live in ``windows``).
- ``holidays(day PK, name, is_workday_override)``: public holidays (``is_workday_override``
  False: closed although a weekday) and make-up working days (True: open although a weekend).
- ``slots(id, window_id, business_code, day, start_time, end_time, capacity, booked)``: bookable
  30-minute slots; UNIQUE(window_id, business_code, day, start_time); CHECK 0 <= booked <=
  capacity, so two people can never take the last place (``UPDATE ... SET booked = booked + 1
  WHERE booked < capacity``). ``bookings(id, code unique, slot_id, business_code, day,
  name_masked, phone_hash, phone_masked, status active|cancelled, created_at, updated_at)``: a
  partial unique index (SQLite and PostgreSQL) forbids one phone holding two *active* bookings
  for the same business on the same day. ``phone_hash`` is :func:`bot.db.crypto.hash_phone`.
- ``cases(id, case_number unique SL+12 digits, business_code, county_id, stage, window_id,
  missing_materials JSON list, courier_company, courier_number, applicant_masked, phone_hash,
  phone_masked, created_at, updated_at)`` with ``case_stage_events(id, case_id, stage, note,
  created_at)`` as its history. Stages: see :data:`CASE_STAGES`.
- ``residents(id, surname, given_name, full_name, gender male|female, birth_year, county_id)``:
  the synthetic resident-name registry; ``name_counts(full_name PK, total, male, female)`` is
  its aggregate, rebuilt by the seed, read by the duplicate-name check.
- ``callback_requests(id, conversation_id, text masked, phone_masked, phone_hash,
  phone_encrypted, status new|called_back|closed, topic, notes, callback_due, created_at,
  updated_at)``: questions left for officers; ``phone_encrypted`` (Fernet,
  :mod:`bot.db.crypto`) is the only way back to the number, for the officer who calls back.
- ``lookup_audit(id, kind, conversation_id, case_number_masked, case_number_hash, outcome,
  created_at)``: one row per sensitive lookup (never the second factor); also the source of the
  rate limit (failed attempts per conversation and per case in the last 15 minutes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import declarative_base, relationship

# Deterministic constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Base: Any = declarative_base(metadata=metadata)

#: Case stages in processing order.
CASE_STAGES: tuple[str, ...] = (
    "submitted",
    "pre_review",
    "pre_review_passed",
    "materials_needed",
    "accepted",
    "card_making",
    "mailed",
    "completed",
)
BOOKING_STATUSES: tuple[str, ...] = ("active", "cancelled")
CALLBACK_STATUSES: tuple[str, ...] = ("new", "called_back", "closed")
GENDERS: tuple[str, ...] = ("male", "female")
SERVICE_POINT_TYPES: tuple[str, ...] = ("self_service", "paternity", "notary", "translation")
#: Business type codes (the ``business_type`` entity values) and their Chinese names.


def utcnow() -> dt.datetime:
    """Return the current time as naive UTC (the convention of every ``*_at`` column)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class BusinessType(Base):  # type: ignore[misc]
    """A business a window handles and a slot can be booked for."""

    __tablename__ = "business_types"

    code = Column(String(40), primary_key=True)
    name = Column(String(60), nullable=False)


class County(Base):  # type: ignore[misc]
    """One of Langfang's 12 county-level units."""

    __tablename__ = "counties"

    id = Column(Integer, primary_key=True)
    name = Column(String(40), nullable=False, unique=True)
    urban = Column(Boolean, nullable=False, default=False)

    windows = relationship("Window", back_populates="county", order_by="Window.id")


class Window(Base):  # type: ignore[misc]
    """A household-registration window (户籍窗口)."""

    __tablename__ = "windows"

    id = Column(Integer, primary_key=True)
    county_id = Column(Integer, ForeignKey("counties.id"), nullable=False, index=True)
    name = Column(String(120), nullable=False, unique=True)
    address = Column(String(200), nullable=False)
    phone = Column(String(40), nullable=False)
    hours = Column(String(120), nullable=False)
    lat = Column(Float)
    lng = Column(Float)
    saturday = Column(Boolean, nullable=False, default=False)

    county = relationship("County", back_populates="windows")


class WindowBusiness(Base):  # type: ignore[misc]
    """Which businesses a window handles (and can therefore have slots for)."""

    __tablename__ = "window_businesses"

    window_id = Column(Integer, ForeignKey("windows.id", ondelete="CASCADE"), primary_key=True)
    business_code = Column(String(40), ForeignKey("business_types.code"), primary_key=True)


class ServicePoint(Base):  # type: ignore[misc]
    """A convenience service point: 24-hour self-service ID machine, paternity lab, notary, ..."""

    __tablename__ = "service_points"
    __table_args__ = (
        CheckConstraint(f"type IN {_in(SERVICE_POINT_TYPES)}", name="type"),
        UniqueConstraint("type", "name", name="uq_service_points_type_name"),
    )

    id = Column(Integer, primary_key=True)
    type = Column(String(20), nullable=False, index=True)
    county_id = Column(Integer, ForeignKey("counties.id"), nullable=False, index=True)
    name = Column(String(120), nullable=False)
    address = Column(String(200), nullable=False)
    phone = Column(String(40))
    hours = Column(String(120))
    lat = Column(Float)
    lng = Column(Float)


class Holiday(Base):  # type: ignore[misc]
    """A public holiday (closed) or, with ``is_workday_override``, a make-up working day."""

    __tablename__ = "holidays"

    day = Column(Date, primary_key=True)
    name = Column(String(40), nullable=False)
    is_workday_override = Column(Boolean, nullable=False, default=False)


class Slot(Base):  # type: ignore[misc]
    """A bookable time slot of one window for one business."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint(
            "window_id", "business_code", "day", "start_time", name="uq_slots_window_business_day"
        ),
        CheckConstraint("booked <= capacity", name="booked_le_capacity"),
        CheckConstraint("booked >= 0", name="booked_nonneg"),
        CheckConstraint("capacity > 0", name="capacity_pos"),
        Index("ix_slots_business_day", "business_code", "day"),
    )

    id = Column(Integer, primary_key=True)
    window_id = Column(Integer, ForeignKey("windows.id"), nullable=False)
    business_code = Column(String(40), ForeignKey("business_types.code"), nullable=False)
    day = Column(Date, nullable=False)
    start_time = Column(Time, nullable=False)
    end_time = Column(Time, nullable=False)
    capacity = Column(Integer, nullable=False)
    booked = Column(Integer, nullable=False, default=0, server_default=text("0"))

    window = relationship("Window")


class Booking(Base):  # type: ignore[misc]
    """A booked slot. One phone: at most one active booking per business per day."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(f"status IN {_in(BOOKING_STATUSES)}", name="status"),
        Index(
            "uq_bookings_active_phone_business_day",
            "phone_hash",
            "business_code",
            "day",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(16), nullable=False, unique=True)
    slot_id = Column(Integer, ForeignKey("slots.id"), nullable=False, index=True)
    business_code = Column(String(40), ForeignKey("business_types.code"), nullable=False)
    day = Column(Date, nullable=False)
    name_masked = Column(String(40), nullable=False)
    phone_hash = Column(String(64), nullable=False, index=True)
    phone_masked = Column(String(16), nullable=False)
    status = Column(String(12), nullable=False, default="active")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    slot = relationship("Slot")


class Case(Base):  # type: ignore[misc]
    """An application (受理) whose progress citizens can query by case number + phone last 4."""

    __tablename__ = "cases"
    __table_args__ = (CheckConstraint(f"stage IN {_in(CASE_STAGES)}", name="stage"),)

    id = Column(Integer, primary_key=True)
    case_number = Column(String(14), nullable=False, unique=True)
    business_code = Column(String(40), ForeignKey("business_types.code"), nullable=False)
    county_id = Column(Integer, ForeignKey("counties.id"), nullable=False, index=True)
    stage = Column(String(24), nullable=False)
    window_id = Column(Integer, ForeignKey("windows.id"))
    missing_materials = Column(JSON)
    courier_company = Column(String(40))
    courier_number = Column(String(40))
    applicant_masked = Column(String(40))
    phone_hash = Column(String(64), nullable=False)
    phone_masked = Column(String(16), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    county = relationship("County")
    window = relationship("Window")
    events = relationship(
        "CaseStageEvent",
        back_populates="case",
        order_by="CaseStageEvent.created_at, CaseStageEvent.id",
        cascade="all, delete-orphan",
    )


class CaseStageEvent(Base):  # type: ignore[misc]
    """One step of a case's stage history."""

    __tablename__ = "case_stage_events"

    id = Column(Integer, primary_key=True)
    case_id = Column(
        Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    stage = Column(String(24), nullable=False)
    note = Column(String(200))
    created_at = Column(DateTime, nullable=False, default=utcnow)

    case = relationship("Case", back_populates="events")


class Resident(Base):  # type: ignore[misc]
    """A (synthetic) registered resident; only the name and gender are ever counted."""

    __tablename__ = "residents"
    __table_args__ = (
        CheckConstraint(f"gender IN {_in(GENDERS)}", name="gender"),
        Index("ix_residents_full_name_gender", "full_name", "gender"),
    )

    id = Column(Integer, primary_key=True)
    surname = Column(String(4), nullable=False)
    given_name = Column(String(4), nullable=False)
    full_name = Column(String(8), nullable=False)
    gender = Column(String(6), nullable=False)
    birth_year = Column(SmallInteger, nullable=False)
    county_id = Column(Integer, ForeignKey("counties.id"), nullable=False)


class NameCount(Base):  # type: ignore[misc]
    """Aggregated holders per full name (rebuilt from ``residents`` by the seed)."""

    __tablename__ = "name_counts"

    full_name = Column(String(8), primary_key=True)
    total = Column(Integer, nullable=False)
    male = Column(Integer, nullable=False)
    female = Column(Integer, nullable=False)


class CallbackRequest(Base):  # type: ignore[misc]
    """A question left for the officers, with a way to call the citizen back."""

    __tablename__ = "callback_requests"
    __table_args__ = (
        CheckConstraint(f"status IN {_in(CALLBACK_STATUSES)}", name="status"),
        Index("ix_callback_requests_status_created", "status", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(120), nullable=False, index=True)
    text = Column(Text, nullable=False)
    phone_masked = Column(String(16), nullable=False)
    phone_hash = Column(String(64), nullable=False)
    phone_encrypted = Column(Text, nullable=False)
    status = Column(String(12), nullable=False, default="new")
    topic = Column(String(40))
    notes = Column(Text)
    callback_due = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class LookupAudit(Base):  # type: ignore[misc]
    """One sensitive lookup (never the second factor)."""

    __tablename__ = "lookup_audit"
    __table_args__ = (
        Index("ix_lookup_audit_conversation_created", "conversation_id", "created_at"),
        Index("ix_lookup_audit_case_created", "case_number_hash", "created_at"),
        Index("ix_lookup_audit_client_created", "client_key", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False)
    conversation_id = Column(String(120), nullable=False)
    #: Keyed hash of the caller's IP address (set by the channel), for per-client limits.
    client_key = Column(String(64))
    #: The masked case number or booking code.
    case_number_masked = Column(String(20))
    #: Keyed hash of the case number or booking code (per-subject limits).
    case_number_hash = Column(String(64))
    outcome = Column(String(20), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class RevokedConversation(Base):  # type: ignore[misc]
    """A web-chat conversation whose token was given up (``/restart``): refused from then on."""

    __tablename__ = "revoked_conversations"

    conversation_id = Column(String(64), primary_key=True)
    revoked_at = Column(DateTime, nullable=False, default=utcnow)


FEEDBACK_RATINGS: tuple[str, ...] = ("up", "down")


class Feedback(Base):  # type: ignore[misc]
    """A citizen's 👍/👎 on one bot answer in the web chat (read by the review console).

    One row per (conversation, bot message); rating again replaces the row's rating. Texts are
    stored masked (:func:`bot.numbers.mask_text`); ``user_text`` is the message answered.
    """

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint(f"rating IN {_in(FEEDBACK_RATINGS)}", name="rating"),
        UniqueConstraint(
            "conversation_id", "bot_message_id", name="uq_feedback_conversation_message"
        ),
        Index("ix_feedback_rating_created", "rating", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(120), nullable=False)
    bot_message_id = Column(String(40), nullable=False)
    bot_text = Column(Text, nullable=False)
    user_text = Column(Text, nullable=False, default="")
    rating = Column(String(4), nullable=False)
    #: 👎 only: a reason code (``data/knowledge/feedback_reasons.yml``) and the citizen's words.
    reason = Column(String(20))
    comment = Column(Text)
    created_at = Column(DateTime, nullable=False, default=utcnow)
