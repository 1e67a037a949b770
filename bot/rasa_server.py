"""The Rasa server, started our way: ``python -m bot.rasa_server --model M [--port P]``.

It is ``rasa run --enable-api`` with, installed *before* Rasa starts:

1. :func:`bot.logmask.install`: phone and ID numbers masked in every log line, warning and
   print of the process (Rasa's and Sanic's own included);
2. a check that the installed Rasa is the version our patches were written for;
3. :func:`bot.rasa_speedups.install` (the cached action-response validator);
4. :func:`harden` on the Sanic app Rasa builds: JSON errors for every failure (oversized
   headers and bodies, unknown routes …), request size limits, trusted proxies;
5. the HTTP API token taken from ``RASA_AUTH_TOKEN`` in the environment, never from the
   command line (where ``ps`` would show it).
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from collections.abc import Sequence
from typing import Any

#: The Rasa release our patches (speed-up, tracker store, channels) were written for.
RASA_VERSION = "3.6.21"
#: The largest request body the server reads (the web chat's own limit is lower).
MAX_REQUEST_BYTES = 1_000_000
#: The largest request header block.
MAX_HEADER_BYTES = 8192


def check_rasa_version() -> None:
    """Stop with a clear message when another Rasa release is installed."""
    import rasa

    if rasa.__version__ != RASA_VERSION:
        raise SystemExit(
            f"bot.rasa_server was written for Rasa {RASA_VERSION}, but Rasa {rasa.__version__} "
            "is installed: run `make install` (requirements/rasa.txt pins the version)."
        )


def harden(app: Any) -> Any:
    """Apply our limits and JSON error handling to a Sanic app built by Rasa.

    Args:
        app: the Sanic app.

    Returns:
        The same app.
    """
    from bot.channels.guard import install_error_handlers

    install_error_handlers(app)
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES
    app.config.REQUEST_MAX_HEADER_SIZE = MAX_HEADER_BYTES
    app.config.REQUEST_TIMEOUT = 30
    # Behind nginx (the cluster) the client address comes from X-Forwarded-For; only then.
    proxies = int(os.environ.get("TRUSTED_PROXIES", "0") or 0)
    if proxies > 0:
        app.config.PROXIES_COUNT = proxies
        app.config.REAL_IP_HEADER = "x-forwarded-for"
    return app


def install_app_hook(auth_token: str) -> None:
    """Make Rasa's ``configure_app`` build hardened apps with our token.

    Args:
        auth_token: the HTTP API token.
    """
    import rasa.core.run as rasa_run

    original = getattr(rasa_run.configure_app, "__wrapped__", rasa_run.configure_app)

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        bound = inspect.signature(original).bind(*args, **kwargs)
        bound.arguments["auth_token"] = auth_token
        return harden(original(*bound.args, **bound.kwargs))

    configure_app.__wrapped__ = original  # type: ignore[attr-defined]
    rasa_run.configure_app = configure_app


def rasa_arguments(args: argparse.Namespace) -> list[str]:
    """The ``rasa run`` command line (without any secret)."""
    return [
        "rasa",
        "run",
        "--model",
        args.model,
        "--endpoints",
        args.endpoints,
        "--credentials",
        args.credentials,
        "--interface",
        args.host,
        "--port",
        str(args.port),
        "--enable-api",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, install our layers and run Rasa."""
    from bot import logmask

    logmask.install()
    os.umask(0o077)  # databases, logs and secrets this process creates: owner only
    parser = argparse.ArgumentParser(prog="python -m bot.rasa_server")
    parser.add_argument("--model", default="models")
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--credentials", default="credentials.yml")
    parser.add_argument("--host", default=os.environ.get("RASA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    args = parser.parse_args(argv)
    token = os.environ.get("RASA_AUTH_TOKEN", "")
    if len(token) < 16:
        raise SystemExit("RASA_AUTH_TOKEN must be set (at least 16 characters).")
    check_rasa_version()
    from bot import rasa_speedups

    rasa_speedups.install()
    install_app_hook(token)
    sys.argv = rasa_arguments(args)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
