"""Appointment booking at registration windows: the booking form, lookup, cancel and reschedule.

Dialogue (``booking_form``): business type -> county -> day -> time slot -> name -> phone, then
``action_book_slot`` books atomically and answers with a booking code (``YY`` + 6 characters).
Every slot uses a ``custom`` mapping: :class:`ValidateBookingForm` reads the latest message
itself (button payloads, NLU entities and the raw Chinese text), so one sentence such as
“我想约明天上午的身份证” fills several slots, and a correction in the middle of the form
(“换成后天”, “地点改成固安”) is understood whatever slot is being asked for.

Only what the database says is bookable is offered (free places, working days, not in the
past). Every database call runs in a worker thread (:func:`actions.db.run_db`); if the database
is unreachable the citizen is told “系统繁忙，请稍后再试” and the form is left cleanly.

Privacy: the name is kept masked (``张*``) from the moment it is validated; the phone number is
turned into ``{"masked": "138****5678", "hash": <HMAC>}`` at validation, so the full number is
never stored in a slot, a reply or a log line, and that value is cleared after use.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import unicodedata
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actions.dates import format_day, half_day_of, now_local, parse_datetime, parse_time
from actions.db import DatabaseUnavailable, run_db
from actions.validation import client_key, format_wait, phone_problem
from bot.db.crypto import hash_phone, hash_value
from bot.db.queries import booking as q
from bot.db.queries import throttle
from bot.db.queries.audit import record_lookup
from bot.numbers import mask_phone, parse_phone

logger = logging.getLogger(__name__)

REQUESTED_SLOT = "requested_slot"
LOOKUP_KIND = "booking"
BUSY_RESPONSE = "utter_service_unavailable"
#: Failed code+phone lookups allowed per conversation before the assistant stops trying.
#: How many days / time slots are offered as buttons.
MAX_DAY_BUTTONS = 6
MAX_SLOT_BUTTONS = 12

BOOKING_FORM_SLOTS = [
    "business_type",
    "booking_county",
    "booking_date",
    "booking_slot",
    "booker_name",
    "booker_phone",
]
LOOKUP_FORM_SLOTS = ["booking_code", "booker_phone"]
#: The only slots a button payload may carry (what the booking buttons offer).
PAYLOAD_SLOTS = frozenset(
    {"business_type", "booking_county", "county", "booking_date", "booking_slot"}
)
#: Slots validated from the citizen's own words only, never taken as given.
PERSONAL_SLOTS = frozenset({"booker_name", "booker_phone", "booking_code"})
RESCHEDULE_FORM_SLOTS = ["booking_code", "booker_phone", "booking_date", "booking_slot"]

#: Display names of the business types (the database's names win when available).
BUSINESS_LABELS: dict[str, str] = {
    "id_card": "身份证办理",
    "hukou_move_in": "户口迁入",
    "birth_registration": "出生登记",
    "death_deregistration": "死亡注销",
    "residence_permit": "居住证",
    "hukou_booklet": "户口簿",
    "certificate": "证明开具",
    "other": "其他户籍业务",
}
# Free-text keywords -> business code, most specific first (新生儿落户 before 落户).
_BUSINESS_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("birth_registration", ("出生", "新生儿", "上户口", "报户口", "宝宝", "孩子落户")),
    ("death_deregistration", ("死亡", "销户", "注销")),
    ("residence_permit", ("居住证",)),
    ("hukou_booklet", ("户口本", "户口簿", "户口薄")),
    ("hukou_move_in", ("迁入", "迁户口", "户口迁", "落户", "迁移")),
    ("id_card", ("身份证", "二代证", "换证", "补证")),
    ("certificate", ("证明",)),
    ("other", ("其他", "其它", "别的")),
]

# Intents after which a message that fills nothing is left to the rules (FAQ, hand-off ...):
# the form then rejects, the interruption is answered and the form resumes.
INTERRUPTION_INTENTS = frozenset(
    {
        "faq",
        "out_of_scope",
        "human_handoff",
        "bot_challenge",
        "ask_capabilities",
        "complain",
        "leave_message",
        "greet",
        "goodbye",
        "thank",
        "query_case_status",
        "check_name",
        "ask_move_in",
        "find_window",
        "find_service_point",
        "my_booking",
        "cancel_booking",
        "reschedule_booking",
    }
)
_CORRECTION_RE = re.compile(r"改|换|不是|错了|应该是|重新|更正|还是")
_PAYLOAD_RE = re.compile(r"^/(?P<intent>[A-Za-z_]+)(?:@[\d.]+)?(?P<entities>\{.*\})?\s*$", re.S)
_CODE_RE = re.compile(r"(?<![A-Z0-9])YY([A-Z0-9]{6})(?![A-Z0-9])")
_NAME_RE = re.compile(r"^[\u4e00-\u9fff][\u4e00-\u9fff·]{1,14}$")
_NAME_PREFIX_RE = re.compile(r"^(?:我叫|我是|本人|姓名是?|名字是?|预约人是?|叫)[:：]?")
_NOT_NAMES = frozenset({"不知道", "不想说", "没有", "随便", "你好", "是的", "好的", "不用", "不要"})


def now() -> dt.datetime:
    """Return the current Beijing time (naive); tests patch this."""
    return now_local()


# --- reading the latest message ------------------------------------------------------------


@dataclass
class Message:
    """The parts of the latest user message the validators look at."""

    text: str = ""
    intent: str | None = None
    entities: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] | None = None

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> Message:
        """Read the latest message of a tracker.

        Args:
            tracker: the conversation tracker.

        Returns:
            The message; ``payload`` holds the JSON of a ``/intent{...}`` button payload.

        """
        latest = tracker.latest_message or {}
        text = str(latest.get("text") or "")
        intent = (latest.get("intent") or {}).get("name")
        entities: dict[str, Any] = {}
        for entity in latest.get("entities") or []:
            if entity.get("entity") and entity.get("value") is not None:
                entities.setdefault(str(entity["entity"]), entity["value"])
        return cls(text=text, intent=intent, entities=entities, payload=parse_payload(text))


def parse_payload(text: str) -> dict[str, Any] | None:
    """Parse a button payload such as ``/inform{"booking_date":"2026-12-05"}``.

    Works even when the entity is not declared in the domain (Rasa then drops it from the
    entities, but the text keeps it).

    Args:
        text: the message text.

    Returns:
        The entity dict (empty for a bare ``/intent``), or None if the text is not a payload.

    """
    match = _PAYLOAD_RE.match(text.strip())
    if not match:
        return None
    raw = match.group("entities")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def find_booking_code(text: str) -> str | None:
    """Find a booking code (``YY`` + 6 letters/digits) in free text.

    Args:
        text: the user's text (case, spaces and dashes inside the code are tolerated).

    Returns:
        The normalised code, or None.

    """
    value = unicodedata.normalize("NFKC", text).upper()
    value = re.sub(r"(?<=[A-Z0-9])[\s\-]+(?=[A-Z0-9])", "", value)
    match = _CODE_RE.search(value)
    return f"YY{match.group(1)}" if match else None


def business_from_text(text: str) -> str | None:
    """Map free text (``补身份证``, ``新生儿落户``) or a code to a business code.

    Args:
        text: the user's text or a code.

    Returns:
        The business code, or None.

    """
    value = unicodedata.normalize("NFKC", text or "").strip().lower()
    if value in BUSINESS_LABELS:
        return value
    for code, label in BUSINESS_LABELS.items():
        if label in value:
            return code
    for code, keywords in _BUSINESS_KEYWORDS:
        if any(word in value for word in keywords):
            return code
    return None


def county_from_text(text: str, candidates: list[str] | None = None) -> str | None:
    """Map free text to a canonical county name (knowledge aliases, then the names given).

    Args:
        text: the user's text (``固安``, ``在开发区``) or a canonical name.
        candidates: canonical names to try by name and short form (``三河`` for 三河市).

    Returns:
        The canonical county name, or None.

    """
    from bot import knowledge

    value = unicodedata.normalize("NFKC", text or "").strip()
    if not value:
        return None
    if candidates and value in candidates:
        return value
    found = knowledge.canonical_county(value)
    if found:
        return found
    best: tuple[int, str] | None = None
    for name in candidates or []:
        short = re.sub(r"(回族自治县|自治县|经济技术开发区|经济区|区|市|县)$", "", name)
        for form in (name, short):
            if len(form) >= 2 and form in value and (best is None or len(form) > best[0]):
                best = (len(form), name)
    return best[1] if best else None


def clean_name(text: str) -> str | None:
    """Validate a citizen's name typed as free text (``我叫张三``, ``张三。``).

    Args:
        text: the text.

    Returns:
        The bare name (2-15 Chinese characters, ``·`` allowed inside), or None.

    """
    value = unicodedata.normalize("NFKC", text or "").strip()
    value = re.sub(r"\s+", "", value)
    value = _NAME_PREFIX_RE.sub("", value)
    value = re.sub(r"[。.!！,，~～]+$", "", value)
    value = value.replace("•", "·").replace("・", "·")
    if value in _NOT_NAMES or not _NAME_RE.match(value) or value.endswith("·"):
        return None
    return value


def mask_name(name: str) -> str:
    """Mask a name, keeping the first character (``张三`` -> ``张*``, ``欧阳娜娜`` -> ``欧***``).

    Args:
        name: the name.

    Returns:
        The masked name.

    """
    if not name:
        return "*"
    return name[0] + "*" * max(1, len(name) - 1)


def phone_value(phone: str) -> dict[str, str]:
    """Build the slot value kept for a validated phone: masked for display, hash for matching.

    Args:
        phone: the 11-digit number.

    Returns:
        ``{"masked": "138****5678", "hash": "<64 hex>"}``.

    """
    return {"masked": mask_phone(phone), "hash": hash_phone(phone)}


def _is_phone_value(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get("hash")) and bool(value.get("masked"))


# --- candidate extraction -----------------------------------------------------------------


def extract_candidates(
    message: Message,
    requested: str | None,
    form_slots: list[str],
    when: dt.datetime,
) -> dict[str, Any]:
    """Work out which form slots the latest message tries to fill, without validating them.

    Args:
        message: the latest message.
        requested: the slot the form asked for (None at activation).
        form_slots: the slots of the running form.
        when: current Beijing time.

    Returns:
        Raw candidate values by slot name. Empty when the message is a ``stop`` or an
        interruption that fills nothing (so the form rejects and the rules take over).

    """
    if message.intent == "stop":
        return {}
    candidates: dict[str, Any] = {}
    if message.payload is not None:
        # A payload carries only what the bot's buttons offer (the channel lets through only
        # payloads it offered); personal slots and codes are always read from typed text.
        values = {k: v for k, v in message.payload.items() if k in PAYLOAD_SLOTS}
        if "county" in values and "booking_county" not in values:
            values["booking_county"] = values["county"]
        for slot in form_slots:
            if slot in values and values[slot] not in (None, ""):
                candidates[slot] = values[slot]
        if "business_type" in values and "business_type" not in candidates:
            candidates["business_type"] = values["business_type"]
        return _only(candidates, form_slots)

    text = message.text
    correction = bool(_CORRECTION_RE.search(text))
    personal_step = requested in ("booker_name", "booker_phone", "booking_code")
    context_allowed = not personal_step or correction
    if context_allowed:
        business = message.entities.get("business_type")
        if business is None and (requested in (None, "business_type") or correction):
            business = business_from_text(text)
        if business is not None:
            candidates["business_type"] = business
        county = message.entities.get("county")
        if county is None and (requested in (None, "booking_county") or correction):
            county = county_from_text(text)
        if county is not None:
            candidates["booking_county"] = county
        parsed = parse_datetime(text, when)
        if parsed.day is not None:
            candidates["booking_date"] = parsed.day.isoformat()
        if parsed.time is not None or parsed.half_day is not None:
            if parsed.day is not None or requested in (None, "booking_date", "booking_slot"):
                # A time alone while the day is asked for becomes a preference for later.
                candidates["booking_slot"] = (
                    parsed.time.strftime("%H:%M") if parsed.time else parsed.half_day
                )
    code = find_booking_code(text)
    if code:
        candidates["booking_code"] = code
    phone = parse_phone(text)
    if phone:
        candidates["booker_phone"] = phone

    candidates = _only(candidates, form_slots)
    if requested and requested in form_slots and requested not in candidates:
        interruption = message.intent in INTERRUPTION_INTENTS
        if requested == "booker_name":
            interruption = interruption and message.intent != "check_name"
        if candidates:
            pass  # the message was about something else (a correction): do not guess a value
        elif not interruption and text.strip():
            candidates[requested] = text
    return candidates


def _only(candidates: dict[str, Any], form_slots: list[str]) -> dict[str, Any]:
    allowed = set(form_slots)
    if "booking_date" in form_slots:
        allowed.add("booking_county")  # rescheduling may move to another county
    return {k: v for k, v in candidates.items() if k in allowed}


# --- validation (runs in a worker thread with one DB session) -------------------------------


@dataclass
class TurnResult:
    """Slot updates and messages produced by one validation turn."""

    state: dict[str, Any]
    updates: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    stop_form: bool = False

    def set(self, slot: str, value: Any) -> None:
        """Set a slot (recorded as an update)."""
        self.state[slot] = value
        self.updates[slot] = value

    def say(self, text: str) -> None:
        """Queue a message for the citizen."""
        self.messages.append(text)


def _business_label(session: Session, code: str | None) -> str:
    if not code:
        return "业务"
    return q.business_name(session, code) or BUSINESS_LABELS.get(code, code)


def _to_date(value: Any, when: dt.datetime) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    text = str(value)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return parse_datetime(text, when).day


def _slot_preference(value: Any) -> tuple[dt.time | None, str | None]:
    """Classify a time preference: ``"15:30"``, ``"afternoon"`` or free text."""
    text = str(value)
    if text in ("morning", "noon", "afternoon", "evening"):
        return None, text
    if re.fullmatch(r"\d{2}:\d{2}", text):
        hour, minute = (int(p) for p in text.split(":"))
        when = dt.time(hour, minute)
        return when, half_day_of(when)
    return parse_time(text)


def _filter_half_day(slots: list[q.SlotView], half_day: str | None) -> list[q.SlotView]:
    if not half_day:
        return slots
    return [s for s in slots if half_day_of(s.start_time) == half_day] or []


def _check_day(
    session: Session, state: dict[str, Any], day: dt.date | None, when: dt.datetime
) -> str | None:
    """Return why ``day`` cannot be booked for the chosen business/county, or None."""
    today = when.date()
    if day is None:
        return "抱歉，没听懂是哪一天。可以说“明天”“下周三”“12月5日”，或点选下面的日期。"
    label = format_day(day, today)
    if day < today:
        return f"{label}已经过去了，请选择今天以后的日期。"
    reason = q.closed_reason(session, day)
    if reason:
        reason = "周末" if reason in ("周六", "周日") else reason
        return f"{label}是{reason}，窗口不办公，请选择工作日。"
    if day > today + dt.timedelta(days=q.DEFAULT_HORIZON_DAYS):
        return f"目前只能预约{q.DEFAULT_HORIZON_DAYS}天以内的日期，请重新选择。"
    business, county = state.get("business_type"), state.get("booking_county")
    if business and county:
        if not q.available_slots(session, business, county, day, when):
            what = _business_label(session, business)
            if day == today:
                return f"今天{county}的{what}已约满或已过办理时间，请选择其他日期。"
            return f"{label}{county}的{what}已约满，请选择其他日期。"
    return None


def validate_booking_turn(
    session: Session,
    candidates: dict[str, Any],
    state: dict[str, Any],
    when: dt.datetime,
) -> TurnResult:
    """Validate one turn of the booking (or reschedule) form in slot order.

    Slots depending on a changed one are re-checked or cleared: a new business or county
    clears the chosen time slot and re-checks the day; a new day clears the time slot unless
    the same message also named a time that is free.

    Args:
        session: open session.
        candidates: raw values from :func:`extract_candidates` (or prefilled slots).
        state: current values of the form's slots (and ``booking_time_pref``).
        when: current Beijing time.

    Returns:
        The slot updates and messages.

    """
    result = TurnResult(state=dict(state))
    st = result.state
    today = when.date()

    place_changed = False
    if "business_type" in candidates:
        bookable = dict(q.list_business_types(session))
        raw = candidates["business_type"]
        code = str(raw) if str(raw) in bookable else business_from_text(str(raw))
        if code is None or code not in bookable:
            result.say("抱歉，这项业务暂不能在线预约，请从下面选择要办理的业务。")
            result.set("business_type", None)
        else:
            place_changed |= code != state.get("business_type")
            result.set("business_type", code)

    if "booking_county" in candidates:
        raw = str(candidates["booking_county"])
        business = st.get("business_type")
        allowed = q.list_counties(session, business)
        county = county_from_text(raw, allowed)
        if county is None or county not in allowed:
            known = county_from_text(raw, q.list_counties(session))
            if known:
                result.say(
                    f"{known}暂时没有可预约{_business_label(session, business)}的窗口，"
                    "请选择其他区县。"
                )
            else:
                result.say("抱歉，没找到这个区县，请从下面选择廊坊市的区县。")
            result.set("booking_county", None)
        else:
            place_changed |= county != state.get("booking_county")
            result.set("booking_county", county)

    if (
        place_changed
        and "booking_county" not in candidates
        and st.get("booking_county")
        and st.get("business_type")
        and st["booking_county"] not in q.list_counties(session, st["business_type"])
    ):
        result.say(
            f"{st['booking_county']}暂时没有可预约{_business_label(session, st['business_type'])}"
            "的窗口，请选择其他区县。"
        )
        result.set("booking_county", None)
    if place_changed and st.get("booking_slot"):
        result.set("booking_slot", None)

    date_candidate = candidates.get("booking_date")
    recheck = False
    if date_candidate is None and place_changed and st.get("booking_date"):
        date_candidate, recheck = st["booking_date"], True
    day_changed = False
    if date_candidate is not None:
        day = _to_date(date_candidate, when)
        problem = _check_day(session, st, day, when)
        if problem:
            result.say(problem)
            result.set("booking_date", None)
            if st.get("booking_slot"):
                result.set("booking_slot", None)
        else:
            assert day is not None
            iso = day.isoformat()
            day_changed = iso != state.get("booking_date")
            if day_changed or not recheck:
                result.set("booking_date", iso)
            if day_changed and st.get("booking_slot") and "booking_slot" not in candidates:
                result.set("booking_slot", None)

    slot_candidate = candidates.get("booking_slot")
    if slot_candidate is None and (day_changed or place_changed) and st.get("booking_time_pref"):
        slot_candidate = st["booking_time_pref"]
    if slot_candidate is not None:
        _validate_slot_choice(session, result, slot_candidate, when, today)
    return result


def _validate_slot_choice(
    session: Session, result: TurnResult, value: Any, when: dt.datetime, today: dt.date
) -> None:
    st = result.state
    business, county, day_iso = (
        st.get("business_type"),
        st.get("booking_county"),
        st.get("booking_date"),
    )
    text = str(value).strip()
    if text.isdigit():
        slot = q.get_slot(session, int(text))
        if (
            slot is not None
            and slot.business_code == business
            and slot.county == county
            and any(
                s.id == slot.id
                for s in q.available_slots(session, business, county, slot.day, when)
            )
        ):
            result.set("booking_slot", str(slot.id))
            if slot.day.isoformat() != day_iso:
                result.set("booking_date", slot.day.isoformat())
            if st.get("booking_time_pref"):
                result.set("booking_time_pref", None)
            return
        result.say("抱歉，这个时间段刚刚约满或已不可预约，请重新选择。")
        result.set("booking_slot", None)
        return

    exact, half_day = _slot_preference(text)
    if exact is None and half_day is None:
        result.say("抱歉，没听懂您要哪个时间段，可以直接点选，或说“上午十点”“下午三点半”。")
        result.set("booking_slot", None)
        return
    preference = exact.strftime("%H:%M") if exact else half_day
    if not (business and county and day_iso):
        result.set("booking_time_pref", preference)  # applied once the day is known
        return
    free = q.available_slots(session, business, county, dt.date.fromisoformat(day_iso), when)
    if exact is not None:
        match = next((s for s in free if s.start_time == exact), None) or next(
            (s for s in free if s.start_time <= exact < s.end_time), None
        )
        if match is not None:
            result.set("booking_slot", str(match.id))
            if st.get("booking_time_pref"):
                result.set("booking_time_pref", None)
            return
        result.say(f"{exact:%H:%M}没有可预约的空位（已约满或不在办理时间），请从下面选择。")
        result.set("booking_slot", None)
        result.set("booking_time_pref", half_day)
        return
    result.set("booking_slot", None)
    result.set("booking_time_pref", half_day)
    if not _filter_half_day(free, half_day):
        label = {"morning": "上午", "noon": "中午", "afternoon": "下午", "evening": "晚上"}
        result.say(f"这天{label.get(str(half_day), '')}没有可预约的时间段了，请看看其他时间。")
        result.set("booking_time_pref", None)


def validate_personal(candidates: dict[str, Any], result: TurnResult) -> None:
    """Validate the name and phone candidates (pure, no database).

    Args:
        candidates: raw candidate values.
        result: the turn result to update.

    """
    if "booker_name" in candidates:
        name = clean_name(str(candidates["booker_name"]))
        if name is None:
            result.say("请输入预约人的真实姓名（与身份证一致，2-15个汉字）。")
            result.set("booker_name", None)
        else:
            result.set("booker_name", mask_name(name))
    if "booker_phone" in candidates:
        raw_phone = str(candidates["booker_phone"])
        phone = parse_phone(raw_phone)
        if phone is None:
            result.say(phone_problem(raw_phone))
            result.set("booker_phone", None)
        else:
            result.set("booker_phone", phone_value(phone))


def _slot_state(tracker: Tracker, slots: list[str]) -> dict[str, Any]:
    names = set(slots) | {"business_type", "booking_county", "booking_time_pref"}
    return {name: tracker.get_slot(name) for name in names}


def _emit(dispatcher: CollectingDispatcher, result: TurnResult) -> List[EventType]:
    for text in result.messages:
        dispatcher.utter_message(text=text)
    events: List[EventType] = [SlotSet(k, v) for k, v in result.updates.items()]
    if result.stop_form:
        events.append(SlotSet(REQUESTED_SLOT, None))
    return events


def _busy(dispatcher: CollectingDispatcher, stop_form: bool = True) -> List[EventType]:
    dispatcher.utter_message(response=BUSY_RESPONSE)
    events: List[EventType] = [SlotSet("booker_phone", None)]
    if stop_form:
        events.append(SlotSet(REQUESTED_SLOT, None))
    return events


_NEUTRAL_EVENTS = frozenset(
    {"slot", "active_loop", "loop_interrupted", "user_featurization", "entities"}
)


def message_is_fresh(tracker: Tracker) -> bool:
    """Tell whether nothing but slot filling happened since the latest user message.

    The form also runs after an interruption was answered, or as a follow-up of another
    action; the latest message then has been dealt with already and must not be read again.

    Args:
        tracker: the tracker given to the validation action.

    Returns:
        Whether the latest user message is still to be read.

    """
    allowed_actions = {"action_extract_slots", "action_listen", tracker.active_loop_name}
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind in _NEUTRAL_EVENTS:
            continue
        if kind == "action" and event.get("name") in allowed_actions:
            continue
        return False
    return True


def _candidates(tracker: Tracker, form_slots: list[str], when: dt.datetime) -> dict[str, Any]:
    """Prefilled/extracted values given by Rasa plus what the latest message says."""
    # Values set earlier in this turn by the server (never personal ones: those are only
    # ever read from what the citizen typed, below).
    given = {
        k: v
        for k, v in tracker.slots_to_validate().items()
        if k in form_slots and k not in PERSONAL_SLOTS
    }
    requested = tracker.get_slot(REQUESTED_SLOT)
    if tracker.active_loop_name is None or requested not in form_slots:
        requested = None
    if not message_is_fresh(tracker):
        return given
    message = Message.from_tracker(tracker)
    extracted = extract_candidates(message, requested, form_slots, when)
    if requested is None and "booking_county" in form_slots and "booking_county" not in extracted:
        county = tracker.get_slot("county")
        if county and not tracker.get_slot("booking_county"):
            extracted["booking_county"] = county
    given.update(extracted)
    return given


class ValidateBookingForm(FormValidationAction):
    """Extracts and validates the booking form's slots from buttons, entities and free text."""

    def name(self) -> str:
        """Return the action name."""
        return "validate_booking_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Validate this turn (all slots at once, in form order) and return the slot events."""
        when = now()
        candidates = _candidates(tracker, BOOKING_FORM_SLOTS, when)
        if not candidates:
            return []
        state = _slot_state(tracker, BOOKING_FORM_SLOTS)
        try:
            result = await run_db(validate_booking_turn, candidates, state, when)
        except DatabaseUnavailable:
            logger.warning("booking form: database unavailable")
            return _busy(dispatcher)
        validate_personal(candidates, result)
        return _emit(dispatcher, result)


