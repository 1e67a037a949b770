"""Convenience lookups: registration windows and service points by county, with a map link.

``action_find_window`` answers “户籍窗口在哪 / 固安派出所电话”; ``action_find_service_point``
answers 24-hour self-service ID points, paternity-testing institutions, notary offices and
translation agencies. Both read the county from the message (NLU entity or an alias in the
text), else from the conversation's ``county`` slot; without one they ask with county buttons
whose payloads repeat the question with the county (``/find_window{"county":"固安县"}``), so
no form is needed. Addresses and phones come from the database (sample data that officers
edit in ``data/knowledge/``); if the database is unreachable the citizen is told so.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from typing import Any, List
from urllib.parse import quote

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.booking import BUSY_RESPONSE, Message, county_from_text
from actions.db import DatabaseUnavailable, run_db
from bot import knowledge
from bot.db.queries import directory

logger = logging.getLogger(__name__)

#: At most this many places are described in one reply (a few lines each).
MAX_PLACES = 3

POINT_LABELS: dict[str, str] = {
    "window": "户籍窗口",
    "self_service": "24小时身份证自助受理点",
    "paternity": "亲子鉴定机构",
    "notary": "公证处",
    "translation": "翻译机构",
}
_POINT_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("self_service", ("自助", "24小时", "二十四小时")),
    ("paternity", ("亲子鉴定", "亲子", "鉴定")),
    ("notary", ("公证",)),
    ("translation", ("翻译",)),
    ("window", ("窗口", "户政大厅", "户籍大厅", "办证大厅", "派出所", "户政", "户籍")),
]
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
    value = unicodedata.normalize("NFKC", text or "").strip().lower()
    if value in POINT_LABELS:
        return value
    for code, words in _POINT_KEYWORDS:
        if any(word in value for word in words):
            return code
    return None


def describe_place(
    name: str,
    address: str,
    phone: str | None,
    hours: str | None,
    lng: float | None,
    lat: float | None,
) -> str:
    """Describe one place in a few lines: name, address and phone, hours, navigation link.

    Args:
        name: place name.
        address: street address.
        phone: phone number (a public office number, shown in full).
        hours: opening hours.
        lng: longitude.
        lat: latitude.

    Returns:
        The text block.

    """
    # one sample footnote per reply (see _sample_footnote) instead of a marker on every name
    lines = [
        f"【{knowledge.strip_sample(name)}】",
        f"地址：{address}" + (f"；电话：{phone}" if phone else ""),
    ]
    if hours:
        lines.append(f"时间：{hours}")
    link = map_link(name, lng, lat)
    if link:
        lines.append(f"导航：{link}")
    return "\n".join(lines)


def _payload(intent: str, **entities: str) -> str:
    return f"/{intent}" + json.dumps(entities, ensure_ascii=False, separators=(",", ":"))


def _county_buttons(intent: str, counties: list[str], **extra: str) -> list[dict[str, str]]:
    return [{"title": c, "payload": _payload(intent, county=c, **extra)} for c in counties]


def _county_of(tracker: Tracker, message: Message) -> str | None:
    value = message.entities.get("county")
    if value is None and message.payload:
        value = message.payload.get("county")
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
        ``{"text": ..., "buttons": [...], "county": canonical name or None}``.

    """
    counties = [c.name for c in directory.list_counties(session)]
    if county:
        county = county_from_text(county, counties)
    if not county:
        return {
            "text": "请问您要查哪个区县的户籍窗口？",
            "buttons": _county_buttons("find_window", counties),
            "county": None,
        }
    windows = directory.list_windows(session, county=county)
    if not windows:
        return {
            "text": f"暂未查到{county}的户籍窗口信息，请拨打12345政务服务热线咨询。",
            "buttons": [],
            "county": county,
        }
    blocks = [
        describe_place(w.name, w.address, w.phone, w.hours, w.lng, w.lat)
        for w in windows[:MAX_PLACES]
    ]
    more = (
        f"\n（共{len(windows)}个窗口，以上为前{MAX_PLACES}个）" if len(windows) > MAX_PLACES else ""
    )
    text = f"{county}的户籍窗口：\n" + "\n".join(blocks) + more
    text += "\n办理前可先预约，到窗口免排队。" + _sample_footnote(w.name for w in windows)
    return {
        "text": text,
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
        ``{"text": ..., "buttons": [...], "county": canonical name or None}``.

    """
    if point_type == "window":
        return window_reply(session, county)
    if point_type not in POINT_LABELS:
        return {
            "text": "请问您要查哪类便民服务点？",
            "buttons": [
                {"title": label, "payload": _payload("find_service_point", point_type=code)}
                for code, label in POINT_LABELS.items()
                if code != "window"
            ],
            "county": county,
        }
    assert point_type is not None
    label = POINT_LABELS[point_type]
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
        }
    points = [p for p in everywhere if p.county == county] if county else []
    intro = f"{county}的{label}：" if points else ""
    buttons: list[dict[str, str]] = []
    if not points:
        points = everywhere
        intro = f"{county}暂无{label}，全市的{label}：" if county else f"全市的{label}："
        if len(everywhere) > MAX_PLACES:
            buttons = _county_buttons("find_service_point", with_points, point_type=point_type)
    blocks = [
        describe_place(p.name, p.address, p.phone, p.hours, p.lng, p.lat)
        for p in points[:MAX_PLACES]
    ]
    text = intro + "\n" + "\n".join(blocks)
    if len(points) > MAX_PLACES:
        text += f"\n（共{len(points)}个，以上为前{MAX_PLACES}个）"
    if point_type in _NOT_POLICE:
        text += "\n以上机构不属于公安机关，具体业务请直接电话咨询。"
    text += _sample_footnote(p.name for p in points[:MAX_PLACES])
    return {"text": text, "buttons": buttons, "county": county if points else None}


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
    dispatcher.utter_message(text=reply["text"], buttons=reply["buttons"])
    return [SlotSet("county", reply["county"])] if reply.get("county") else []


class ActionFindWindow(Action):
    """Registration windows of a county: address, phone, hours and a navigation link."""

    def name(self) -> str:
        """Return the action name."""
        return "action_find_window"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Answer with the county's windows, or ask for the county with buttons."""
        message = Message.from_tracker(tracker)
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
        message = Message.from_tracker(tracker)
        point_type = message.entities.get("point_type")
        if point_type is None and message.payload:
            point_type = message.payload.get("point_type")
        if point_type is None:
            point_type = point_type_from_text(message.text)
        return await _reply(
            dispatcher, service_point_reply, point_type, _county_of(tracker, message)
        )
