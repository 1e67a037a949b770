"""Window and service-point lookups on SQLite and PostgreSQL (seeded sample directory)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import lookups as lk
from bot.db import session as db_session
from tests.actions.booking_support import fresh_database, prepare_database, slot_events, tracker
from tests.actions.conftest import render, rendered_buttons

AMAP = re.compile(r"https://uri\.amap\.com/marker\?position=(\d+\.\d+),(\d+\.\d+)&name=(\S+)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    with fresh_database(request.param, tmp_path) as url:
        prepare_database(url)
        db_session.configure(url)
        try:
            yield url
        finally:
            db_session.reset()


async def run(action: Any, t: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return slot_events(events), dispatcher.messages


def answer(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """Split a lookup answer: (heading, place cards, closing message with the buttons).

    Between the cards and the closing line come notes (how many more places, the sample-data
    footnote); the closing line is the last message, the only rateable one, so its buttons
    are the ones a widget shows.
    """
    *parts, last = messages
    assert "kind" not in last, "the closing line is last and rateable"
    assert all(m["kind"] == "part" for m in parts)
    heading = parts[0]
    cards = [m for m in parts[1:] if m.get("response") == "utter_place"]
    notes = [m for m in parts[1:] if m.get("response") != "utter_place"]
    assert parts[1 : 1 + len(cards)] == cards, "the cards come right after the heading"
    closing = dict(last)
    closing["text"] = render(last)
    closing["buttons"] = rendered_buttons(last)
    closing["notes"] = "".join(render(m) for m in notes)
    return render(heading), cards, closing


async def test_windows_of_a_county_as_location_cards_with_map(db: str) -> None:
    slots, messages = await run(lk.ActionFindWindow(), tracker(fixture="lookups_window_guan"))
    heading, cards, closing = answer(messages)
    assert heading.startswith("固安县的户籍窗口")
    assert len(cards) == 2  # both sample windows of 固安县
    for card in cards:
        assert "固安" in card["place_name"] and card["place_address"]
        assert card["place_phone"].startswith("0316-") and card["place_hours"]
        assert 38 < float(card["place_lat"]) < 41 and 115 < float(card["place_lng"]) < 118
        lng, lat, name = AMAP.fullmatch(card["place_map_url"]).groups()  # type: ignore[union-attr]
        assert (lng, lat) == (card["place_lng"], card["place_lat"])
        assert "固安" in unquote(name) and "示例" not in unquote(name)
    assert "预约" in closing["text"]
    assert slots == {"county": "固安县"}
    payloads = [
        json.loads(b["payload"].split("/book_appointment", 1)[1] or "{}")
        for b in closing["buttons"]
        if b["payload"].startswith("/book_appointment")
    ]
    assert payloads == [{"county": "固安县"}]


async def test_window_county_from_alias_text_or_conversation_slot(db: str) -> None:
    _, messages = await run(
        lk.ActionFindWindow(), tracker(text="燕郊派出所户籍窗口电话多少", intent="find_window")
    )
    assert answer(messages)[0].startswith("三河市的户籍窗口")
    _, messages = await run(
        lk.ActionFindWindow(),
        tracker(text="户籍窗口在哪", intent="find_window", slots={"county": "大城县"}),
    )
    assert answer(messages)[0].startswith("大城县的户籍窗口")


async def test_window_without_county_asks_with_twelve_county_buttons(db: str) -> None:
    slots, (message,) = await run(
        lk.ActionFindWindow(), tracker(text="户籍窗口在哪", intent="find_window")
    )
    assert "哪个区县" in render(message) and slots == {}
    assert message["kind"] == "prompt"  # a question: no 👍/👎 under it
    assert len(message["buttons"]) == 12
    first = message["buttons"][0]["payload"]
    assert first.startswith("/find_window{") and json.loads(first[len("/find_window") :]) == {
        "county": "广阳区"
    }
    # the button payload answers the question
    _, messages = await run(
        lk.ActionFindWindow(),
        tracker(
            text=first, intent="find_window", entities=[{"entity": "county", "value": "广阳区"}]
        ),
    )
    assert answer(messages)[0].startswith("广阳区的户籍窗口")


async def test_self_service_points_ask_for_county_then_list(db: str) -> None:
    _, (message,) = await run(
        lk.ActionFindServicePoint(),
        tracker(
            text="24小时自助机在哪",
            intent="find_service_point",
            entities=[{"entity": "point_type", "value": "self_service"}],
        ),
    )
    assert "全市共有20个" in render(message) and "市区10个" in render(message)
    assert "补领、换领" in render(message) and "自助办理身份证申领" not in render(message)
    assert message["kind"] == "prompt"
    assert len(message["buttons"]) == 12
    payload = message["buttons"][0]["payload"]
    assert json.loads(payload[len("/find_service_point") :]) == {
        "county": "广阳区",
        "point_type": "self_service",
    }
    _, messages = await run(
        lk.ActionFindServicePoint(), tracker(text=payload, intent="find_service_point")
    )
    heading, cards, closing = answer(messages)
    assert heading.startswith("广阳区的24小时身份证自助受理点") and "共4个" in closing["notes"]
    assert len(cards) == lk.MAX_PLACES


async def test_notary_lists_all_when_county_unknown_and_says_not_police(db: str) -> None:
    _, messages = await run(lk.ActionFindServicePoint(), tracker(fixture="lookups_notary"))
    heading, cards, closing = answer(messages)
    assert heading.startswith("全市的公证处") and "共5个" in closing["notes"]
    assert len(cards) == 3
    assert "不属于公安机关" in closing["text"]
    assert closing["buttons"]  # more than shown: pick a county


async def test_county_without_such_office_falls_back_to_the_city(db: str) -> None:
    _, messages = await run(
        lk.ActionFindServicePoint(),
        tracker(
            text="大城县有翻译公司吗",
            intent="find_service_point",
            entities=[{"entity": "county", "value": "大城县"}],
        ),
    )
    assert answer(messages)[0].startswith("大城县暂无翻译机构，全市的翻译机构")


async def test_point_type_unknown_asks_with_buttons(db: str) -> None:
    _, (message,) = await run(
        lk.ActionFindServicePoint(), tracker(text="便民服务点", intent="find_service_point")
    )
    assert "哪类" in render(message) and message["kind"] == "prompt"
    assert {
        json.loads(b["payload"][len("/find_service_point") :])["point_type"]
        for b in message["buttons"]
    } == {"self_service", "paternity", "notary", "translation"}


def test_point_type_from_text() -> None:
    assert lk.point_type_from_text("亲子鉴定去哪做") == "paternity"
    assert lk.point_type_from_text("公证处") == "notary"
    assert lk.point_type_from_text("找个翻译公司") == "translation"
    assert lk.point_type_from_text("自助办证机") == "self_service"
    assert lk.point_type_from_text("你好") is None
    assert lk.map_link("x", None, 39.0) is None


async def test_unreachable_database_says_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    db_session.configure("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere")
    try:
        slots, messages = await run(lk.ActionFindWindow(), tracker(fixture="lookups_window_guan"))
    finally:
        db_session.reset()
    assert [m["response"] for m in messages] == ["utter_service_unavailable"]
    assert slots == {}