# --- asking with buttons ------------------------------------------------------------------


def _inform(**entities: str) -> str:
    return "/inform" + json.dumps(entities, ensure_ascii=False, separators=(",", ":"))


def business_prompt(session: Session) -> tuple[str, list[dict[str, str]]]:
    """Text and buttons asking for the business type (bookable businesses only).

    Args:
        session: open session.

    Returns:
        ``(text, buttons)``.

    """
    buttons = [
        {"title": name, "payload": _inform(business_type=code)}
        for code, name in q.list_business_types(session)
    ]
    return "请问您要预约办理哪项业务？", buttons


def county_prompt(session: Session, business: str | None) -> tuple[str, list[dict[str, str]]]:
    """Text and buttons asking for the county (counties with a window for the business).

    Args:
        session: open session.
        business: business code, if known.

    Returns:
        ``(text, buttons)``.

    """
    counties = q.list_counties(session, business)
    buttons = [{"title": c, "payload": _inform(booking_county=c)} for c in counties]
    return "请选择要去哪个区县的户籍窗口办理：", buttons


def date_prompt(
    session: Session, business: str, county: str, when: dt.datetime
) -> tuple[str, list[dict[str, str]]]:
    """Text and buttons offering the next working days with free places.

    Args:
        session: open session.
        business: business code.
        county: canonical county name.
        when: current Beijing time.

    Returns:
        ``(text, buttons)``; no buttons when nothing is free within the horizon.

    """
    days = q.available_days(session, business, county, when, limit=MAX_DAY_BUTTONS)
    what = _business_label(session, business)
    if not days:
        return (
            f"抱歉，{county}近{q.DEFAULT_HORIZON_DAYS}天的{what}预约已满。"
            "您可以换个区县，或过几天再来预约。",
            [],
        )
    buttons = [
        {
            "title": f"{format_day(day, when.date())} 余{free}",
            "payload": _inform(booking_date=day.isoformat()),
        }
        for day, free in days
    ]
    return (
        f"请选择{county}{what}的预约日期（也可以直接说“明天”“下周三”“12月5日”）：",
        buttons,
    )


