"""Helpers shared by the event broker (Rasa side) and the console's consumer (no Rasa import)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

logger = logging.getLogger(__name__)


def quiet_amqp_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Log aiormq's orphaned "connection closed" futures in one line, without a traceback.

    When RabbitMQ goes away, aiormq leaves futures whose exception nobody retrieves; asyncio
    logs each with a traceback when it is garbage collected. Formatting a traceback runs
    ``ast.parse`` (Python 3.11's caret anchors), and when that happens inside a garbage
    collection that interrupted another compile, CPython 3.11.7 breaks ("AST constructor
    recursion depth mismatch") for the rest of the process. Other errors go to the loop's
    previous handler.
    """
    previous = loop.get_exception_handler()
    if getattr(previous, "quiet_amqp", False):
        return

    def handler(the_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if error is not None and type(error).__module__.split(".")[0] in ("aiormq", "pamqp"):
            logger.debug("AMQP connection error after the fact: %r", error)
            return
        if previous is not None:
            previous(the_loop, context)
        else:
            the_loop.default_exception_handler(context)

    handler.quiet_amqp = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)
