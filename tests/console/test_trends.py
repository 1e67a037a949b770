"""Trend numbers (conversations, messages and fallback rate per day)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.console.config import ConsoleSettings
from tests.console.conftest import (
    now_utc,
    seed_standard,
)
from tests.console.helpers import Client, TrackerWriter, Turn

TZ = "Asia/Shanghai"


def test_trend_numbers(officer: Client, writer: TrackerWriter, settings: ConsoleSettings) -> None:
    seed_standard(writer, settings)
    # Three days back: the seed's messages are two hours old, which in Beijing time is
    # "yesterday" for the first two hours of each day (this test failed at 00:50 CST).
    yesterday = now_utc() - dt.timedelta(days=3)
    writer.write("y1", [Turn("你好", "greet", 0.99), Turn("啥", "nlu_fallback", 0.55)], yesterday)
    writer.write("y2", [Turn("谢谢", "thank", 0.99)], yesterday)
    stats = officer.get("/api/stats").json()
    assert len(stats) == 30
    by_day = {d["day"]: d for d in stats}
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(TZ)
    y_day = yesterday.replace(tzinfo=dt.UTC).astimezone(tz).date().isoformat()
    assert by_day[y_day]["conversations"] == 2
    assert by_day[y_day]["messages"] == 3
    assert by_day[y_day]["fallback_rate"] == pytest.approx(1 / 3, abs=1e-3)
    total = sum(d["messages"] for d in stats)
    assert total == 12  # 9 recent seed messages + 3 yesterday (the 40-day-old one is out)
