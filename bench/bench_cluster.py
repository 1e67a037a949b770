"""Load benchmark: the single process against the cluster, under locust.  Part of `make bench`.

1. the single process (`make run`'s Rasa + action server: SQLite, in-memory lock store) on
   free ports; locust (bench/locustfile.py, headless, 127.0.0.1) at 10 and then 50 concurrent
   users; then it is stopped;
2. the cluster (`python -m bot run-cluster`: nginx, 2 replicas, 2 action servers, the
   machine's PostgreSQL/Redis/RabbitMQ under unique names, dropped afterwards), the same load
   through nginx; during the 50-user phase py-spy samples one replica;
3. during every phase, the CPU each role used (bench/cpu_share.py: Rasa, action servers,
   locust, PostgreSQL, nginx, Redis, RabbitMQ) and the machine's total, in cores;
4. the tracker store is checked for every conversation locust had (lost, doubled or
   reordered user messages);
5. bench/results/cluster.md (+ cluster.json).

Locust runs 4 x PHASE seconds in all (< 3 minutes); start-up of both set-ups comes on top.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.cpu_share import CpuMeter  # noqa: E402
from bench.profile_turn import categorise  # noqa: E402
from bot import cli  # noqa: E402
from bot.numbers import mask_text  # noqa: E402
from bot.settings import apply_defaults  # noqa: E402
from tests.cluster.services import free_block, free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PHASES = [(10, 35), (50, 45)]  # (concurrent users, seconds)
PG = "postgresql://postgres@127.0.0.1:5432"


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return b'"ready":true' in resp.read()
    except OSError:
        return False


def wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not become ready in {timeout:.0f} s")
        time.sleep(2)


def run_locust(base: str, users: int, seconds: int, out: Path) -> dict:
    prefix = out / f"locust-{users}"
    conversations = out / f"conversations-{users}.json"
    env = dict(os.environ, BENCH_CONVERSATIONS_OUT=str(conversations))
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py")]
    cmd += ["--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s"]
    cmd += ["--host", base, "--csv", str(prefix), "--only-summary", "--stop-timeout", "30"]
    cmd += ["--loglevel", "ERROR", "--exit-code-on-error", "0"]
    subprocess.run(
        cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "turn")
    return {
        "users": users,
        "seconds": seconds,
        "turns": int(row["Request Count"]),
        "errors": int(row["Failure Count"]),
        "turns_per_s": round(float(row["Requests/s"]), 1),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "conversations": json.loads(conversations.read_text(encoding="utf-8")),
    }


def check_events(tracker_url: str, conversations: list[dict]) -> dict:
    """Compare what locust sent with the tracker store's user events, per conversation."""
    engine = sa.create_engine(tracker_url)
    lost = doubled = reordered = 0
    with engine.connect() as conn:
        for conv in conversations:
            rows = conn.execute(
                sa.text(
                    "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                    "ORDER BY id"
                ),
                {"s": conv["id"]},
            ).all()
            stored = [json.loads(r.data).get("text") for r in rows]
            sent = [mask_text(t) for t in conv["sent"]]  # the store keeps numbers masked
            missing = Counter(sent) - Counter(stored)
            extra = Counter(stored) - Counter(sent)
            lost += sum(missing.values())
            doubled += sum(extra.values())
            if not missing and not extra and stored != sent:
                reordered += 1
    engine.dispose()
    return {
        "conversations": len(conversations),
        "lost": lost,
        "doubled": doubled,
        "reordered": reordered,
    }


def load(base: str, tracker_url: str, out: Path, during_50=None) -> list[dict]:
    phases = []
    for users, seconds in PHASES:
        hook = during_50(seconds) if (users == 50 and during_50) else None
        meter = CpuMeter().start()
        phase = run_locust(base, users, seconds, out)
        phase["cpu"] = meter.stop()
        if hook is not None:
            phase["profile"] = hook()
        phase["events"] = check_events(tracker_url, phase.pop("conversations"))
        phases.append(phase)
        print(
            f"  {users} users: {phase['turns_per_s']} turns/s, p50 {phase['p50_ms']:.0f} ms, "
            f"p99 {phase['p99_ms']:.0f} ms, errors {phase['errors']}, {phase['events']}, "
            f"cores {phase['cpu']}",
            flush=True,
        )
    return phases


