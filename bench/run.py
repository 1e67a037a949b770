"""Benchmarks: NLU quality, latency, training time and memory.  `make bench`.

Prints and writes to bench/results/latest.md (+ latest.json):
- dev-set intent accuracy and macro-F1 (full retrieval labels, tests/nlu/dev.yml; the honest
  figures on the frozen test set and the baselines are bench/bench_nlu.py's, in nlu.md);
- NLU parse latency p50/p95 through the HTTP API (`/model/parse`);
- full-turn latency through the REST webhook, p50/p95/p99, sequential and with 10 concurrent
  conversations (real action server behind it);
- training time (fresh `rasa train` with the fixed seeds) and the Rasa server's RSS.

Options: --skip-train uses the newest model in models/ and does not time training;
--model PATH uses that model (`make bench` passes the one bench_nlu.py trained and timed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.cli import prepare_database  # noqa: E402
from bot.nlu.evaluate import evaluate_async, load_examples  # noqa: E402
from bot.settings import apply_defaults  # noqa: E402

RESULTS = ROOT / "bench" / "results"
# A conversation's worth of turns: policy answers (faq/*), out-of-scope, small talk,
# and two that run custom actions against the database (name check, window lookup).
TURN_MESSAGES = [
    "你好",
    "身份证丢了怎么办",
    "居住证怎么办",
    "孩子刚出生怎么上户口",
    "帮我查下叫李子涵的多不多",
    "护照在哪办",
    "固安户籍窗口在哪",
    "你们几点上班",
    "边境证在哪申请",
    "谢谢",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def post_json(url: str, payload: dict, timeout: float = 30) -> object:
    req = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def wait_http(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def train(out: Path) -> tuple[Path, float]:
    """A fresh training: Rasa's component cache (.rasa/cache) is switched off."""
    env = dict(os.environ, RASA_MAX_CACHE_SIZE="0")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--out", str(out), "--fixed-model-name", "bench"]
        + ["--augmentation", "0"]
        + ["--config", "config.yml", "--domain", "domain.yml", "--data", "data", "--quiet"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return out / "bench.tar.gz", time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--model", type=Path, help="a model trained (and timed) by bench_nlu.py")
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    apply_defaults()
    os.chdir(ROOT)
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores, {platform.python_version()}",
    }

    prepare_database()  # the action server's SQLite database (migrated, seeded once)
    if args.model:
        model = args.model
        nlu = json.loads((RESULTS / "nlu.json").read_text(encoding="utf-8"))
        results["training_seconds"] = round(nlu["systems"]["ours"]["training_seconds"], 1)
    elif args.skip_train:
        model = max((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    else:
        model, seconds = train(work)
        results["training_seconds"] = round(seconds, 1)
        print(f"training: {seconds:.1f} s")

    report = asyncio.run(evaluate_async(model, load_examples(ROOT / "tests/nlu/dev.yml")))
    results["model_mb"] = round(model.stat().st_size / 1e6, 1)
    results["dev_n"] = len(report.predictions)
    results["dev_accuracy"] = round(report.accuracy, 4)
    results["dev_macro_f1"] = round(report.macro_f1, 4)
    print(f"dev set: accuracy {report.accuracy:.4f}, macro-F1 {report.macro_f1:.4f}")

    env = dict(os.environ)
    rasa_port, actions_port = free_port(), free_port()
    env.update(
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        TRACKER_DATABASE_URL=f"sqlite:///{work / 'tracker.db'}",
    )
    token = env["RASA_AUTH_TOKEN"]
    actions = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server", "--port", str(actions_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.rasa_server", "--model", str(model)]
        + ["--port", str(rasa_port), "--host", "127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{rasa_port}"
    started = time.perf_counter()
    try:
        wait_http(base + "/")
        results["server_start_seconds"] = round(time.perf_counter() - started, 1)
        wait_http(f"http://127.0.0.1:{actions_port}/health")
        texts = [text for text, _ in load_examples(ROOT / "tests/nlu/dev.yml")][:200]
        for text in texts[:10]:  # warm-up
            post_json(f"{base}/model/parse?token={token}", {"text": text})
        parse_ms = []
        for text in texts:
            start = time.perf_counter()
            post_json(f"{base}/model/parse?token={token}", {"text": text})
            parse_ms.append((time.perf_counter() - start) * 1000)
        results["parse_ms"] = {
            "p50": round(percentile(parse_ms, 50), 1),
            "p95": round(percentile(parse_ms, 95), 1),
        }

        def turn(sender: str, text: str) -> float:
            start = time.perf_counter()
            post_json(
                f"{base}/webhooks/rest/webhook?token={token}", {"sender": sender, "message": text}
            )
            return (time.perf_counter() - start) * 1000

        for i in range(10):
            turn("warmup", TURN_MESSAGES[i % len(TURN_MESSAGES)])
        sequential = []
        sender = f"bench-{uuid.uuid4().hex}"
        for i in range(args.turns):
            if i % len(TURN_MESSAGES) == 0:
                sender = f"bench-{uuid.uuid4().hex}"
            sequential.append(turn(sender, TURN_MESSAGES[i % len(TURN_MESSAGES)]))

        def conversation(n: int) -> list[float]:
            sid = f"bench-c{n}-{uuid.uuid4().hex}"
            return [turn(sid, TURN_MESSAGES[i % len(TURN_MESSAGES)]) for i in range(20)]

        start = time.perf_counter()
        with ThreadPoolExecutor(10) as pool:
            concurrent = [ms for lst in pool.map(conversation, range(10)) for ms in lst]
        wall = time.perf_counter() - start
        for name, values in (("turn_sequential_ms", sequential), ("turn_10conc_ms", concurrent)):
            results[name] = {
                "n": len(values),
                "p50": round(percentile(values, 50), 1),
                "p95": round(percentile(values, 95), 1),
                "p99": round(percentile(values, 99), 1),
                "mean": round(statistics.fmean(values), 1),
            }
        results["turn_10conc_throughput_per_s"] = round(len(concurrent) / wall, 1)
        results["server_rss_mb"] = round(rss_mb(server.pid), 0)
    finally:
        for proc in (server, actions):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    lines = ["# Benchmark results (`make bench`)", "", "| metric | value |", "|---|---|"]
    for key, value in results.items():
        lines.append(f"| {key} | {value} |")
    lines.append("")
    lines.append("NLU accuracy on the frozen test set, the baselines and the NLU targets: nlu.md.")
    lines.append("Targets: sequential full turn p50 <= 60 ms; ")
    lines.append("full training <= 5 min (2-core machine).")
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
