"""Where the machine's CPU goes during a load phase, by role (for bench/bench_cluster.py).

Two snapshots, before and after a phase: the machine's busy time from ``/proc/stat`` and the
CPU time (user + system) of every process, grouped by role from its command line (Rasa,
action server, locust, PostgreSQL, nginx, Redis, RabbitMQ, other). Each figure is in cores:
CPU seconds divided by wall seconds, so on this machine the machine total is at most 2.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field

import psutil

#: (role, words one of which the command line holds), first match wins.
ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("locust (load generator)", ("locust",)),
    ("action servers", ("bot.action_server", "rasa_sdk")),
    ("Rasa", ("bot.rasa_server", "rasa run", "bot.cluster")),
    ("PostgreSQL", ("postgres",)),
    ("nginx", ("nginx",)),
    ("Redis", ("redis-server",)),
    ("RabbitMQ", ("beam.smp", "rabbitmq", "erl_child_setup", "epmd")),
)


def role_of(cmdline: str) -> str:
    """The role a process plays, from its command line (``other`` when none matches)."""
    for role, words in ROLES:
        if any(word in cmdline for word in words):
            return role
    return "other"


def _busy_seconds() -> float:
    """Seconds all CPUs spent busy since boot (``/proc/stat``: all but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return (sum(fields[:8]) - idle) / ticks


def _reaped_children_seconds() -> float:
    """CPU seconds of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_times() -> dict[int, tuple[str, float]]:
    out: dict[int, tuple[str, float]] = {}
    for proc in psutil.process_iter(["pid", "cmdline", "name"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [proc.info["name"] or ""])
            times = proc.cpu_times()
            out[proc.info["pid"]] = (role_of(cmdline), times.user + times.system)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return out


@dataclass
class CpuMeter:
    """CPU use by role between :meth:`start` and :meth:`stop`."""

    started: float = 0.0
    busy: float = 0.0
    reaped: float = 0.0
    processes: dict[int, tuple[str, float]] = field(default_factory=dict)

    def start(self) -> CpuMeter:
        """Take the first snapshot."""
        self.started, self.busy = time.monotonic(), _busy_seconds()
        self.reaped = _reaped_children_seconds()
        self.processes = _process_times()
        return self

    def stop(self) -> dict[str, float]:
        """Cores used per role, and ``machine`` (every CPU's busy time) since :meth:`start`.

        A process that started during the phase counts from zero. One that ended is counted
        only if it was this process's child and has been waited for (locust, run to its end by
        the benchmark, is counted that way); others that ended are missing from the roles but
        not from ``machine``.
        """
        wall = max(1e-6, time.monotonic() - self.started)
        busy = _busy_seconds() - self.busy
        shares: dict[str, float] = {}
        for pid, (role, seconds) in _process_times().items():
            before = self.processes.get(pid, (role, 0.0))[1]
            shares[role] = shares.get(role, 0.0) + max(0.0, seconds - before) / wall
        reaped = _reaped_children_seconds() - self.reaped
        if reaped > 0:
            role = "locust (load generator)"
            shares[role] = shares.get(role, 0.0) + reaped / wall
        out = {role: round(value, 2) for role, value in sorted(shares.items()) if value >= 0.01}
        out["machine"] = round(busy / wall, 2)
        return out
