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
from bot import knowledge
from bot.channels.rating import PART_MARK, PROMPT_MARK
from bot.db.queries import directory

logger = logging.getLogger(__name__)

#: At most this many places are described in one reply (a few lines each).
MAX_PLACES = 3

_NOT_POLICE = ("paternity", "notary", "translation")


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


def window_reply(session: Session, county: str | None) -> dict[str, Any]:
    """Build the reply about the registration windows of a county (or ask for the county).

    Args:
        session: open session.
        county: canonical county name, or None.

    Returns:
        ``{"text", "buttons", "county"}`` plus, for an answer, ``"intro"`` and ``"places"``
        (``utter_place`` variables), or ``"prompt": True`` for a question.

    """
    counties = [c.name for c in directory.list_counties(session)]
    if county:
        county = county_from_text(county, counties)
    if not county:
        return {
            "text": "请问您要查哪个区县的户籍窗口？",
            "buttons": _county_buttons("find_window", counties),
            "county": None,
            "prompt": True,
        }
    windows = directory.list_windows(session, county=county)
    if not windows:
        return {
            "text": f"暂未查到{county}的户籍窗口信息，请拨打12345政务服务热线咨询。",
            "buttons": [],
            "county": county,
        }
    more = f"（共{len(windows)}个，先列出{MAX_PLACES}个）" if len(windows) > MAX_PLACES else ""
    return {
        "intro": f"{county}的户籍窗口{more}：",
        "places": [
            place_card(w.name, w.address, w.phone, w.hours, w.lng, w.lat)
            for w in windows[:MAX_PLACES]
        ],
        "text": "办理前可先预约，到窗口免排队。" + _sample_footnote(w.name for w in windows),
        "buttons": [
            {"title": "预约办理", "payload": _payload("book_appointment", county=county)},
            {
                "title": "24小时自助受理点",
                "payload": _payload("find_service_point", point_type="self_service", county=county),
            },
        ],
        "county": county,
    }


def service_point_reply(
    session: Session, point_type: str | None, county: str | None
) -> dict[str, Any]:
    """Build the reply about service points of a type (by county where that matters).

    Self-service points exist in every county, so the county is asked for; paternity,
    notary and translation offices are few, so all of them are listed when the county is not
    known or has none.

    Args:
        session: open session.
        point_type: ``self_service``/``paternity``/``notary``/``translation`` (or None: ask).
        county: canonical county name, or None.

    Returns:
        The same shape as :func:`window_reply`.

    """
    if point_type == "window":
        return window_reply(session, county)
    labels = {term.code: term.name for term in knowledge.point_types()}
    if point_type not in labels:
        return {
            "text": "请问您要查哪类便民服务点？",
            "buttons": [
                {"title": label, "payload": _payload("find_service_point", point_type=code)}
                for code, label in labels.items()
                if code != "window"
            ],
            "county": county,
            "prompt": True,
        }
    assert point_type is not None
    label = labels[point_type]
    counties = [c.name for c in directory.list_counties(session)]
    if county:
        county = county_from_text(county, counties)
    everywhere = directory.list_service_points(session, point_type=point_type)
    if not everywhere:
        return {"text": f"暂未查到{label}信息，请拨打12345咨询。", "buttons": [], "county": county}
    with_points = [c for c in counties if any(p.county == c for p in everywhere)]
    if point_type == "self_service" and not county:
        urban = {c.name for c in directory.list_counties(session) if c.urban}
        in_urban = sum(1 for p in everywhere if p.county in urban)
        return {
            "text": (
                f"全市共有{len(everywhere)}个{label}（市区{in_urban}个），可自助办理身份证"
                "补领、换领的受理和缴费（首次申领请到户籍窗口），全天开放。请问您要查哪个区县的？"
            ),
            "buttons": _county_buttons(
                "find_service_point", with_points, point_type="self_service"
            ),
            "county": None,
            "prompt": True,
        }
    points = [p for p in everywhere if p.county == county] if county else []
    intro = f"{county}的{label}：" if points else ""
    buttons: list[dict[str, str]] = []
    if not points:
        points = everywhere
        intro = f"{county}暂无{label}，全市的{label}：" if county else f"全市的{label}："
        if len(everywhere) > MAX_PLACES:
            buttons = _county_buttons("find_service_point", with_points, point_type=point_type)
    if len(points) > MAX_PLACES:
        intro = intro.rstrip("：") + f"（共{len(points)}个，先列出{MAX_PLACES}个）："
    closing = {
        "self_service": (
            "可自助办理身份证补领、换领的受理和缴费（首次申领请到户籍窗口），全天开放。"
        ),
    }.get(point_type, "以上机构不属于公安机关，具体业务请直接电话咨询。")
    return {
        "intro": intro,
        "places": [
            place_card(p.name, p.address, p.phone, p.hours, p.lng, p.lat)
            for p in points[:MAX_PLACES]
        ],
        "text": closing + _sample_footnote(p.name for p in points[:MAX_PLACES]),
        "buttons": buttons,
        "county": county if points else None,
    }


def _sample_footnote(names: Any) -> str:
    """One line saying the places are sample data, when any of them is marked （示例）."""
    if any(knowledge.strip_sample(n) != n for n in names):
        return "\n" + knowledge.response_text("utter_sample_places_footnote")
    return ""


async def _reply(dispatcher: CollectingDispatcher, builder: Any, *args: Any) -> List[EventType]:
    try:
        reply = await run_db(builder, *args)
    except DatabaseUnavailable:
        logger.warning("lookup: database unavailable")
        dispatcher.utter_message(response=BUSY_RESPONSE)
        return []
    if reply.get("prompt"):
        dispatcher.utter_message(text=reply["text"], buttons=reply["buttons"], **PROMPT_MARK)
    else:
        # Heading and cards are parts of one answer; the closing line carries the 👍/👎.
        if reply.get("intro"):
            dispatcher.utter_message(text=reply["intro"], **PART_MARK)
        for place in reply.get("places", []):
            dispatcher.utter_message(response="utter_place", **place, **PART_MARK)
        dispatcher.utter_message(text=reply["text"], buttons=reply["buttons"])
    return [SlotSet("county", reply["county"])] if reply.get("county") else []


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
