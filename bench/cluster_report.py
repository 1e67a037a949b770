"""bench/results/cluster.md (+ cluster.json) from bench/bench_cluster.py's measurements."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from pathlib import Path


def _row(name: str, phase: dict) -> str:
    ev = phase["events"]
    return (
        f"| {name} | {phase['users']} | {phase['turns']} | {phase['turns_per_s']} | "
        f"{phase['p50_ms']:.0f} | {phase['p95_ms']:.0f} | {phase['p99_ms']:.0f} | "
        f"{phase['errors']} | {ev['lost']} / {ev['doubled']} / {ev['reordered']} "
        f"({ev['conversations']} conv.) |"
    )


def cpu_section(single: dict, cluster: dict) -> list[str]:
    """The CPU table at 50 users and what it bounds (empty without measurements).

    Args:
        single: the single process's 50-user phase (``cpu``: cores by role, ``turns_per_s``).
        cluster: the cluster's 50-user phase.
    """
    cpu_1, cpu_n = single.get("cpu") or {}, cluster.get("cpu") or {}
    if not cpu_1 or not cpu_n:
        return []
    cores = os.cpu_count() or 1
    roles = sorted((set(cpu_1) | set(cpu_n)) - {"machine"})
    busy_1, busy_n = cpu_1.get("machine", 0.0), cpu_n.get("machine", 0.0)
    per_turn_1 = 1000 * busy_1 / max(0.1, single["turns_per_s"])
    per_turn_n = 1000 * busy_n / max(0.1, cluster["turns_per_s"])
    ceiling = cores / busy_1 if busy_1 else float("nan")
    needed = 1000 * cores / (1.6 * max(0.1, single["turns_per_s"]))
    return [
        f"## Where the CPU goes at 50 users (cores busy, of {cores}; bench/cpu_share.py)",
        "",
        "| role | single process | cluster |",
        "|---|---|---|",
        *[f"| {r} | {cpu_1.get(r, 0.0):.2f} | {cpu_n.get(r, 0.0):.2f} |" for r in roles],
        f"| **machine (all CPUs)** | **{busy_1:.2f}** | **{busy_n:.2f}** |",
        f"| CPU per turn (machine) | {per_turn_1:.1f} ms | {per_turn_n:.1f} ms |",
        "",
        f"The single process is bound by its one Rasa process ({cpu_1.get('Rasa', 0.0):.2f} of "
        f"a core: one Python thread under the GIL) and leaves {cores - busy_1:.2f} cores idle. "
        f"The cluster can use them, but even at the single process's CPU per turn "
        f"({per_turn_1:.1f} ms) all {cores} cores give at most {ceiling:.2f} × its throughput. "
        f"1.6 × needs {needed:.1f} ms per turn or less, every role included; the cluster spends "
        f"{per_turn_n:.1f} ms (its Rasa replicas pay for the PostgreSQL tracker store, the Redis "
        "lock store and the event broker, and nginx, PostgreSQL, Redis and RabbitMQ run on the "
        "same two cores).",
        "",
    ]


def write(single: list[dict], cluster: list[dict], results: Path) -> None:
    """Write the tables, the targets and the replica profile."""
    by = {p["users"]: p for p in single}, {p["users"]: p for p in cluster}
    ratio = by[1][50]["turns_per_s"] / max(0.1, by[0][50]["turns_per_s"])
    p99_10 = by[1][10]["p99_ms"]
    events_ok = all(
        p["events"]["lost"] == p["events"]["doubled"] == p["events"]["reordered"] == 0
        for p in single + cluster
    )
    lines = [
        "# Load: single process vs cluster (locust)",
        "",
        f"Measured {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} on {platform.node()} "
        f"({os.cpu_count()} cores; load average at the end "
        f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())}: above ~2 other work shared the "
        "cores and the numbers are only indicative), by `make bench` (bench/bench_cluster.py, "
        "bench/locustfile.py). Users chat without pause through the public web chat: 3 in 4 "
        "conversations are three policy questions, 1 in 4 books a slot (five turns of the "
        "booking form). Lost / doubled / reordered: the tracker store's user messages of "
        "every conversation compared with what locust sent.",
        "",
        "| set-up | users | turns | turns/s | p50 ms | p95 ms | p99 ms | errors | "
        "lost / doubled / reordered |",
        "|---|---|---|---|---|---|---|---|---|",
        *[_row("single process", p) for p in single],
        *[_row("cluster (2 + 2)", p) for p in cluster],
        "",
        "Targets (issue 12):",
        "",
        f"- cluster throughput at 50 users ≥ 1.6 × single process: **{ratio:.2f} ×** "
        f"({'met' if ratio >= 1.6 else 'NOT met'})",
        f"- cluster p99 at 10 concurrent ≤ 300 ms: **{p99_10:.0f} ms** "
        f"({'met' if p99_10 <= 300 else 'NOT met'})",
        f"- 0 lost or reordered events: **{'met' if events_ok else 'NOT met'}**",
        "",
    ]
    lines += cpu_section(by[0][50], by[1][50])
    prof = dict(by[1][50].get("profile") or {})
    if prof:
        samples = int(prof.pop("samples", 0))
        lines += [
            f"## Where a turn's time goes (one replica at 50 users, py-spy, {samples} samples)",
            "",
            "| component | % of busy samples |",
            "|---|---|",
            *[f"| {k} | {v} |" for k, v in prof.items()],
            "",
        ]
    lines += [
        "How the samples are counted: bench/profile_turn.py (a sample belongs to the first "
        "component found in its stack; idle threads are not sampled). The tracker store's "
        "share is Rasa's synchronous SQL store (PostgreSQL round trips and commit, JSON, "
        "rebuilding the tracker from its events, masking every string of every event). It "
        "used to run on the replica's event loop, stalling every other conversation of that "
        "replica during each round trip; `bot/cluster/tracker_store.py` now runs it in a "
        "worker thread, so the loop serves other turns' NLU meanwhile (first measurement, "
        "before the change, on a machine as loaded: cluster 1.16 × the single process at 50 "
        "users). What remains is CPU under the GIL: the next step is cheaper masking (only "
        "strings that contain digits) and reading only the events a replica has not seen.",
        "",
    ]
    results.mkdir(parents=True, exist_ok=True)
    (results / "cluster.md").write_text("\n".join(lines), encoding="utf-8")
    (results / "cluster.json").write_text(
        json.dumps({"single": single, "cluster": cluster}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    print("\n".join(lines))
