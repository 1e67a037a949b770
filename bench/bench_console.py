"""Benchmark of the review console with 100,000 stored conversations.

Fills a fresh tracker store (Rasa's ``events`` table, rows exactly as ``SQLTrackerStore``
writes them) with N conversations spread over 60 days (≈15 % fallbacks, low-confidence and
out-of-scope questions, 👎 ratings, left messages), reads them into the console (initial sync),
then times the inbox's first page over HTTP, logged in, as an officer's browser would load it.

    .venv/bin/python bench/bench_console.py                 # 100,000 conversations, SQLite
    .venv/bin/python bench/bench_console.py --conversations 20000 --postgres

Results are written to ``bench/results/console.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.console import accounts  # noqa: E402
from bot.console.config import ConsoleSettings  # noqa: E402
from bot.console.db import ConsoleDB  # noqa: E402
from bot.console.ingest import Syncer  # noqa: E402
from bot.db import migrate  # noqa: E402
from bot.db.models import CallbackRequest, Feedback  # noqa: E402
from tests.console.helpers import Client, ConsoleServer, find  # noqa: E402

ANSWERED = [
    ("身份证丢了怎么补办", "faq", "faq/id_card_lost_online"),
    ("身份证补办要多少钱", "faq", "faq/id_card_fees"),
    ("居住证怎么办", "faq", "faq/residence_permit"),
    ("你好", "greet", None),
    ("谢谢", "thank", None),
    ("我要预约", "book_appointment", None),
    ("查一下办理进度", "query_case_status", None),
    ("户口迁入需要什么材料", "ask_move_in", None),
    ("固安派出所电话多少", "find_window", None),
    ("孩子出生怎么上户口", "faq", "faq/birth_registration"),
]
UNANSWERED_STEMS = [
    "身份证掉了咋整",
    "身份证丢了咋办",
    "集体户口怎么迁出",
    "户口本借给别人了咋办",
    "外地户口能在廊坊考驾照吗",
    "改名字需要什么手续",
    "户口分户怎么弄",
    "结婚了户口要迁吗",
    "孩子上学要户口吗",
    "老人去世了存款怎么取",
    "派出所能开无犯罪证明吗",
    "身份证照片能换吗",
    "户籍证明去哪开",
    "临时身份证多久能拿",
    "离婚了户口怎么办",
    "出国了户口会注销吗",
    "大学生户口迁回原籍",
    "买的二手房能落户吗",
    "民族成分能改吗",
    "身份证信息错了怎么改",
    "公司集体户能落吗",
    "退伍军人户口迁移",
    "港澳居民居住证",
    "户口被注销了怎么恢复",
    "学区房落户要几年",
    "身份证密码忘了",
    "电子身份证怎么申请",
    "办证大厅中午休息吗",
    "网上补领为什么没通过",
    "邮寄地址填错了",
]
OUT_OF_SCOPE = [
    ("今天天气怎么样", "out_of_scope/other"),
    ("护照怎么办", "out_of_scope/passport"),
    ("驾照扣分怎么查", "out_of_scope/traffic"),
    ("社保怎么交", "out_of_scope/social_security"),
    ("被骗了怎么办", "out_of_scope/fraud"),
    ("邻居太吵了", "out_of_scope/noise"),
]
COUNTIES = ["广阳区", "安次区", "三河市", "霸州市", "香河县", "大厂", "固安县", "永清县", "文安县"]
PREFIXES = ["", "", "", "请问", "你好，", "问一下", "麻烦问下"]
SUFFIXES = ["", "", "", "？", "啊", "呢", "，急", "！", "在线等", "，我在三河", "，我在固安"]


def _user(sender: str, ts: float, text: str, intent: str, conf: float, sub: str | None) -> dict:
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": conf},
        "entities": [],
        "intent_ranking": [{"name": intent, "confidence": conf}],
    }
    if sub:
        parse["response_selector"] = {
            intent: {"response": {"intent_response_key": sub, "confidence": conf}, "ranking": []}
        }
    data = {
        "event": "user",
        "timestamp": ts,
        "text": text,
        "parse_data": parse,
        "input_channel": "webchat",
        "message_id": uuid.uuid4().hex,
        "metadata": {},
    }
    return {
        "sender_id": sender,
        "type_name": "user",
        "timestamp": ts,
        "intent_name": intent,
        "action_name": None,
        "data": json.dumps(data),
    }


def _event(sender: str, ts: float, kind: str, **data: object) -> dict:
    payload = {"event": kind, "timestamp": ts, **data}
    return {
        "sender_id": sender,
        "type_name": kind,
        "timestamp": ts,
        "intent_name": None,
        "action_name": data.get("name"),
        "data": json.dumps(payload),
    }


def generate(tracker_url: str, app_url: str, conversations: int, seed: int = 7) -> dict:
    """Write ``conversations`` synthetic conversations; return counts."""
    from rasa.core.tracker_store import SQLTrackerStore

    rng = random.Random(seed)
    engine = sa.create_engine(tracker_url)
    table = SQLTrackerStore.SQLEvent.__table__
    table.create(engine, checkfirst=True)
    now = time.time()
    counts = {"events": 0, "user": 0, "unanswered": 0}
    feedback: list[dict] = []
    messages: list[dict] = []
    batch: list[dict] = []
    for n in range(conversations):
        sender = f"bench-{n:06d}-{uuid.uuid4().hex[:8]}"
        ts = now - rng.random() * 60 * 86400
        batch += [
            _event(sender, ts, "action", name="action_session_start"),
            _event(sender, ts, "session_started"),
            _event(sender, ts, "action", name="action_listen"),
        ]
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            ts += rng.uniform(5, 60)
            roll = rng.random()
            if roll < 0.12:
                text = rng.choice(UNANSWERED_STEMS)
                variety = rng.random()
                if variety < 0.3:  # two questions in one message: many distinct texts
                    text += "，还有" + rng.choice(UNANSWERED_STEMS)
                elif variety < 0.4:  # a detail that makes the text unique
                    text = f"{rng.choice(COUNTIES)}的{text}，编号SL2026{rng.randrange(10**8):08d}"
                text = rng.choice(PREFIXES) + text + rng.choice(SUFFIXES)
                intent, conf, sub = "nlu_fallback", 0.55, None
                counts["unanswered"] += 1
            elif roll < 0.16:
                text, sub = rng.choice(OUT_OF_SCOPE)
                text = rng.choice(PREFIXES) + text + rng.choice(SUFFIXES)
                intent, conf = "out_of_scope", rng.uniform(0.8, 0.99)
                counts["unanswered"] += 1
            elif roll < 0.19:
                text, intent, sub = rng.choice(ANSWERED)
                text = rng.choice(PREFIXES) + text + rng.choice(SUFFIXES)
                conf = rng.uniform(0.56, 0.69)
                counts["unanswered"] += 1
            else:
                text, intent, sub = rng.choice(ANSWERED)
                conf = rng.uniform(0.85, 0.999)
            batch.append(_user(sender, ts, text, intent, conf, sub))
            batch.append(_event(sender, ts + 1, "action", name="utter_default"))
            batch.append(_event(sender, ts + 1, "bot", text="好的，请看以下说明。", data={}))
            batch.append(_event(sender, ts + 2, "action", name="action_listen"))
            counts["user"] += 1
            if rng.random() < 0.01:
                created = dt.datetime.fromtimestamp(ts + 30, dt.UTC).replace(tzinfo=None)
                feedback.append(
                    {
                        "conversation_id": sender,
                        "bot_message_id": uuid.uuid4().hex[:20],
                        "bot_text": "好的，请看以下说明。",
                        "user_text": text,
                        "rating": "down",
                        "created_at": created,
                    }
                )
            if rng.random() < 0.005:
                created = dt.datetime.fromtimestamp(ts + 60, dt.UTC).replace(tzinfo=None)
                messages.append(
                    {
                        "conversation_id": sender,
                        "text": f"{text}，请回电",
                        "phone_masked": "138****5678",
                        "phone_hash": "0" * 64,
                        "phone_encrypted": "x",
                        "status": "new",
                        "created_at": created,
                        "updated_at": created,
                    }
                )
        if len(batch) > 20000:
            with engine.begin() as conn:
                conn.execute(table.insert(), batch)
            counts["events"] += len(batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(table.insert(), batch)
        counts["events"] += len(batch)
    engine.dispose()
    app = sa.create_engine(app_url)
    with app.begin() as conn:
        if feedback:
            conn.execute(sa.insert(Feedback.__table__), feedback)
        if messages:
            conn.execute(sa.insert(CallbackRequest.__table__), messages)
    app.dispose()
    counts["feedback_down"] = len(feedback)
    counts["messages"] = len(messages)
    return counts


def timed_get(client: Client, path: str, repeat: int) -> list[float]:
    """Wall times (seconds) of ``repeat`` GETs that must answer 200."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        resp = client.get(path)
        times.append(time.perf_counter() - start)
        assert resp.status_code == 200, (path, resp.status_code)
    return times


