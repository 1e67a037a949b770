"""Location cards: the one shape every client renders for a place (window, service point).

The lookups actions send a place as the response ``utter_place`` (``domain.yml``): a text for
text-only clients (``rasa shell``, REST) plus the custom payload::

    {"type": "location", "name": "...", "address": "...", "phone": "...", "hours": "...",
     "lat": 39.43, "lng": 116.29, "map_url": "https://uri.amap.com/marker?..."}

:func:`location_card` checks and normalises that payload (the template fills numbers in as
text); the web chat sends the card instead of the text, the socket.io channel turns it into
text with a map link. Anything malformed is not a card and is shown as plain text instead.
"""

from __future__ import annotations

import math
from typing import Any

_TEXT_FIELDS = ("name", "address", "phone", "hours")
_MAX_FIELD_CHARS = 200
_MAX_URL_CHARS = 500


def _number(value: Any, low: float, high: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or not low <= number <= high:
        return None
    return number


def location_card(custom: Any) -> dict[str, Any] | None:
    """Return the normalised location card, or None when ``custom`` is not a valid one.

    Args:
        custom: a bot message's ``custom`` payload.

    Returns:
        ``{"type": "location", "name", "address", "phone"?, "hours"?, "lat"?, "lng"?,
        "map_url"?}`` with ``lat``/``lng`` as numbers (both or neither) and ``map_url`` only
        when it is an https link.

    """
    if not isinstance(custom, dict) or custom.get("type") != "location":
        return None
    card: dict[str, Any] = {"type": "location"}
    for key in _TEXT_FIELDS:
        value = custom.get(key)
        if isinstance(value, str) and value.strip():
            card[key] = value.strip()[:_MAX_FIELD_CHARS]
    if "name" not in card or "address" not in card:
        return None
    lat = _number(custom.get("lat"), -90.0, 90.0)
    lng = _number(custom.get("lng"), -180.0, 180.0)
    if lat is not None and lng is not None:
        card["lat"], card["lng"] = lat, lng
    url = custom.get("map_url")
    if isinstance(url, str) and url.startswith("https://") and len(url) <= _MAX_URL_CHARS:
        card["map_url"] = url
    return card
