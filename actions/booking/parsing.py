"""Reading what a citizen said during booking: which form slots a message tries to fill.

No database and no validation here: :func:`extract_candidates` only finds raw candidates in
the latest message (button entities, NLU entities, Chinese dates and times, codes, phones,
names); :mod:`actions.booking.rules` decides whether they can be booked.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker

from actions.dates import parse_datetime
from bot import knowledge
from bot.nlu.evaluate import full_label
from bot.numbers import parse_phone

REQUESTED_SLOT = "requested_slot"

#: The only slots a button payload may fill (what the booking buttons offer). Personal slots
#: and codes are always read from typed text.
PAYLOAD_SLOTS = (
    "business_type",
    "booking_county",
    "booking_date",
    "booking_slot",
    "booking_window",
)

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
#: Not a slot: the text of a message that chose a day, which may also name a window.
WINDOW_HINT = "booking_window_hint"
# Questions that name a business or a county without choosing it for the booking.
SIDE_QUESTION_INTENTS = frozenset({"faq", "ask_move_in", "out_of_scope"})
# Steps at which a time alone ("下午三点") is an answer: at the confirmation it changes the time.
TIME_STEPS = (None, "booking_date", "booking_slot", "booking_confirmed")
_CORRECTION_RE = re.compile(r"改|换|不是|错了|应该是|重新|更正|还是")
_CODE_RE = re.compile(r"(?<![A-Z0-9])YY([A-Z0-9]{6})(?![A-Z0-9])")
_NAME_RE = re.compile(r"^[\u4e00-\u9fff][\u4e00-\u9fff·]{1,14}$")
_NAME_PREFIX_RE = re.compile(r"^(?:我叫|我是|本人|姓名是?|名字是?|预约人是?|叫)[:：]?")
_NOT_NAMES = frozenset({"不知道", "不想说", "没有", "随便", "你好", "是的", "好的", "不用", "不要"})
_NEUTRAL_EVENTS = frozenset(
    {"slot", "active_loop", "loop_interrupted", "user_featurization", "entities"}
)


@dataclass(frozen=True)
class LatestMessage:
    """The parts of the citizen's latest message that booking looks at.

    Attributes:
        text: what was typed (or the payload of a clicked button).
        intent: the intent Rasa gave it.
        entities: first value per entity type (from NLU, or from a button's payload).
        from_button: whether it is a button payload (``/intent{...}``).
    """

    text: str = ""
    intent: str | None = None
    entities: dict[str, Any] = field(default_factory=dict)
    from_button: bool = False

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> LatestMessage:
        """Read the latest message of a tracker."""
        latest = tracker.latest_message or {}
        text = str(latest.get("text") or "")
        entities: dict[str, Any] = {}
        for entity in latest.get("entities") or []:
            if entity.get("entity") and entity.get("value") is not None:
                entities.setdefault(str(entity["entity"]), entity["value"])
        return cls(
            text=text,
            intent=(latest.get("intent") or {}).get("name"),
            entities=entities,
            from_button=text.startswith("/"),
        )


def message_is_fresh(tracker: Tracker) -> bool:
    """Whether the latest user message is still to be read by the form's extractors.

    The form's validation action also runs after an interruption was answered, or as the
    follow-up of another action; the latest message has been dealt with then.

    Args:
        tracker: the tracker given to the validation action.

    Returns:
        True when nothing but slot filling happened since the latest user message.
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


def business_of_previous_topic(tracker: Tracker) -> str | None:
    """The bookable business of the question answered just before the latest message.

    "身份证丢了" (the lost-card answer), then "预约窗口": the booking is for 居民身份证, so
    the form need not ask. The topic's business comes from ``topics.yml``.

    Args:
        tracker: the tracker given to the validation action.

    Returns:
        A bookable business code, or None.
    """
    users = [e for e in tracker.events or [] if e.get("event") == "user"]
    if len(users) < 2:
        return None
    key, _confidence = full_label(users[-2].get("parse_data") or {})
    topic = knowledge.topics().get(key)
    if topic is None or topic.business is None:
        return None
    bookable = {t.code for t in knowledge.business_types() if t.bookable}
    return topic.business if topic.business in bookable else None


def find_booking_code(text: str) -> str | None:
    """Find a booking code (``YY`` + 6 letters/digits; case, spaces and dashes tolerated)."""
    value = unicodedata.normalize("NFKC", text or "").upper()
    value = re.sub(r"(?<=[A-Z0-9])[\s\-]+(?=[A-Z0-9])", "", value)
    match = _CODE_RE.search(value)
    return f"YY{match.group(1)}" if match else None


def business_from_text(text: str | None) -> str | None:
    """Map free text (``补身份证``, ``新生儿落户``) or a code to a business code."""
    return knowledge.term_from_text(knowledge.business_types(), text, loose=True)


def county_from_text(text: str | None, candidates: list[str] | None = None) -> str | None:
    """Map free text to a canonical county name (knowledge aliases, then the names given).

    Args:
        text: the user's text (``固安``, ``在开发区``) or a canonical name.
        candidates: canonical names also tried by their short form (``三河`` for 三河市).

    Returns:
        The canonical county name, or None.
    """
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
    """Read a citizen's name typed as free text (``我叫张三``, ``张三。``).

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
    """Mask a name, keeping the family name (``张三`` -> ``张某``, ``欧阳娜娜`` -> ``欧某某某``).

    ``某`` rather than ``*``: asterisks next to a masked phone read as Markdown bold.
    """
    if not name:
        return "某"
    return name[0] + "某" * max(1, len(name) - 1)


def extract_candidates(
    message: LatestMessage,
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
    if message.from_button:
        values = {k: v for k, v in message.entities.items() if k in PAYLOAD_SLOTS}
        if "booking_county" not in values and "county" in message.entities:
            values["booking_county"] = message.entities["county"]
        return _only(values, form_slots)

    text = message.text
    correction = bool(_CORRECTION_RE.search(text))
    personal_step = requested in ("booker_name", "booker_phone", "booking_code")
    candidates: dict[str, Any] = {}
    # A question asked mid-form ("等一下，迁户口要带什么材料" at the county step) names a business
    # or a county without choosing it: only the step that asks for it takes it from there.
    side_question = message.intent in SIDE_QUESTION_INTENTS and not correction
    if not personal_step or correction:
        business = message.entities.get("business_type")
        if business is None and (requested in (None, "business_type") or correction):
            business = business_from_text(text)
        if business is not None and (not side_question or requested in (None, "business_type")):
            candidates["business_type"] = business
        county = message.entities.get("county")
        if county is None and (requested in (None, "booking_county") or correction):
            county = county_from_text(text)
        if county is not None and (not side_question or requested in (None, "booking_county")):
            candidates["booking_county"] = county
        parsed = parse_datetime(text, when)
        if parsed.day is not None:
            candidates["booking_date"] = parsed.day.isoformat()
            # "周三去户政大厅": the window is kept once the day's windows are known.
            candidates[WINDOW_HINT] = text
        if parsed.time is not None or parsed.half_day is not None:
            if parsed.day is not None or correction or requested in TIME_STEPS:
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
    if requested and requested in form_slots and requested not in candidates and not candidates:
        interruption = message.intent in INTERRUPTION_INTENTS
        if requested == "booker_name":
            # A name the classifier has never seen (买买提·艾力, 阿卜杜热合曼) reads as "not ours".
            named = message.intent == "out_of_scope" and clean_name(text) is not None
            interruption = interruption and message.intent != "check_name" and not named
        if requested == "booking_slot" and message.intent == "find_window":
            # "户政服务大厅" typed while the windows are offered (the NLU reads it as find_window)
            # names one; the validator takes it, or answers a question about the windows.
            candidates["booking_window"] = text
        elif not interruption and text.strip():
            candidates[requested] = text
    return candidates


def _only(candidates: dict[str, Any], form_slots: list[str]) -> dict[str, Any]:
    allowed = set(form_slots)
    if "booking_date" in form_slots:
        # Rescheduling may change the place.
        allowed |= {"booking_county", "booking_window", WINDOW_HINT}
    return {k: v for k, v in candidates.items() if k in allowed}


_YES = (
    "确认",
    "确定",
    "是的",
    "是",
    "对",
    "对的",
    "好",
    "好的",
    "可以",
    "没问题",
    "没错",
    "嗯",
    "ok",
    "yes",
)
_NO = ("不对", "不是", "错了", "修改", "改一下", "重新", "不行", "no")


def read_confirmation(message: LatestMessage) -> bool | None:
    """Read the answer to "请确认…": True (yes), False (no, something to change) or None."""
    if message.intent == "affirm":
        return True
    if message.intent == "deny":
        return False
    value = unicodedata.normalize("NFKC", message.text).strip(" 。.!！~～,，").lower()
    if value in _YES or value.startswith(("确认", "确定")):
        return True
    if any(word in value for word in _NO):
        return False
    return None