def slot_prompt(
    session: Session,
    business: str,
    county: str,
    day: dt.date,
    half_day: str | None,
    when: dt.datetime,
) -> tuple[str, list[dict[str, str]]]:
    """Text and buttons offering the free time slots of a day (optionally one half-day).

    Args:
        session: open session.
        business: business code.
        county: canonical county name.
        day: the day.
        half_day: ``morning``/``afternoon``/... to show only that part of the day.
        when: current Beijing time.

    Returns:
        ``(text, buttons)``; no buttons when the day has nothing free.

    """
    free = q.available_slots(session, business, county, day, when)
    label = format_day(day, when.date())
    if half_day is None and len(free) > MAX_SLOT_BUTTONS:
        halves = [
            (name, title, len(_filter_half_day(free, name)))
            for name, title in (("morning", "上午"), ("afternoon", "下午"))
        ]
        if all(count for _name, _title, count in halves):
            return f"{label}上午、下午都有空位，请问您想约上午还是下午？", [
                {"title": f"{title}（余{count}个时段）", "payload": _inform(booking_slot=name)}
                for name, title, count in halves
            ]
    shown = _filter_half_day(free, half_day) or free
    several_windows = len({s.window_id for s in shown}) > 1
    buttons = []
    for slot in shown[:MAX_SLOT_BUTTONS]:
        title = f"{slot.time_label} 余{slot.free}"
        if several_windows:
            title = f"{_button_window(slot.window_name, slot.county)} {title}"
        buttons.append({"title": title, "payload": _inform(booking_slot=str(slot.id))})
    if not buttons:
        return f"抱歉，{label}已经没有可预约的时间段了。", []
    more = "（也可以直接说时间，如“下午三点”）" if len(shown) > MAX_SLOT_BUTTONS else ""
    return f"请选择{label}的时间段{more}：", buttons


