"""Active health checks: a replica that stops answering leaves nginx's rotation and comes back.

Open-source nginx only has passive checks (a refused connection takes a server out for a few
seconds). The :class:`HealthMonitor` adds active ones: every ``interval`` seconds it asks each
Rasa replica (``/webhooks/webchat/health`` must say ``"ready": true``) and each action server
(``/health``). A server failing ``fall`` checks in a row becomes a ``backup`` in the
generated nginx configuration (used only when every healthy server refuses the connection)
and nginx is reloaded; one check passing puts it back. A server that was
healthy and then failed for ``hung_after`` seconds while its process still runs is hung: the
supervisor restarts it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.supervisor import Supervisor

logger = logging.getLogger("bot.cluster.health")


@dataclass
class Target:
    """One checked server.

    Attributes:
        name: the supervisor's name of its process.
        port: its port (the key in nginx's configuration).
        url: its health URL.
        needs_ready: the answer must contain ``"ready": true`` (Rasa replicas).
    """

    name: str
    port: int
    url: str
    needs_ready: bool = False
    healthy: bool = False
    failures: int = 0
    failing_since: float | None = None
    healthy_pid: int | None = field(default=None, repr=False)


def probe(url: str, needs_ready: bool, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers 200 (and says it is ready, if asked)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            if resp.status != 200:
                return False
            if not needs_ready:
                return True
            return bool(json.loads(resp.read() or b"{}").get("ready"))
    except (OSError, ValueError, urllib.error.HTTPError):
        return False


class HealthMonitor:
    """Check the targets in a thread; call ``on_change`` with ``{port: healthy}`` on changes.

    Args:
        supervisor: to find the processes and restart hung ones.
        targets: the servers to check.
        on_change: called with the health of every port after any change.
        interval: seconds between rounds.
        fall: failed checks in a row that take a server out.
        hung_after: seconds of failing (after having been healthy) before a restart.
    """

    def __init__(
        self,
        supervisor: Supervisor,
        targets: list[Target],
        on_change: Callable[[dict[int, bool]], None],
        interval: float = 2.0,
        fall: int = 2,
        hung_after: float = 30.0,
    ) -> None:
        """Prepare the monitor (:meth:`start` runs it)."""
        self.supervisor = supervisor
        self.targets = targets
        self.on_change = on_change
        self.interval = interval
        self.fall = fall
        self.hung_after = hung_after
        self._stop = threading.Event()

    def health(self) -> dict[int, bool]:
        """The current view: port → healthy."""
        return {t.port: t.healthy for t in self.targets}

    def replica_ready(self) -> bool:
        """Whether at least one Rasa replica is in rotation."""
        return any(t.healthy for t in self.targets if t.needs_ready)

    def check_once(self) -> bool:
        """One round of checks; returns whether any server changed state."""
        changed = False
        now = time.monotonic()
        for target in self.targets:
            pid = self.supervisor.pid(target.name)
            ok = pid is not None and probe(target.url, target.needs_ready)
            if ok:
                if not target.healthy:
                    logger.info("%s: healthy, in rotation", target.name)
                    changed = True
                target.healthy, target.failures, target.failing_since = True, 0, None
                target.healthy_pid = pid
                continue
            target.failures += 1
            if target.failing_since is None:
                target.failing_since = now
            if target.healthy and (pid is None or target.failures >= self.fall):
                logger.warning("%s: failed its health check, out of rotation", target.name)
                target.healthy = False
                changed = True
            hung = (
                pid is not None
                and pid == target.healthy_pid
                and now - target.failing_since >= self.hung_after
            )
            if hung:
                self.supervisor.restart(target.name, f"no health for {self.hung_after:.0f} s")
                target.healthy_pid, target.failing_since = None, None
        return changed

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.check_once():
                    self.on_change(self.health())
            except Exception:  # noqa: BLE001 - never let the checker die
                logger.exception("health monitor round failed")

    def start(self) -> None:
        """Run the checks in a daemon thread."""
        threading.Thread(target=self._loop, name="health", daemon=True).start()

    def stop(self) -> None:
        """Stop checking."""
        self._stop.set()