def main() -> int:
    """Run the benchmark and write ``bench/results/console.md``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL at 127.0.0.1")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "console.md"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_console_"))
    pg_name = None
    if args.postgres:
        pg_name = f"bench_console_{uuid.uuid4().hex[:6]}"
        admin = sa.create_engine(
            "postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{pg_name}"'))
        app_url = tracker_url = f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
        backend = "PostgreSQL (app + tracker store in one database)"
    else:
        app_url = f"sqlite:///{tmp / 'app.db'}"
        tracker_url = f"sqlite:///{tmp / 'tracker.db'}"
        backend = "SQLite (two files, WAL)"
    try:
        migrate.upgrade(app_url)
        t0 = time.perf_counter()
        counts = generate(tracker_url, app_url, args.conversations)
        gen_s = time.perf_counter() - t0
        print(f"generated {counts} in {gen_s:.1f}s", flush=True)

        settings = ConsoleSettings(
            database_url=app_url,
            tracker_url=tracker_url,
            project_dir=ROOT,
            sync_interval=0,
            scrypt_n=2**14,
        )
        db = ConsoleDB(settings)
        t0 = time.perf_counter()
        result = Syncer(db).sync()
        sync_s = time.perf_counter() - t0
        print(f"initial sync {result} in {sync_s:.1f}s", flush=True)
        with db.session() as session:
            accounts.create_user(session, settings, "bench", "Bench-Officer-1", "officer")
            groups = session.execute(sa.text("SELECT COUNT(*) FROM console_clusters")).scalar()
            items = session.execute(sa.text("SELECT COUNT(*) FROM console_items")).scalar()
        db.dispose()

        server = ConsoleServer(settings).start()
        try:
            client = Client(server.base_url)
            assert client.login("bench", "Bench-Officer-1").status_code == 303
            first = timed_get(client, "/inbox", 1)[0]
            inbox = timed_get(client, "/inbox", args.repeat)
            inbox_all = timed_get(client, "/inbox?status=&from=&to=", args.repeat)
            items_view = timed_get(client, "/inbox?view=items", args.repeat)
            trends = timed_get(client, "/trends", max(3, args.repeat // 2))
            page = client.get("/inbox").text

            key = find(r"/groups/([0-9a-f]{16})", page)
            group = timed_get(client, f"/groups/{key}", max(3, args.repeat // 2))
        finally:
            server.stop()
    finally:
        if pg_name:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))

    def fmt(times: list[float]) -> str:
        return (
            f"median {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms (n={len(times)})"
        )

    lines = [
        "# Review console benchmark",
        "",
        f"`bench/bench_console.py` on {platform.machine()}, {platform.python_version()}, "
        f"{backend}; run {dt.date.today().isoformat()}.",
        "",
        f"- stored: **{args.conversations:,} conversations**, {counts['user']:,} user messages, "
        f"{counts['events']:,} tracker events over 60 days; {counts['feedback_down']:,} 👎, "
        f"{counts['messages']:,} left messages",
        f"- inbox: {items:,} unanswered questions in {groups:,} groups",
        f"- initial sync (reading the whole tracker store once, grouping): {sync_s:.1f} s "
        f"(later syncs read only new events)",
        "",
        "| page (logged in, over HTTP) | time |",
        "|---|---|",
        f"| **inbox first page** (groups, default filter: last 30 days, to review), first load "
        f"| **{first * 1000:.0f} ms** |",
        f"| inbox first page, repeated | {fmt(inbox)} |",
        f"| inbox first page, all dates and statuses | {fmt(inbox_all)} |",
        f"| inbox, flat list view | {fmt(items_view)} |",
        f"| group page (largest group) | {fmt(group)} |",
        f"| trends (3 SVG charts, 30 days) | {fmt(trends)} |",
        "",
        "Target: inbox first page under 1 s.",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    if args.postgres and out.exists():
        text = out.read_text(encoding="utf-8").rstrip() + "\n\n" + "\n".join(lines[2:])
    out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