def _short_window(name: str) -> str:
    """Window name for replies: without the sample-data marker."""
    return re.sub(r"（示例）|\(示例\)", "", name).strip()


def _button_window(name: str, county: str) -> str:
    """Window name short enough for a button (``固安镇派出所``, ``户政服务大厅``)."""
    value = _short_window(name)
    short_county = re.sub(r"(回族自治县|经济技术开发区|临空经济区|区|市|县)$", "", county)
    for prefix in ("廊坊市公安局", f"{county}公安局", f"{short_county}公安局", county):
        if value.startswith(prefix) and len(value) > len(prefix):
            value = value[len(prefix) :]
    value = re.sub(r"户籍窗口$", "", value)
    return value[:12]


class ActionAskBusinessType(Action):
    """Asks for the business type with one button per bookable business."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_business_type"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Send the question with buttons."""
        try:
            text, buttons = await run_db(business_prompt)
        except DatabaseUnavailable:
            return _busy(dispatcher)
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionAskBookingCounty(Action):
    """Asks for the county with one button per county that takes bookings for the business."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_booking_county"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Send the question with buttons."""
        try:
            text, buttons = await run_db(county_prompt, tracker.get_slot("business_type"))
        except DatabaseUnavailable:
            return _busy(dispatcher)
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionAskBookingDate(Action):
    """Offers the next working days that still have free places, as buttons."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_booking_date"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Send the days; if none is free, say so and leave the form."""
        business = tracker.get_slot("business_type")
        county = tracker.get_slot("booking_county")
        if not business or not county:
            dispatcher.utter_message(text="请问您想预约哪一天？")
            return []
        try:
            text, buttons = await run_db(date_prompt, business, county, now())
        except DatabaseUnavailable:
            return _busy(dispatcher)
        if not buttons:
            dispatcher.utter_message(
                text=text,
                buttons=[{"title": "换个区县", "payload": "/book_appointment"}],
            )
            return [SlotSet("booking_county", None), SlotSet(REQUESTED_SLOT, None)]
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionAskBookingSlot(Action):
    """Offers the free time slots of the chosen day (of the preferred half-day if said)."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_booking_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Send the time slots; if the day filled up meanwhile, offer days again."""
        business = tracker.get_slot("business_type")
        county = tracker.get_slot("booking_county")
        day_iso = tracker.get_slot("booking_date")
        if not (business and county and day_iso):
            dispatcher.utter_message(text="请问您想约几点？")
            return []
        pref = tracker.get_slot("booking_time_pref")
        half_day = pref if pref in ("morning", "noon", "afternoon", "evening") else None
        when = now()
        try:
            text, buttons = await run_db(
                slot_prompt, business, county, dt.date.fromisoformat(day_iso), half_day, when
            )
            if buttons:
                dispatcher.utter_message(text=text, buttons=buttons)
                return []
            date_text, date_buttons = await run_db(date_prompt, business, county, when)
        except DatabaseUnavailable:
            return _busy(dispatcher)
        dispatcher.utter_message(text=text)
        dispatcher.utter_message(text=date_text, buttons=date_buttons)
        events: List[EventType] = [SlotSet("booking_date", None)]
        if date_buttons:
            events.append(SlotSet(REQUESTED_SLOT, "booking_date"))
        else:
            events.append(SlotSet(REQUESTED_SLOT, None))
        return events


