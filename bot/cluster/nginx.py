"""nginx for the cluster: the configuration rendered from ``deploy/nginx.conf.j2``, and reloads.

nginx is Debian's package (``make nginx`` installs it); the cluster runs its own instance in
the foreground under the supervisor, with every file under ``<CLUSTER_DIR>/nginx/``.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

from bot.cluster.settings import ClusterSettings
from bot.settings import PROJECT_ROOT

TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf.j2"


@dataclass(frozen=True)
class Upstream:
    """One server of an upstream block."""

    port: int
    up: bool = True


def nginx_binary() -> str:
    """Path of the nginx binary (``make nginx`` installs Debian's package)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise SystemExit("nginx is not installed: run `make nginx` (Debian's package)")
    return found


def prefix(settings: ClusterSettings) -> Path:
    """The nginx directory (configuration, pid, temp files, access log)."""
    return settings.workdir / "nginx"


def render(settings: ClusterSettings, healthy: Mapping[int, bool] | None = None) -> str:
    """The configuration text; ``healthy`` maps a port to its health (missing: healthy).

    A group whose servers are all unhealthy is rendered with all of them in rotation
    (nginx then answers with its JSON "系统繁忙" page rather than refusing every request).
    """
    healthy = healthy or {}

    def group(ports: tuple[int, ...]) -> list[Upstream]:
        states = [Upstream(p, healthy.get(p, True)) for p in ports]
        return states if any(s.up for s in states) else [Upstream(p) for p in ports]

    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True)
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(
        prefix=str(prefix(settings).resolve()),
        workers=1,
        user="www-data" if os.geteuid() == 0 else "",
        host=settings.host,
        port=settings.port,
        replicas=group(settings.rasa_ports),
        action_servers=group(settings.action_ports),
        actions_lb_port=settings.actions_lb_port,
        console_port=settings.console_port,
    )


def write_config(settings: ClusterSettings, healthy: Mapping[int, bool] | None = None) -> Path:
    """Write ``nginx.conf`` (and the temp directories) and return its path."""
    root = prefix(settings)
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    path = root / "nginx.conf"
    tmp = path.with_suffix(".new")
    tmp.write_text(render(settings, healthy), encoding="utf-8")
    tmp.replace(path)
    return path


def command(settings: ClusterSettings) -> list[str]:
    """The nginx command line (foreground; the supervisor watches it)."""
    root = prefix(settings).resolve()
    return [nginx_binary(), "-p", str(root), "-c", str(root / "nginx.conf")]


def reload(pid: int | None) -> bool:
    """Ask the nginx master to re-read its configuration (graceful)."""
    if pid is None:
        return False
    os.kill(pid, signal.SIGHUP)
    return True
