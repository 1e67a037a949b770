"""``make shell``: ``rasa shell`` beside a running ``make run``.

``rasa shell`` starts its own small Rasa server; by default it binds 0.0.0.0:5005, which
``make run`` already uses, and stops with "address already in use". This entry point runs the
same ``rasa shell`` with

- its own port on 127.0.0.1 (``$SHELL_PORT``, or any free port),
- the running action server and the same conversation store (``endpoints.yml`` with the
  settings of :mod:`bot.settings`, exactly what ``make run`` uses),
- buttons listed by their titles ("1: 身份证补领"), not as ``title (payload)``; choosing one
  still sends its payload,
- no wall of deprecation warnings (Sanic and Rasa turn them back on; see
  :func:`quiet_warnings`).

Run: ``python -m bot shell`` (``make shell``), or ``python -m bot.shell --model <model>``.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import urllib.error
import urllib.request
import warnings
from collections.abc import Sequence
from typing import Any

FREE_TEXT = "Type out your own message..."


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ignore_deprecations() -> None:
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
    try:
        from sqlalchemy.exc import SAWarning

        warnings.filterwarnings("ignore", category=SAWarning)
    except ImportError:  # pragma: no cover
        pass


def quiet_warnings() -> None:
    """Hide the libraries' deprecation warnings, also after Sanic and Rasa set their filters.

    Sanic's import adds ``filterwarnings("once", DeprecationWarning)``; Rasa's logging setup adds
    ``("once", UserWarning)`` in front, which pyparsing's deprecation warnings (both kinds)
    match. The ignore filters are put back in front after each.
    """
    import jieba
    import sanic.app  # noqa: F401  (its import adds filterwarnings("once", DeprecationWarning))
    from rasa.utils import common

    jieba.setLogLevel(logging.WARNING)  # not "Building prefix dict ..." on every start
    _ignore_deprecations()
    original = common._filter_warnings

    def _filter_warnings(log_level: int | None, warn_only_once: bool = True) -> None:
        original(log_level, warn_only_once)
        _ignore_deprecations()

    common._filter_warnings = _filter_warnings


def _title(button: dict[str, Any], idx: int = 0) -> str:
    return f"{idx + 1}: {button.get('title', '')}"


def show_button_titles() -> None:
    """Make ``rasa shell`` list buttons by title and send the chosen button's payload."""
    import questionary
    from prompt_toolkit.styles import Style
    from rasa.cli import utils as cli_utils
    from rasa.core.channels import console
    from rasa.shared.utils.cli import print_color

    def print_buttons(
        message: dict[str, Any], is_latest_message: bool = False, color: str = ""
    ) -> Any:
        buttons = [b for b in message.get("buttons") or [] if isinstance(b, dict)]
        if not is_latest_message:
            print_color("Buttons:", color=color)
            for idx, button in enumerate(buttons):
                print_color(_title(button, idx), color=color)
            return None
        choices = [
            questionary.Choice(title=_title(button, idx), value=button.get("payload") or "")
            for idx, button in enumerate(buttons)
        ]
        choices.append(questionary.Choice(title=FREE_TEXT, value=cli_utils.FREE_TEXT_INPUT_PROMPT))
        return questionary.select(
            message.get("text") or "",
            choices,
            style=Style([("qmark", "#6d91d3"), ("", "#6d91d3"), ("answer", "#b373d6")]),
        )

    async def payload_from_button_question(question: Any) -> str:
        return str(await question.ask_async())

    def button_to_string(button: dict[str, Any], idx: int = 0) -> str:
        return _title(button, idx)

    console.print_buttons = print_buttons
    cli_utils.payload_from_button_question = payload_from_button_question
    cli_utils.button_to_string = button_to_string


def action_server_up(endpoint_url: str) -> bool:
    """Whether the action server answers its health check."""
    health = endpoint_url.rsplit("/webhook", 1)[0] + "/health"
    try:
        with urllib.request.urlopen(health, timeout=3):
            return True
    except (OSError, urllib.error.HTTPError):
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Start ``rasa shell`` (see the module docstring)."""
    import os

    from bot.settings import apply_defaults

    parser = argparse.ArgumentParser(prog="python -m bot.shell", description=__doc__)
    parser.add_argument("--model", required=True, help="the trained model (.tar.gz)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SHELL_PORT") or 0))
    args = parser.parse_args(argv)
    apply_defaults()
    quiet_warnings()
    show_button_titles()
    endpoint = os.environ["ACTION_ENDPOINT_URL"]
    if not action_server_up(endpoint):
        print(
            f"注意：动作服务器 {endpoint} 没有响应——请先在另一个终端运行 `make run`。"
            "\n(Policy answers work without it; lookups, progress and booking do not.)",
            flush=True,
        )
    sys.argv = [
        "rasa",
        "shell",
        "--model",
        args.model,
        "--endpoints",
        "endpoints.yml",
        "--interface",
        "127.0.0.1",
        "--port",
        str(args.port or free_port()),
        "--quiet",
    ]
    from rasa.__main__ import main as rasa_main

    rasa_main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