def _summary_of_choice(session: Session, slot_id: int, when: dt.datetime) -> str | None:
    slot = q.get_slot(session, slot_id)
    if slot is None:
        return None
    what = _business_label(session, slot.business_code)
    return (
        f"您选择的是：{what}，{format_day(slot.day, when.date())} {slot.time_label}，"
        f"{_short_window(slot.window_name)}。"
    )


class ActionAskBookerName(Action):
    """Recaps the chosen slot and asks for the booker's name."""

    def name(self) -> str:
        """Return the action name."""
        return "action_ask_booker_name"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Send the recap and the question."""
        slot_id = tracker.get_slot("booking_slot")
        summary = None
        if slot_id and str(slot_id).isdigit():
            try:
                summary = await run_db(_summary_of_choice, int(slot_id), now())
            except DatabaseUnavailable:
                return _busy(dispatcher)
        question = "请输入预约人姓名（与身份证一致）："
        dispatcher.utter_message(text=f"{summary}\n{question}" if summary else question)
        return []


# --- booking ------------------------------------------------------------------------------


def _booking_lines(view: q.BookingView, today: dt.date) -> list[str]:
    return [
        f"业务：{view.business_name or BUSINESS_LABELS.get(view.business_code, '')}",
        f"时间：{format_day(view.day, today)} {view.time_label}",
        f"地点：{_short_window(view.window_name)}（{view.address}，电话{view.window_phone}）",
        f"预约人：{view.name_masked}，手机：{view.phone_masked}",
    ]


_RESET_AFTER_BOOKING = [
    "business_type",
    "booking_county",
    "booking_date",
    "booking_slot",
    "booking_time_pref",
    "booker_name",
    "booker_phone",
]


class ActionBookSlot(Action):
    """Books the chosen slot (atomically) and answers with the booking code."""

    def name(self) -> str:
        """Return the action name."""
        return "action_book_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Book, then reply with the code, or explain why not and offer what is possible."""
        values = {slot: tracker.get_slot(slot) for slot in BOOKING_FORM_SLOTS}
        phone = values["booker_phone"]
        if (
            not all(values.values())
            or not _is_phone_value(phone)
            or not str(values["booking_slot"]).isdigit()
        ):
            # The form was left early (database trouble already reported, or nothing free).
            return [SlotSet("booker_phone", None)]
        when = now()
        try:
            result = await run_db(
                q.book_slot,
                int(values["booking_slot"]),
                values["business_type"],
                values["booker_name"],
                phone["hash"],
                phone["masked"],
                when,
            )
        except DatabaseUnavailable:
            logger.warning("booking failed: database unavailable (%s)", phone["masked"])
            return _busy(dispatcher, stop_form=False)
        except IntegrityError:  # a constraint refused it at the last moment: treat as taken
            logger.info("booking refused by a constraint (%s)", phone["masked"])
            result = q.BookResult("full")
        logger.info(
            "booking attempt slot=%s phone=%s -> %s",
            values["booking_slot"],
            phone["masked"],
            result.status,
        )
        if result.status == "ok" and result.booking is not None:
            view = result.booking
            lines = [f"预约成功！您的预约码：{view.code}"] + _booking_lines(view, when.date())
            lines.append("请带好身份证件和相关材料按时到窗口，出示预约码即可办理，无需排队。")
            dispatcher.utter_message(
                text="\n".join(lines),
                buttons=[
                    {"title": "查看我的预约", "payload": "/my_booking"},
                    {"title": "改约", "payload": "/reschedule_booking"},
                    {"title": "取消预约", "payload": "/cancel_booking"},
                ],
            )
            return [SlotSet(slot, None) for slot in _RESET_AFTER_BOOKING] + [
                SlotSet("booking_code", view.code)
            ]
        if result.status == "duplicate":
            dispatcher.utter_message(
                text=(
                    "该手机号当天已预约过这项业务（同一业务每人每天只能预约一次）。"
                    "如需调整时间，请说“改约”；查看已有预约请说“我的预约”。"
                ),
                buttons=[
                    {"title": "我的预约", "payload": "/my_booking"},
                    {"title": "改约", "payload": "/reschedule_booking"},
                ],
            )
            return [SlotSet(slot, None) for slot in _RESET_AFTER_BOOKING]
        # full / unavailable: the slot went meanwhile; keep the choices and ask for another time.
        dispatcher.utter_message(text="抱歉，这个时间段刚刚被约满了，请重新选择时间。")
        return [
            SlotSet("booking_slot", None),
            SlotSet("booker_phone", None),
            FollowupAction("booking_form"),
        ]