def single_process(model: Path, out: Path) -> list[dict]:
    env = dict(os.environ)
    rasa_port, actions_port = free_port(), free_port()
    env.update(
        DATABASE_URL=f"sqlite:///{out / 'app.db'}",
        TRACKER_DATABASE_URL=f"sqlite:///{out / 'tracker.db'}",
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        LOCK_STORE_TYPE="in_memory",
        RASA_PORT=str(rasa_port),
        ACTIONS_PORT=str(actions_port),
        RASA_TELEMETRY_ENABLED="false",
    )
    subprocess.run(
        [sys.executable, "-m", "bot.db", "seed", "--residents", "20000"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    os.environ.update(env)
    procs = [
        subprocess.Popen(
            cli.actions_cmd(actions_port),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            cli.server_cmd(model, port=rasa_port),
            cwd=ROOT,
            env=env,
            stdout=(out / "single-rasa.log").open("wb"),
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        base = f"http://127.0.0.1:{rasa_port}"
        wait(lambda: ready(base + "/webhooks/webchat/health"), 900, "the single process")
        print("single process (SQLite, in-memory lock store):", flush=True)
        return load(base, env["TRACKER_DATABASE_URL"], out)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def cluster(model: Path, out: Path) -> list[dict]:
    tag = uuid.uuid4().hex[:8]
    port, rasa_base, actions_base = free_port(), free_block(2), free_block(2)
    env = dict(os.environ)
    for key in (
        "DATABASE_URL",
        "TRACKER_DATABASE_URL",
        "ACTION_ENDPOINT_URL",
        "LOCK_STORE_TYPE",
        "RASA_PORT",
        "ACTIONS_PORT",
        "EVENT_BROKER_URL",
    ):
        env.pop(key, None)
    env.update(
        DATABASE_URL=f"{PG}/bench_app_{tag}",
        TRACKER_DATABASE_URL=f"{PG}/bench_tracker_{tag}",
        REDIS_KEY_PREFIX=f"bench_{tag}",
        EVENT_BROKER_EXCHANGE=f"bench-{tag}",
        EVENT_BROKER_QUEUE=f"bench_{tag}",
        CLUSTER_PORT=str(port),
        CLUSTER_RASA_BASE_PORT=str(rasa_base),
        CLUSTER_ACTIONS_BASE_PORT=str(actions_base),
        CLUSTER_ACTIONS_LB_PORT=str(free_port()),
        CONSOLE_PORT=str(free_port()),
        CLUSTER_DIR=str(out / "cluster"),
        RASA_TELEMETRY_ENABLED="false",
    )
    launch = (
        "import sys; from pathlib import Path; import bot.cli as c; "
        "c.train = lambda force=False: Path(sys.argv[1]); "
        "raise SystemExit(c.main(['run-cluster']))"
    )
    log = out / "run-cluster.log"
    proc = subprocess.Popen(
        [sys.executable, "-c", launch, str(model)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for p in (rasa_base, rasa_base + 1):
            url = f"http://127.0.0.1:{p}/webhooks/webchat/health"
            wait(lambda url=url: ready(url), 900, "the cluster's replicas")
        time.sleep(5)  # the health monitor puts both in rotation
        pid = int(re.findall(r"rasa-1: started \(pid (\d+)\)", log.read_text())[-1])
        print(
            "cluster (nginx, 2 replicas, 2 action servers, PostgreSQL, Redis, RabbitMQ):",
            flush=True,
        )
        return load(
            f"http://127.0.0.1:{port}",
            env["TRACKER_DATABASE_URL"],
            out,
            during_50=lambda seconds: profile(pid, seconds, out),
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        drop(tag)


def profile(pid: int, seconds: int, out: Path):
    """Start py-spy on the replica now; the returned function waits and categorises."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        return lambda: {"note": "py-spy not installed"}
    raw = out / "replica.pyspy"
    duration = max(10, seconds - 15)
    proc = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(duration),
            "--rate",
            "50",
            "--nonblocking",
            "--format",
            "raw",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(5)

    def finish() -> dict:
        proc.wait(timeout=seconds + 60)
        return categorise(raw.read_text(encoding="utf-8")) if raw.exists() else {}

    return finish


def drop(tag: str) -> None:
    engine = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for name in (f"bench_app_{tag}", f"bench_tracker_{tag}"):
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
    import asyncio

    import aio_pika

    async def delete() -> None:
        conn = await aio_pika.connect(host="127.0.0.1", port=5672)
        async with conn:
            channel = await conn.channel()
            await channel.queue_delete(f"bench_{tag}")
            await channel.exchange_delete(f"bench-{tag}")

    asyncio.run(delete())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, help="model to serve (default: newest in models/)")
    args = parser.parse_args()
    apply_defaults()
    model = args.model or cli.latest_model()
    if model is None or not Path(model).is_file():
        raise SystemExit("no model: pass --model or `make train` first")
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        single = single_process(model, Path(tmp))
        replicated = cluster(model, Path(tmp))
    from bench.cluster_report import write

    write(single, replicated, RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
