"""Action-server latency of the database-backed actions, and the last-place concurrency check.

For each database (SQLite file, PostgreSQL at 127.0.0.1:5432) a fresh database is migrated and
seeded (reference data, holidays, two weeks of slots, the synthetic resident registry), then:

- name check: ``action_check_name`` end to end (validation, worker-thread DB call, reply);
- booking: ``validate_booking_form`` for one typed turn (“明天下午三点”: parse + availability),
  ``action_ask_booking_slot`` (the window question where a county has several windows, then
  the chosen window's free slots as buttons), the confirmation turn (“确认”) and
  ``action_book_slot`` (the atomic booking), each p50/p95/p99 over many runs with distinct
  citizens;
- concurrency: 50 threads released together at a one-place slot (expected: exactly 1 success).

Usage: ``python bench/bench_actions.py [--runs 300] [--residents 500000] [--db sqlite postgres]``
Results: printed, and written to ``bench/results/actions.md`` and ``actions.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402
from sqlalchemy import create_engine, select, text, update  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from actions import dates  # noqa: E402
from actions.booking.book import ActionBookSlot  # noqa: E402
from actions.booking.form import ValidateBookingForm  # noqa: E402
from actions.booking.prompts import ActionAskBookingSlot  # noqa: E402
from actions.booking.rules import phone_value  # noqa: E402
from actions.names import ActionCheckName  # noqa: E402
from bot.db import migrate  # noqa: E402
from bot.db import session as db_session  # noqa: E402
from bot.db.crypto import hash_phone  # noqa: E402
from bot.db.models import County, NameCount, Slot, Window  # noqa: E402
from bot.db.queries.booking import book_slot  # noqa: E402
from bot.db.seed import seed_holidays, seed_reference, seed_residents, seed_slots  # noqa: E402
from bot.numbers import mask_phone  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
NOW = dt.datetime(2026, 12, 2, 10, 0)  # a Wednesday morning; slots seeded from this day
COUNTIES = ["广阳区", "安次区", "三河市", "霸州市", "固安县", "香河县", "永清县", "文安县"]


def percentile(values: list[float], q_: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q_ / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0}
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def load_domain() -> dict[str, Any]:
    """domain.yml as the action server receives it (the validators read the forms' slots)."""
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def make_tracker(
    text: str, slots: dict[str, Any], loop: str | None, requested: str | None, sender: str
) -> Tracker:
    message = {"text": text, "intent": {"name": "inform", "confidence": 0.9}, "entities": []}
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": {**slots, "requested_slot": requested},
            "latest_message": message,
            "events": [
                {"event": "action", "name": "action_listen"},
                {"event": "user", "text": text, "parse_data": message},
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": loop} if loop else {},
            "latest_action_name": "action_listen",
        }
    )


async def timed(call: Awaitable[Any]) -> float:
    start = time.perf_counter()
    await call
    return time.perf_counter() - start


def prepare(url: str, residents: int) -> dict[str, float]:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    migrate.upgrade(url)
    engine = db_session.make_engine(url)
    try:
        with Session(engine, future=True) as session, session.begin():
            seed_reference(session)
            seed_holidays(session)
        with Session(engine, future=True) as session, session.begin():
            seed_slots(session, NOW.date())
        timings["schema_and_slots_s"] = time.perf_counter() - start
        start = time.perf_counter()
        seed_residents(engine, residents)
        timings["residents_s"] = time.perf_counter() - start
    finally:
        engine.dispose()
    return timings


def common_names(url: str, count: int) -> list[str]:
    engine = db_session.make_engine(url)
    try:
        with Session(engine, future=True) as session:
            names = session.execute(
                select(NameCount.full_name).order_by(NameCount.total.desc()).limit(count)
            ).scalars()
            return [str(n) for n in names]
    finally:
        engine.dispose()


def payload_entities(button: dict[str, str]) -> dict[str, str]:
    return json.loads(button["payload"][len("/inform") :])