# --- my booking / cancel / reschedule ------------------------------------------------------


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
            result.say("预约码是YY加6位字母或数字（例如 YY7KQ2MD），请核对后重新输入。")
        result.set("booking_code", code)
    validate_personal({k: v for k, v in candidates.items() if k == "booker_phone"}, result)
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
        result.say(
            f"查询失败次数较多，为保护个人信息安全，请{format_wait(verdict.wait_seconds)}后再试，"
            "或携带身份证件到户籍窗口咨询。"
        )
        result.set("booking_code", None)
        result.set("booker_phone", None)
        result.stop_form = True
        return result
    view = q.find_booking(session, code, phone["hash"])
    if view is None:
        audit("not_found")
        result.set("booking_code", None)
        result.set("booker_phone", None)
        result.say("没有找到与这个手机号对应的预约，请核对预约码和手机号后重新输入。")
    else:
        audit("ok")
        result.set("business_type", view.business_code)
        result.set("booking_county", view.county)
    return result


def mask_code(code: str) -> str:
    """Mask a booking code for the audit (``YY7K****``)."""
    return f"{code[:4]}****"


class _ValidateLookupForm(FormValidationAction):
    """Shared validation of the code+phone forms (my booking, cancel, reschedule)."""

    form_slots: list[str] = LOOKUP_FORM_SLOTS

    @abstractmethod
    def name(self) -> str:
        """Return the action name (each concrete form defines it)."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Validate code and phone, then (reschedule) the new day and time slot."""
        when = now()
        candidates = _candidates(tracker, self.form_slots, when)
        if not candidates:
            return []
        state = _slot_state(tracker, self.form_slots)
        lookup_candidates = {k: v for k, v in candidates.items() if k in LOOKUP_FORM_SLOTS}
        try:
            result = TurnResult(state=dict(state))
            if lookup_candidates:
                result = await run_db(
                    check_code_and_phone,
                    lookup_candidates,
                    state,
                    tracker.sender_id,
                    client_key(tracker),
                )
            booking_candidates = {
                k: v for k, v in candidates.items() if k in ("booking_date", "booking_slot")
            }
            if booking_candidates and not result.stop_form and "booking_date" in self.form_slots:
                if result.state.get("booking_code") and _is_phone_value(
                    result.state.get("booker_phone")
                ):
                    follow = await run_db(
                        validate_booking_turn, booking_candidates, result.state, when
                    )
                    result.updates.update(follow.updates)
                    result.messages.extend(follow.messages)
                    result.state = follow.state
        except DatabaseUnavailable:
            logger.warning("%s: database unavailable", self.name())
            return _busy(dispatcher)
        return _emit(dispatcher, result)


