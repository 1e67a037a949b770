"""Registration windows as citizens name them.

Short names for replies and buttons, and the offered window a typed text means
("户政服务大厅", "派出所那个").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from bot.db.queries.slots import SlotView


def short_window(name: str) -> str:
    """A window's name for replies, without the sample-data marker."""
    return re.sub(r"（示例）|\(示例\)", "", name).strip()


def window_label(name: str, county: str) -> str:
    """A window's name short enough for a button (``固安镇派出所``, ``户政服务大厅``)."""
    value = short_window(name)
    short_county = re.sub(r"(回族自治县|经济技术开发区|临空经济区|区|市|县)$", "", county)
    for prefix in ("廊坊市公安局", f"{county}公安局", f"{short_county}公安局", county):
        if value.startswith(prefix) and len(value) > len(prefix):
            value = value[len(prefix) :]
    return re.sub(r"户籍窗口$", "", value)[:12]


def _shared_run(a: str, b: str) -> int:
    """Length of the longest run of characters that ``a`` and ``b`` share."""
    return SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size


def named_window(free: Sequence[SlotView], text: str) -> int | None:
    """The offered window a typed text names ("户政服务大厅", "派出所那个"), if exactly one.

    The text must share at least two characters in a row with the window's button label
    (its name without the county's police-bureau prefix), and more than with any other.
    """
    typed = re.sub(r"[\s，。！？,.!?]", "", text)
    windows = {s.window_id: s for s in free}  # many slots, few windows
    scores = sorted(
        (
            (_shared_run(typed, window_label(s.window_name, s.county)), wid)
            for wid, s in windows.items()
        ),
        reverse=True,
    )
    if not scores or scores[0][0] < 2 or (len(scores) > 1 and scores[1][0] == scores[0][0]):
        return None
    return scores[0][1]
