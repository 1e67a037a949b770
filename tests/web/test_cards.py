"""Location cards: what clients may rely on (bot/channels/cards.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.cards import location_card
from bot.channels.webchat.history import render_bot_message

TEMPLATE_FILLED = {  # what Rasa's response template makes of utter_place (numbers as text)
    "type": "location",
    "name": "固安县户政服务大厅（示例）",
    "address": "固安县新源街99号",
    "phone": "0316-0000000",
    "hours": "周一至周五",
    "lat": "39.438000",
    "lng": "116.299000",
    "map_url": "https://uri.amap.com/marker?position=116.299000,39.438000&name=x",
}


def test_template_card_gets_numbers() -> None:
    card = location_card(TEMPLATE_FILLED)
    assert card is not None
    assert (card["lat"], card["lng"]) == (39.438, 116.299)
    assert card["name"] == TEMPLATE_FILLED["name"] and card["map_url"].startswith("https://")


@pytest.mark.parametrize(
    ("change", "dropped"),
    [
        ({"lat": "", "lng": ""}, {"lat", "lng"}),
        ({"lat": "91"}, {"lat", "lng"}),
        ({"lng": "nan"}, {"lat", "lng"}),
        ({"map_url": "javascript:alert(1)"}, {"map_url"}),
        ({"map_url": "http://uri.amap.com/x"}, {"map_url"}),
        ({"phone": ""}, {"phone"}),
        ({"hours": None}, {"hours"}),
    ],
)
def test_bad_optional_fields_are_dropped(change: dict[str, Any], dropped: set[str]) -> None:
    card = location_card({**TEMPLATE_FILLED, **change})
    assert card is not None
    assert dropped.isdisjoint(card)


@pytest.mark.parametrize(
    "custom",
    [
        None,
        "location",
        {"type": "place", "name": "x", "address": "y"},
        {"type": "location", "name": "", "address": "y"},
        {"type": "location", "name": "x"},
        {"type": "location", "name": ["x"], "address": "y"},
    ],
)
def test_not_a_card(custom: Any) -> None:
    assert location_card(custom) is None


def test_web_chat_sends_the_card_instead_of_the_text() -> None:
    rendered = render_bot_message(
        {"text": "【固安县户政服务大厅】\n地址：…", "custom": TEMPLATE_FILLED}
    )
    assert rendered == {"custom": location_card(TEMPLATE_FILLED)}
    other = render_bot_message({"text": "看这里", "custom": {"type": "place"}})
    assert other == {"text": "看这里", "custom": {"type": "place"}}