class ValidateMyBookingForm(_ValidateLookupForm):
    """Validates the “我的预约” form (booking code + phone)."""

    def name(self) -> str:
        """Return the action name."""
        return "validate_my_booking_form"


class ValidateCancelBookingForm(_ValidateLookupForm):
    """Validates the cancel form (booking code + phone)."""

    def name(self) -> str:
        """Return the action name."""
        return "validate_cancel_booking_form"


class ValidateRescheduleBookingForm(_ValidateLookupForm):
    """Validates the reschedule form (booking code + phone, then new day and time slot)."""

    form_slots = RESCHEDULE_FORM_SLOTS

    def name(self) -> str:
        """Return the action name."""
        return "validate_reschedule_booking_form"


_RESET_AFTER_LOOKUP = [
    "booker_phone",
    "booking_date",
    "booking_slot",
    "booking_time_pref",
    "business_type",
    "booking_county",
]


def _code_and_phone(tracker: Tracker) -> tuple[str, dict[str, str]] | None:
    code, phone = tracker.get_slot("booking_code"), tracker.get_slot("booker_phone")
    if not code or not _is_phone_value(phone):
        return None
    return str(code), phone


async def _run_lookup_action(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    work: Callable[[tuple[str, dict[str, str]], dt.datetime], Any],
) -> List[EventType]:
    reset: List[EventType] = [SlotSet(slot, None) for slot in _RESET_AFTER_LOOKUP]
    found = _code_and_phone(tracker)
    if found is None:
        return reset  # the form was left early; the reason has been said
    try:
        await work(found, now())
    except DatabaseUnavailable:
        dispatcher.utter_message(response=BUSY_RESPONSE)
    except IntegrityError:  # a concurrent change won; nothing was written
        dispatcher.utter_message(text="操作没有成功，请稍后再试。")
    return reset