async def bench_actions(runs: int, names: list[str]) -> dict[str, Any]:
    dates.now_local = lambda: NOW  # type: ignore[assignment]
    domain = load_domain()
    check = ActionCheckName()
    name_times: list[float] = []
    for i in range(runs):
        name = names[i % len(names)] if names else "张伟"
        t = make_tracker(
            name, {"newborn_name": name, "newborn_gender": None}, None, None, f"bench-name-{i}"
        )
        name_times.append(await timed(check.run(CollectingDispatcher(), t, domain)))

    validate_times: list[float] = []
    window_times: list[float] = []
    ask_times: list[float] = []
    confirm_times: list[float] = []
    book_times: list[float] = []
    outcomes: Counter[str] = Counter()
    validator, asker, booker = ValidateBookingForm(), ActionAskBookingSlot(), ActionBookSlot()
    for i in range(runs):
        county = COUNTIES[i % len(COUNTIES)]
        day = NOW.date() + dt.timedelta(days=1 + (i // len(COUNTIES)) % 2)
        base = {"business_type": "id_card", "booking_county": county}
        sender = f"bench-book-{i}"
        turn = make_tracker("明天下午三点", base, "booking_form", "booking_date", sender)
        validate_times.append(await timed(validator.run(CollectingDispatcher(), turn, domain)))
        chosen = {**base, "booking_date": day.isoformat(), "booking_time_pref": "afternoon"}
        ask = make_tracker("", chosen, "booking_form", "booking_slot", sender)
        dispatcher = CollectingDispatcher()
        elapsed = await timed(asker.run(dispatcher, ask, domain))
        buttons = dispatcher.messages[0].get("buttons") or []
        if "booking_window" in payload_entities(buttons[0]):  # several windows: one is chosen
            window_times.append(elapsed)
            chosen["booking_window"] = payload_entities(buttons[i % len(buttons)])["booking_window"]
            ask = make_tracker("", chosen, "booking_form", "booking_slot", sender)
            dispatcher = CollectingDispatcher()
            elapsed = await timed(asker.run(dispatcher, ask, domain))
            buttons = dispatcher.messages[0].get("buttons") or []
        ask_times.append(elapsed)
        slot_id = payload_entities(buttons[i % len(buttons)])["booking_slot"]
        phone = f"13{i % 7 + 3}{i:08d}"
        filled = chosen | {
            "booking_slot": slot_id,
            "booker_name": "张某",
            "booker_phone": phone_value(phone),
        }
        confirm = make_tracker("确认", filled, "booking_form", "booking_confirmed", sender)
        dispatcher = CollectingDispatcher()
        confirm_times.append(await timed(validator.run(dispatcher, confirm, domain)))
        final = make_tracker("确认", filled | {"booking_confirmed": True}, None, None, sender)
        dispatcher = CollectingDispatcher()
        book_times.append(await timed(booker.run(dispatcher, final, domain)))
        reply = dispatcher.messages[0].get("response") if dispatcher.messages else None
        outcomes["ok" if reply == "utter_booking_done" else str(reply)] += 1
    return {
        "name_check": summary(name_times),
        "booking_validate_turn": summary(validate_times),
        "booking_ask_window": summary(window_times),
        "booking_ask_slot": summary(ask_times),
        "booking_confirm_turn": summary(confirm_times),
        "booking_book": summary(book_times),
        "booking_outcomes": dict(outcomes),
    }


def concurrency(url: str, attempts: int = 50) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if url.startswith("postgresql"):
        options = {"pool_size": attempts + 5, "max_overflow": 0}
    engine = db_session.make_engine(url, **options)
    try:
        with Session(engine, future=True) as session, session.begin():
            slot_id = session.execute(
                select(Slot.id)
                .join(Window, Window.id == Slot.window_id)
                .join(County, County.id == Window.county_id)
                .where(
                    County.name == "大城县",
                    Slot.business_code == "id_card",
                    Slot.day == NOW.date() + dt.timedelta(days=1),
                )
                .order_by(Slot.start_time)
                .limit(1)
            ).scalar_one()
            session.execute(update(Slot).where(Slot.id == slot_id).values(capacity=1, booked=0))
        factory = sessionmaker(bind=engine, future=True)
        barrier = threading.Barrier(attempts)

        def attempt(i: int) -> str:
            barrier.wait()
            with factory() as session:
                phone = f"159{i:08d}"
                result = book_slot(
                    session, slot_id, "id_card", "测*", hash_phone(phone), mask_phone(phone), NOW
                )
                session.commit()
                return result.status

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=attempts) as pool:
            outcome = Counter(pool.map(attempt, range(attempts)))
        seconds = time.perf_counter() - start
        with Session(engine, future=True) as session:
            booked = session.execute(select(Slot.booked).where(Slot.id == slot_id)).scalar_one()
        return {
            "attempts": attempts,
            "outcomes": dict(outcome),
            "slot_booked_after": booked,
            "seconds": round(seconds, 3),
        }
    finally:
        engine.dispose()


def run_one(kind: str, runs: int, residents: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-actions-"))
    pg_name = f"bench_actions_{uuid.uuid4().hex[:10]}"
    admin = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = f"{PG_SERVER}/{pg_name}"
    try:
        setup = prepare(url, residents)
        names = common_names(url, 50)
        db_session.configure(url)
        try:
            result = asyncio.run(bench_actions(runs, names))
        finally:
            db_session.reset()
        result["concurrency"] = concurrency(url)
        result["setup"] = {k: round(v, 1) for k, v in setup.items()}
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": pg_name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}"'))
            admin.dispose()


KEYS = (
    "name_check",
    "booking_validate_turn",
    "booking_ask_window",
    "booking_ask_slot",
    "booking_confirm_turn",
    "booking_book",
)


def to_markdown(results: dict[str, Any], runs: int, residents: int) -> str:
    lines = [
        "# Action latency (database-backed actions)",
        "",
        f"{runs} runs per action, {residents:,} synthetic residents, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}. "
        "Times are end to end inside the action server process (validation, worker-thread "
        "database call, reply), without HTTP.",
        "",
        "| database | action | p50 ms | p95 ms | p99 ms | mean ms |",
        "|---|---|---|---|---|---|",
    ]
    for kind, data in results.items():
        for key in KEYS:
            s = data[key]
            lines.append(
                f"| {kind} | {key} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | "
                f"{s['mean_ms']} |"
            )
    lines += ["", "Booking outcomes (distinct phones, so every run should book):", ""]
    lines += [f"- {kind}: {data['booking_outcomes']}" for kind, data in results.items()]
    lines += ["", "## Last place, 50 concurrent attempts", ""]
    for kind, data in results.items():
        c = data["concurrency"]
        lines.append(
            f"- {kind}: {c['outcomes']} in {c['seconds']} s; slot booked afterwards: "
            f"{c['slot_booked_after']} (capacity 1)"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--residents", type=int, default=500_000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    results = {kind: run_one(kind, args.runs, args.residents) for kind in args.db}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "actions.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    markdown = to_markdown(results, args.runs, args.residents)
    (RESULTS / "actions.md").write_text(markdown, encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
