"""Compare our date/time parser (``actions.dates``) with jionlp's on the project's test cases.

The cases are the parametrised ones of ``tests/actions/dates/`` (days, times, both) plus the
typed dates and times of the booking tests. For jionlp, ``jionlp.ner.extract_time`` finds the
time expression in the sentence and its parsed span is mapped onto our result (day, exact time,
half-day) with the same office-hours rules ours applies (a bare 1-6 o'clock is afternoon; an
hour-long span with a round start is an exact time; blur spans map to the half-day they fall in;
a span that is only a time of day names no day; the text is normalised to half-width first, as
ours is).

jionlp is not a project dependency (it brings ~170 MB with its segmenter jiojio), so install
it into a throw-away folder to run this::

    .venv/bin/pip download --no-deps -d /tmp/jio jionlp==1.5.31 jiojio==1.2.8 zipfile36 proces
    .venv/bin/pip install --no-deps --target /tmp/jio-lib /tmp/jio/*.whl
    PYTHONPATH=/tmp/jio-lib .venv/bin/python bench/date_parsers.py
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.dates import DateTimeParse, half_day_of, normalize, parse_datetime  # noqa: E402

NOW = dt.datetime(2026, 12, 2, 10, 0)  # the tests' "now": Wednesday 10:00 Beijing
D = dt.date
T = dt.time

# Typed dates/times from tests/actions/test_booking*.py: (text, day, time, half_day).
BOOKING_CASES: list[tuple[str, dt.date | None, dt.time | None, str | None]] = [
    ("这周六", D(2026, 12, 5), None, None),
    ("12月9日", D(2026, 12, 9), None, None),
    ("昨天", D(2026, 12, 1), None, None),
    ("明年3月1日", D(2027, 3, 1), None, None),
    ("随便吧", None, None, None),
    ("明天下午三点", D(2026, 12, 3), T(15, 0), "afternoon"),
    ("明天晚上八点", D(2026, 12, 3), T(20, 0), "evening"),
    ("12月3日", D(2026, 12, 3), None, None),
    ("上午九点半", None, T(9, 30), "morning"),
    ("明天能办吗", D(2026, 12, 3), None, None),
    ("明天", D(2026, 12, 3), None, None),
    ("我想约明天上午去办身份证", D(2026, 12, 3), None, "morning"),
    ("九点半", None, T(9, 30), "morning"),
    ("不对，改成后天吧", D(2026, 12, 4), None, None),
    ("十点", None, T(10, 0), "morning"),
]

_DAY_WORDS = "天日号月周星期礼拜年后今明昨前"


def _params(test: Any) -> list[tuple[Any, ...]]:
    mark = next(m for m in test.pytestmark if m.name == "parametrize")
    return [tuple(p) if isinstance(p, tuple) else (p,) for p in mark.args[1]]


def cases() -> list[tuple[str, str, tuple[Any, ...]]]:
    """Return ``(kind, text, expected)`` for every case (kind: date, time or datetime)."""
    from tests.actions.dates import test_days, test_parse, test_times

    result: list[tuple[str, str, tuple[Any, ...]]] = []
    result += [("date", text, (day,)) for text, day in _params(test_days.test_parse_date)]
    result += [("date", text, (None,)) for (text,) in _params(test_days.test_parse_date_none)]
    times = _params(test_times.test_parse_time)
    result += [("time", text, (when, half)) for text, when, half in times]
    both = _params(test_parse.test_parse_datetime)
    result += [("datetime", text, (d, w, h)) for text, d, w, h in both]
    result += [("datetime", text, (d, w, h)) for text, d, w, h in BOOKING_CASES]
    return result


def jionlp_parse(text: str, now: dt.datetime) -> DateTimeParse:
    """Our result shape from jionlp's parse (see the module docstring for the mapping)."""
    import jionlp  # noqa: PLC0415 - optional, only for this comparison

    text = normalize(text)  # the same full-width -> half-width step ours does first
    try:
        found = jionlp.ner.extract_time(text, time_base=now.timestamp(), with_parsing=True)
    except Exception:  # noqa: BLE001 - jionlp raises ValueError on many inputs
        found = []
    if not found:
        return DateTimeParse()
    item = found[0]
    detail = item.get("detail") or {}
    span = detail.get("time")
    if detail.get("type") not in ("time_point", "time_span") or not isinstance(span, list):
        return DateTimeParse()
    start = dt.datetime.fromisoformat(span[0])
    end = dt.datetime.fromisoformat(span[1]) if span[1] != "inf" else start
    names_day = any(ch in item["text"] for ch in _DAY_WORDS) or re.search(r"\d[-/.]\d", text)
    day = start.date() if names_day else None
    when: dt.time | None = None
    half: Any = None
    length = end - start
    if (start.hour, start.minute) != (0, 0) and length <= dt.timedelta(hours=1):
        hour = start.hour
        said_half = any(w in item["text"] for w in ("上午", "早", "中午", "下午", "晚", "凌晨"))
        if not said_half and 1 <= hour <= 6:
            hour += 12
        when = T(hour, start.minute)
        half = half_day_of(when)
    elif length < dt.timedelta(hours=23):
        half = half_day_of(start.time()) if start.hour >= 7 else None
        if start.hour < 12 <= end.hour and start.hour >= 11:
            half = "noon"
    return DateTimeParse(day=day, time=when, half_day=half)


def ours(kind: str, text: str) -> tuple[Any, ...]:
    """What our parser returns for a case, in the shape of its expectation."""
    parsed = parse_datetime(text, NOW)
    return _shape(kind, parsed)


def _shape(kind: str, parsed: DateTimeParse) -> tuple[Any, ...]:
    if kind == "date":
        return (parsed.day,)
    if kind == "time":
        return (parsed.time, parsed.half_day)
    return (parsed.day, parsed.time, parsed.half_day)


def _agrees(kind: str, text: str, got: tuple[Any, ...], expected: tuple[Any, ...]) -> bool:
    if kind == "time" and text == "早一点可以吗":  # the test only requires no invented time
        return got[0] is None
    return got == expected


def main() -> int:
    """Print the agreement of both parsers with the expected results."""
    all_cases = cases()
    totals = {"ours": 0, "jionlp": 0}
    failures: dict[str, list[str]] = {"ours": [], "jionlp": []}
    timings = {"ours": 0.0, "jionlp": 0.0}
    jionlp_parse("明天", NOW)  # import and warm up outside the timing
    for kind, text, expected in all_cases:
        for name in ("ours", "jionlp"):
            started = time.perf_counter()
            if name == "ours":
                got = ours(kind, text)
            else:
                got = _shape(kind, jionlp_parse(text, NOW))
            timings[name] += time.perf_counter() - started
            if _agrees(kind, text, got, expected):
                totals[name] += 1
            else:
                failures[name].append(f"{text!r}: got {got}, expected {expected}")
    count = len(all_cases)
    for name in ("ours", "jionlp"):
        mean_ms = timings[name] / count * 1000
        print(f"{name}: {totals[name]}/{count} correct, mean {mean_ms:.2f} ms per text")
        for line in failures[name]:
            print("   ", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