class ActionMyBooking(Action):
    """Shows a booking found by code + phone (masked personal data only)."""

    def name(self) -> str:
        """Return the action name."""
        return "action_my_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Look the booking up and describe it."""

        async def work(found: tuple[str, dict[str, str]], when: dt.datetime) -> None:
            view = await run_db(q.find_booking, found[0], found[1]["hash"])
            if view is None:
                dispatcher.utter_message(text="没有找到与这个手机号对应的预约。")
                return
            status = "有效" if view.status == "active" else "已取消"
            if view.status == "active" and dt.datetime.combine(view.day, view.end_time) < when:
                status = "已过期"
            lines = [f"预约码 {view.code}（{status}）"] + _booking_lines(view, when.date())
            buttons = []
            if status == "有效":
                buttons = [
                    {"title": "改约", "payload": "/reschedule_booking"},
                    {"title": "取消预约", "payload": "/cancel_booking"},
                ]
            dispatcher.utter_message(text="\n".join(lines), buttons=buttons)

        return await _run_lookup_action(dispatcher, tracker, work)


class ActionCancelBooking(Action):
    """Cancels a booking found by code + phone and gives the place back."""

    def name(self) -> str:
        """Return the action name."""
        return "action_cancel_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Cancel and confirm."""

        async def work(found: tuple[str, dict[str, str]], when: dt.datetime) -> None:
            result = await run_db(q.cancel_booking, found[0], found[1]["hash"], when)
            logger.info("cancel %s phone=%s -> %s", found[0], found[1]["masked"], result.status)
            if result.status == "ok" and result.booking is not None:
                view = result.booking
                dispatcher.utter_message(
                    text=(
                        f"已为您取消预约 {view.code}（{format_day(view.day, when.date())} "
                        f"{view.time_label}，{_short_window(view.window_name)}）。"
                        "如需重新预约，请说“我要预约”。"
                    )
                )
            elif result.status == "already_cancelled":
                dispatcher.utter_message(text="这个预约已经取消过了，无需再次取消。")
            elif result.status == "past":
                dispatcher.utter_message(text="这个预约的时间已经开始或已过，不能再取消了。")
            else:
                dispatcher.utter_message(text="没有找到与这个手机号对应的预约。")

        return await _run_lookup_action(dispatcher, tracker, work)


class ActionRescheduleBooking(Action):
    """Moves a booking to the newly chosen slot (same code), atomically."""

    def name(self) -> str:
        """Return the action name."""
        return "action_reschedule_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Reschedule and confirm, or explain why not."""
        new_slot = tracker.get_slot("booking_slot")
        retry: List[EventType] = []

        async def work(found: tuple[str, dict[str, str]], when: dt.datetime) -> None:
            if not new_slot or not str(new_slot).isdigit():
                return
            result = await run_db(
                q.reschedule_booking, found[0], found[1]["hash"], int(new_slot), when
            )
            logger.info("reschedule %s phone=%s -> %s", found[0], found[1]["masked"], result.status)
            if result.status == "ok" and result.booking is not None:
                view = result.booking
                lines = [f"改约成功！预约码不变：{view.code}"] + _booking_lines(view, when.date())[
                    :3
                ]
                dispatcher.utter_message(text="\n".join(lines))
            elif result.status == "same":
                dispatcher.utter_message(text="新时间和原预约相同，预约保持不变。")
            elif result.status == "full" or result.status == "unavailable":
                dispatcher.utter_message(text="抱歉，这个时间段刚刚被约满了，请重新选择时间。")
                retry.extend([FollowupAction("reschedule_booking_form")])
            elif result.status == "duplicate":
                dispatcher.utter_message(
                    text="您当天已有同一业务的其他预约（同一业务每人每天只能预约一次），请换一天。"
                )
            elif result.status == "past":
                dispatcher.utter_message(text="原预约的时间已经开始或已过，不能再改约了。")
            elif result.status == "cancelled":
                dispatcher.utter_message(
                    text="这个预约已经取消，不能改约。请说“我要预约”重新预约。"
                )
            else:
                dispatcher.utter_message(text="没有找到与这个手机号对应的预约。")

        events = await _run_lookup_action(dispatcher, tracker, work)
        if retry:
            # Keep code and phone for the retry; only the time choice is asked again.
            return [SlotSet("booking_slot", None)] + retry
        return events


class ActionBookingStopped(Action):
    """Leaves a booking/lookup form on “算了/取消”: forgets the choices and the phone."""

    def name(self) -> str:
        """Return the action name."""
        return "action_booking_stopped"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Confirm and clear every booking slot except a booking code already given out."""
        dispatcher.utter_message(response="utter_stopped")
        return [SlotSet(slot, None) for slot in _RESET_AFTER_BOOKING]
