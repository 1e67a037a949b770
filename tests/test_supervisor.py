"""bot.supervisor: a component that dies comes back, the others keep running, stop is clean."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.supervisor import Service, Supervisor, database_available

ROOT = Path(__file__).resolve().parents[1]


def _until(check: Callable[[], object], timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists": look at its state.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture()
def running() -> Iterator[Callable[..., Supervisor]]:
    started: list[tuple[Supervisor, threading.Thread]] = []

    def start(services: list[Service], **kwargs: float) -> Supervisor:
        sup = Supervisor(services, poll_interval=0.05, **kwargs)
        thread = threading.Thread(target=sup.run, daemon=True)
        thread.start()
        started.append((sup, thread))
        return sup

    yield start
    for sup, thread in started:
        sup.request_stop()
        thread.join(timeout=30)


def test_a_killed_component_comes_back_and_the_others_keep_running(running) -> None:
    sup = running(
        [Service("a", ["sleep", "60"]), Service("b", ["sleep", "60"])], initial_backoff=0.1
    )
    pid_a = _until(lambda: sup.pid("a"))
    pid_b = _until(lambda: sup.pid("b"))
    os.kill(pid_a, signal.SIGKILL)
    new_a = _until(lambda: (p := sup.pid("a")) and p != pid_a and p)
    assert new_a != pid_a and _alive(new_a)
    assert sup.pid("b") == pid_b and _alive(pid_b)
    assert sup.restarts("a") == 1 and sup.restarts("b") == 0


def test_a_crash_looping_component_is_restarted_with_growing_delays(running, tmp_path) -> None:
    starts = tmp_path / "starts"
    crash = f"date +%s.%N >> {starts}; exit 3"
    sup = running(
        [Service("crasher", ["sh", "-c", crash])],
        initial_backoff=0.2,
        max_backoff=0.8,
    )
    _until(lambda: starts.exists() and len(starts.read_text().split()) >= 5, timeout=20)
    times = [float(t) for t in starts.read_text().split()]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # 0.2, 0.4, 0.8, 0.8 s: the delay doubles up to the cap (plus a little start-up time).
    assert gaps[1] > gaps[0] + 0.1 and gaps[2] > gaps[1] + 0.2
    assert 0.7 <= gaps[3] < 2.5
    assert sup.restarts("crasher") >= 4


def test_a_component_waits_for_its_precondition_instead_of_failing(running, tmp_path) -> None:
    flag = tmp_path / "database-up"
    sup = running(
        [Service("console", ["sleep", "60"], precondition=flag.exists, waiting_for="its db")],
        initial_backoff=0.05,
        max_backoff=0.1,
    )
    time.sleep(0.5)
    assert sup.pid("console") is None
    flag.touch()
    assert _until(lambda: sup.pid("console"))
    assert sup.restarts("console") == 0


def test_restart_on_request_replaces_a_hung_component(running) -> None:
    sup = running([Service("hung", ["sleep", "60"])], initial_backoff=0.1)
    pid = _until(lambda: sup.pid("hung"))
    sup.restart("hung", "health check failed")
    assert _until(lambda: (p := sup.pid("hung")) and p != pid)
    assert not _alive(pid)


SUPERVISED = textwrap.dedent(
    """
    import logging, sys
    from bot.supervisor import Service, Supervisor
    logging.basicConfig(level=logging.INFO)
    sup = Supervisor([Service("one", ["sleep", "120"]), Service("two", ["sleep", "120"]),
                      Service("stubborn", [sys.executable, "-c",
                              "import signal, time; signal.signal(signal.SIGTERM, "
                              "signal.SIG_IGN); print('ready', flush=True); time.sleep(120)"],
                              stop_timeout=1.0)])
    sup.install_signal_handlers()
    raise SystemExit(sup.run())
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_every_component(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISED],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        seen = []
        while (line := proc.stdout.readline()) and line.strip() != "ready":
            seen.append(line)
        assert line.strip() == "ready", seen

        def children() -> list[int]:
            out = subprocess.run(
                ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True
            ).stdout
            return [int(p) for p in out.split()]

        kids = _until(lambda: len(children()) == 3 and children())
        assert isinstance(kids, list)
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0
        log = "".join(seen) + proc.stdout.read()
        assert "stopping every component" in log
        assert "did not stop in time, killing it" in log  # the one ignoring SIGTERM
        assert "exited with" not in log  # a stop is no crash: nothing was restarted
        for pid in kids:
            assert not _alive(pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_database_available_tells_a_dead_server_from_a_live_one() -> None:
    assert database_available("sqlite:///:memory:")
    assert not database_available("postgresql://postgres@127.0.0.1:1/none", timeout=1)
