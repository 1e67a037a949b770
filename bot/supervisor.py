"""A small process supervisor shared by ``python -m bot run`` and ``run-cluster``.

Every component (action server, Rasa, console, nginx …) is a :class:`Service`. The
:class:`Supervisor` starts them in order and watches them:

- a component that exits is logged and started again after a back-off delay (1 s, 2 s, 4 s …
  up to ``max_backoff``; a component that ran for ``stable_after`` seconds starts again at
  1 s), while the others keep running;
- a component with a ``precondition`` (e.g. "its database answers") is only started once the
  check passes; until then the supervisor logs that it is waiting and retries with the same
  back-off, instead of starting something that would exit at once;
- SIGINT (Ctrl-C) or SIGTERM stops everything: SIGTERM to each component (last started
  first), SIGKILL after ``stop_timeout`` seconds.

The supervisor runs in the main thread; other threads may call :meth:`Supervisor.restart`
(e.g. a health checker that found a component hung).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

logger = logging.getLogger("bot.supervisor")


@dataclass
class Service:
    """One supervised component.

    Attributes:
        name: short name for the logs (``rasa-1``, ``actions``, ``console`` …).
        argv: the command line.
        env: its environment (None: the supervisor's own).
        cwd: working directory (None: the supervisor's).
        log_path: file that receives stdout and stderr (None: the supervisor's terminal).
        precondition: called before every start; the component starts only when it returns
            True (e.g. its database is reachable). It must return within a few seconds.
        waiting_for: what the precondition waits for, for the log ("its database").
        stop_timeout: seconds between SIGTERM and SIGKILL when stopping.
    """

    name: str
    argv: Sequence[str]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    log_path: Path | None = None
    precondition: Callable[[], bool] | None = None
    waiting_for: str = "its precondition"
    stop_timeout: float = 20.0


@dataclass
class _State:
    service: Service
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    next_start: float = 0.0
    restarts: int = 0
    waiting_logged: bool = False
    log: IO[bytes] | None = field(default=None, repr=False)


class Supervisor:
    """Start, watch, restart and stop a set of :class:`Service` processes.

    Args:
        services: the components, in start order.
        initial_backoff: first delay before a restart (seconds).
        max_backoff: longest delay between restarts.
        stable_after: a component that ran this long has its back-off reset.
        poll_interval: how often the children are checked.
    """

    def __init__(
        self,
        services: Sequence[Service],
        initial_backoff: float = 1.0,
        max_backoff: float = 30.0,
        stable_after: float = 60.0,
        poll_interval: float = 0.5,
    ) -> None:
        """Create the supervisor (nothing is started yet)."""
        names = [s.name for s in services]
        if len(set(names)) != len(names):
            raise ValueError(f"service names must be unique: {names}")
        self._states = {s.name: _State(s) for s in services}
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._lock = threading.RLock()

    # -- queries -----------------------------------------------------------------------------

    def pid(self, name: str) -> int | None:
        """PID of a running component, else None."""
        with self._lock:
            proc = self._states[name].proc
            return proc.pid if proc is not None and proc.poll() is None else None

    def restarts(self, name: str) -> int:
        """How many times a component was started again after it exited."""
        return self._states[name].restarts

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested."""
        return self._stop.is_set()

    # -- control -----------------------------------------------------------------------------

    def request_stop(self, *_: object) -> None:
        """Ask :meth:`run` to stop everything and return (safe from a signal handler)."""
        self._stop.set()

    def restart(self, name: str, reason: str) -> None:
        """Stop a component now; the watch loop starts it again with the usual back-off.

        Args:
            name: the component.
            reason: why, for the log (e.g. "health check failed 3 times").
        """
        with self._lock:
            state = self._states[name]
            if state.proc is not None and state.proc.poll() is None:
                logger.warning("%s: restarting (%s)", name, reason)
                self._terminate(state)

    def install_signal_handlers(self) -> None:
        """Stop cleanly on SIGINT and SIGTERM (call from the main thread)."""

        def handler(signum: int, _frame: FrameType | None) -> None:
            logger.info("%s received: stopping every component", signal.Signals(signum).name)
            self.request_stop()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)

    def run(self, on_started: Callable[[], None] | None = None) -> int:
        """Start every component, restart the ones that exit, until a stop is requested.

        Args:
            on_started: called once after the first start of every component (e.g. to wait
                for readiness and print where everything is); runs in a helper thread.

        Returns:
            0 after a requested stop.
        """
        try:
            for state in self._states.values():
                self._maybe_start(state)
            if on_started is not None:
                threading.Thread(target=on_started, name="on-started", daemon=True).start()
            while not self._stop.wait(self.poll_interval):
                for state in self._states.values():
                    self._check(state)
            return 0
        finally:
            self.stop_all()

    def stop_all(self) -> None:
        """Stop every component, last started first (SIGTERM, then SIGKILL)."""
        self._stop.set()
        with self._lock:
            states = list(self._states.values())[::-1]
            for state in states:
                if state.proc is not None and state.proc.poll() is None:
                    state.proc.terminate()
            for state in states:
                self._reap(state)

    # -- internals ---------------------------------------------------------------------------

    def _backoff(self, failures: int) -> float:
        return float(min(self.max_backoff, self.initial_backoff * 2 ** max(0, failures - 1)))

    def _maybe_start(self, state: _State) -> None:
        service = state.service
        precondition = service.precondition
        if precondition is not None:
            try:
                ready = bool(precondition())
            except Exception:  # noqa: BLE001 - a failing check means "not yet"
                ready = False
            if not ready:
                state.failures += 1
                delay = self._backoff(state.failures)
                state.next_start = time.monotonic() + delay
                if not state.waiting_logged:
                    logger.warning("%s: waiting for %s", service.name, service.waiting_for)
                    state.waiting_logged = True
                return
            if state.waiting_logged:
                logger.info("%s: %s is available, starting", service.name, service.waiting_for)
                state.waiting_logged = False
                state.failures = 0
        log = None
        if service.log_path is not None:
            service.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = service.log_path.open("ab")
        env = dict(service.env) if service.env is not None else dict(os.environ)
        try:
            proc = subprocess.Popen(
                list(service.argv),
                cwd=service.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT if log is not None else None,
                stdin=subprocess.DEVNULL,
            )
        except OSError as err:
            if log is not None:
                log.close()
            state.failures += 1
            delay = self._backoff(state.failures)
            state.next_start = time.monotonic() + delay
            logger.error("%s: cannot start (%s); next try in %.0f s", service.name, err, delay)
            return
        with self._lock:
            state.proc, state.log, state.started_at = proc, log, time.monotonic()
        logger.info("%s: started (pid %d)", service.name, proc.pid)

    def _check(self, state: _State) -> None:
        with self._lock:
            proc = state.proc
            if proc is not None and proc.poll() is not None:
                ran = time.monotonic() - state.started_at
                code = proc.returncode
                self._close_log(state)
                state.proc = None
                if ran >= self.stable_after:
                    state.failures = 0
                state.failures += 1
                delay = self._backoff(state.failures)
                state.next_start = time.monotonic() + delay
                state.restarts += 1
                how = f"signal {-code}" if code < 0 else f"code {code}"
                logger.error(
                    "%s: exited with %s after %.1f s; starting it again in %.0f s (restart #%d)",
                    state.service.name,
                    how,
                    ran,
                    delay,
                    state.restarts,
                )
                return
        if proc is None and time.monotonic() >= state.next_start and not self._stop.is_set():
            self._maybe_start(state)

    def _terminate(self, state: _State) -> None:
        if state.proc is not None and state.proc.poll() is None:
            state.proc.terminate()

    def _reap(self, state: _State) -> None:
        proc = state.proc
        if proc is None:
            return
        try:
            proc.wait(timeout=state.service.stop_timeout)
        except subprocess.TimeoutExpired:
            logger.warning("%s: did not stop in time, killing it", state.service.name)
            proc.kill()
            proc.wait(timeout=10)
        self._close_log(state)
        state.proc = None

    @staticmethod
    def _close_log(state: _State) -> None:
        if state.log is not None:
            state.log.close()
            state.log = None


def database_available(url: str, timeout: float = 3.0) -> bool:
    """Precondition: the SQL database at ``url`` accepts a connection (SQLite: always).

    Args:
        url: SQLAlchemy URL.
        timeout: connect timeout in seconds.

    Returns:
        Whether ``SELECT 1`` succeeded.
    """
    import sqlalchemy as sa

    if url.startswith("sqlite"):
        return True
    args = {"connect_timeout": max(1, int(timeout))} if url.startswith("postgres") else {}
    engine = sa.create_engine(url, connect_args=args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available yet"
        return False
    finally:
        engine.dispose()
