"""Convenience lookups: registration windows and service points by county, as location cards.

``action_find_window`` answers “户籍窗口在哪 / 固安派出所电话”; ``action_find_service_point``
answers 24-hour self-service ID points, paternity-testing institutions, notary offices and
translation agencies. Both read the county from the message (NLU entity or an alias in the
text), else from the conversation's ``county`` slot; without one they ask with county buttons
whose payloads repeat the question with the county (``/find_window{"county":"固安县"}``), so
no form is needed. Addresses, phones and coordinates come from the database (sample data that
officers edit in ``data/knowledge/``); if the database is unreachable the citizen is told so.

An answer is a heading, one location card per place (the response ``utter_place``: a card
with a map link for the chat page, ``wx.openLocation`` in the mini-program, plain text in
``rasa shell``; see ``bot/channels/cards.py``) and a closing line with the follow-up buttons.
Only the closing line is rateable (👍/👎); questions are marked as prompts
(``bot/channels/rating.py``).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, List
from urllib.parse import quote

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.booking.parsing import LatestMessage, county_from_text
from actions.booking.prompts import BUSY_RESPONSE
from actions.db import DatabaseUnavailable, run_db
from actions.replies import Reply, say
from bot import knowledge
from bot.channels.rating import PART_MARK, PROMPT_MARK
from bot.db.queries import directory

logger = logging.getLogger(__name__)

#: At most this many places are described in one reply (a few lines each).
MAX_PLACES = 3


def map_link(name: str, lng: float | None, lat: float | None) -> str | None:
    """Return an AMap (高德地图) marker link that opens navigation on a phone.

    Args:
        name: the place's name (shown on the marker).
        lng: longitude (GCJ-02, as AMap expects).
        lat: latitude.

    Returns:
        ``https://uri.amap.com/marker?position=lng,lat&name=…``, or None without coordinates.

    """
    if lng is None or lat is None:
        return None
    label = quote(re.sub(r"（示例）|\(示例\)", "", name))
    return f"https://uri.amap.com/marker?position={lng:.6f},{lat:.6f}&name={label}"


def point_type_from_text(text: str) -> str | None:
    """Map free text (``24小时自助机在哪``, ``公证处电话``) to a point type.

    Args:
        text: the user's text or a point-type code.

    Returns:
        ``window``, ``self_service``, ``paternity``, ``notary``, ``translation`` or None.

    """
    return knowledge.term_from_text(knowledge.point_types(), text, loose=True)


def place_card(
    name: str,
    address: str,
    phone: str | None,
    hours: str | None,
    lng: float | None,
    lat: float | None,
) -> dict[str, Any]:
    """The variables of the response ``utter_place`` for one place (a location card).

    Args:
        name: place name.
        address: street address.
        phone: phone number (a public office number, shown in full).
        hours: opening hours.
        lng: longitude (GCJ-02).
        lat: latitude.

    Returns:
        ``{"place_name", "place_address", "place_phone", "place_hours", "place_lat",
        "place_lng", "place_map_url"}`` (empty strings for unknown values).

    """
    return {
        "place_name": knowledge.strip_sample(name),
        "place_address": address,
        "place_phone": phone or "",
        "place_hours": hours or "",
        "place_lat": "" if lat is None else f"{lat:.6f}",
        "place_lng": "" if lng is None else f"{lng:.6f}",
        "place_map_url": map_link(name, lng, lat) or "",
    }


def _payload(intent: str, **entities: str) -> str:
    return f"/{intent}" + json.dumps(entities, ensure_ascii=False, separators=(",", ":"))


def _county_buttons(intent: str, counties: list[str], **extra: str) -> list[dict[str, str]]:
    return [{"title": c, "payload": _payload(intent, county=c, **extra)} for c in counties]


def _county_of(tracker: Tracker, message: LatestMessage) -> str | None:
    value = message.entities.get("county")  # typed, or from a button's payload
    if value is None:
        value = county_from_text(message.text)
    if value is None:
        value = tracker.get_slot("county")
    return str(value) if value else None


@dataclass
class LookupAnswer:
    """What a lookup says: a question, or a heading, location cards and a closing line.

    Attributes:
        replies: the messages before the cards (a question, or the heading).
        places: ``utter_place`` values, one per card.
        closing: the messages after the cards (notes, then the closing line last: it carries
            👍/👎 and the follow-up buttons, which widgets show only under the last message).
        county: the county the answer is about (kept in the ``county`` slot).
        prompt: whether ``replies`` is a question (not rateable).
    """

    replies: list[Reply] = field(default_factory=list)
    places: list[dict[str, Any]] = field(default_factory=list)
    closing: list[Reply] = field(default_factory=list)
    county: str | None = None
    prompt: bool = False


def _cards(places: list[Any]) -> tuple[list[dict[str, Any]], list[Reply]]:
    """The cards of the first places, and the notes after them (how many more, sample data)."""
    shown = places[:MAX_PLACES]
    notes = []
    if len(places) > MAX_PLACES:
        notes.append(Reply("utter_lookup_more_places", {"total": len(places), "shown": len(shown)}))
    if any(knowledge.strip_sample(p.name) != p.name for p in shown):
        notes.append(Reply("utter_sample_places_footnote"))
    cards = [place_card(p.name, p.address, p.phone, p.hours, p.lng, p.lat) for p in shown]
    return cards, notes


def window_reply(session: Session, county: str | None) -> LookupAnswer:
    """The registration windows of a county (or the question which county).

    Args:
        session: open session.
        county: canonical county name, or None.

    Returns:
        The answer.

    """
    counties = [c.name for c in directory.list_counties(session)]
    if county:
        county = county_from_text(county, counties)
    if not county:
        question = Reply(
            "utter_lookup_ask_window_county", buttons=_county_buttons("find_window", counties)
        )
        return LookupAnswer(replies=[question], prompt=True)
    windows = directory.list_windows(session, county=county)
    if not windows:
        return LookupAnswer(
            replies=[Reply("utter_lookup_no_windows", {"county": county})], county=county
        )
    cards, notes = _cards(windows)
    closing = Reply("utter_lookup_windows_closing", {"county": county})
    return LookupAnswer(
        replies=[Reply("utter_lookup_windows_intro", {"county": county})],
        places=cards,
        closing=[*notes, closing],
        county=county,
    )


def window_list_parts(session: Session, county: str) -> list[Reply]:
    """A county's windows as the inner parts of another answer (heading, cards, notes).

    For a question about the windows asked while the booking form offers them: the form's
    own question follows, so the lookup's closing line (预约办理, 👍/👎) is left out.
    """
    answer = window_reply(session, county)
    if not answer.places:
        return []
    heading = [Reply(r.response, {**r.values, **PART_MARK}, r.buttons) for r in answer.replies]
    cards = [Reply("utter_place", {**place, **PART_MARK}) for place in answer.places]
    notes = [Reply(r.response, {**r.values, **PART_MARK}) for r in answer.closing[:-1]]
    return [*heading, *cards, *notes]


def service_point_reply(
    session: Session, point_type: str | None, county: str | None
) -> LookupAnswer:
    """Service points of a type (by county where that matters), or the question which.

    Self-service points exist in every county, so the county is asked for; paternity,
    notary and translation offices are few, so all of them are listed when the county is not
    known or has none.

    Args:
        session: open session.
        point_type: ``self_service``/``paternity``/``notary``/``translation`` (or None: ask).
        county: canonical county name, or None.

    Returns:
        The answer.

    """
    if point_type == "window":
        return window_reply(session, county)
    labels = {term.code: term.name for term in knowledge.point_types()}
    if point_type not in labels:
        types = [
            {"title": label, "payload": _payload("find_service_point", point_type=code)}
            for code, label in labels.items()
            if code != "window"
        ]
        question = Reply("utter_lookup_ask_point_type", buttons=types)
        return LookupAnswer(replies=[question], county=county, prompt=True)
    assert point_type is not None
    label = labels[point_type]
    counties = [c.name for c in directory.list_counties(session)]
    if county:
        county = county_from_text(county, counties)
    everywhere = directory.list_service_points(session, point_type=point_type)
    if not everywhere:
        return LookupAnswer(replies=[Reply("utter_lookup_no_points", {"label": label})])
    with_points = [c for c in counties if any(p.county == c for p in everywhere)]
    if point_type == "self_service" and not county:
        urban = {c.name for c in directory.list_counties(session) if c.urban}
        values = {
            "label": label,
            "total": len(everywhere),
            "urban": sum(1 for p in everywhere if p.county in urban),
        }
        counties_with = _county_buttons(
            "find_service_point", with_points, point_type="self_service"
        )
        question = Reply("utter_lookup_self_service_overview", values, counties_with)
        return LookupAnswer(replies=[question], prompt=True)
    points = [p for p in everywhere if p.county == county] if county else []
    heading = Reply("utter_lookup_points_intro", {"county": county, "label": label})
    buttons: list[dict[str, str]] = []
    if not points:
        points = everywhere
        heading = Reply(
            "utter_lookup_points_elsewhere" if county else "utter_lookup_points_citywide",
            {"county": county or "", "label": label},
        )
        if len(everywhere) > MAX_PLACES:
            buttons = _county_buttons("find_service_point", with_points, point_type=point_type)
    cards, notes = _cards(points)
    closing = Reply(
        "utter_lookup_self_service_closing"
        if point_type == "self_service"
        else "utter_lookup_not_police",
        buttons=buttons or None,
    )
    return LookupAnswer(
        replies=[heading],
        places=cards,
        closing=[*notes, closing],
        county=county if points else None,
    )


async def _reply(dispatcher: CollectingDispatcher, builder: Any, *args: Any) -> List[EventType]:
    try:
        answer: LookupAnswer = await run_db(builder, *args)
    except DatabaseUnavailable:
        logger.warning("lookup: database unavailable")
        dispatcher.utter_message(response=BUSY_RESPONSE)
        return []
    if answer.prompt:
        for reply in answer.replies:
            say(dispatcher, reply, **PROMPT_MARK)
    elif not answer.places:
        for reply in answer.replies:
            say(dispatcher, reply)
    else:
        # Heading and cards are parts of one answer; the closing line carries the 👍/👎.
        for reply in answer.replies:
            say(dispatcher, reply, **PART_MARK)
        for place in answer.places:
            dispatcher.utter_message(response="utter_place", **place, **PART_MARK)
        for reply in answer.closing[:-1]:
            say(dispatcher, reply, **PART_MARK)
        say(dispatcher, answer.closing[-1])
    return [SlotSet("county", answer.county)] if answer.county else []


class ActionFindWindow(Action):
    """Registration windows of a county as location cards (address, phone, hours, map)."""

    def name(self) -> str:
        """Return the action name."""
        return "action_find_window"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Answer with the county's windows, or ask for the county with buttons."""
        message = LatestMessage.from_tracker(tracker)
        return await _reply(dispatcher, window_reply, _county_of(tracker, message))


class ActionFindServicePoint(Action):
    """Self-service points, paternity testing, notaries, translators (by county)."""

    def name(self) -> str:
        """Return the action name."""
        return "action_find_service_point"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Answer with the points of the asked type, or ask for the type/county with buttons."""
        message = LatestMessage.from_tracker(tracker)
        point_type = message.entities.get("point_type")  # typed, or from a button's payload
        if point_type is None:
            point_type = point_type_from_text(message.text)
        return await _reply(
            dispatcher, service_point_reply, point_type, _county_of(tracker, message)
        )
