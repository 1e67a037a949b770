"""Masking of phone and ID numbers in everything a process of ours writes out.

:func:`install` is called first thing by every entry point (``bot.rasa_server``,
``bot.action_server``, the console), before Rasa or Sanic configure their logging, never at
import time. It covers

- every log record, whoever logs it (Rasa, Sanic, SQLAlchemy, ours): a record factory masks
  the message and its arguments as the record is created, so later handlers see only masked
  text;
- Python warnings (Rasa reports odd input, e.g. an undeclared entity with its value, through
  :mod:`warnings`): routed into logging;
- ``print`` and anything else written to ``sys.stdout`` / ``sys.stderr``: the streams are
  wrapped by :class:`MaskingStream`, which masks line by line.
"""

from __future__ import annotations

import io
import logging
import sys
from typing import Any, TextIO

from bot.numbers import mask_data, mask_text


class MaskingFilter(logging.Filter):
    """Rewrites a record's message and arguments with :func:`bot.numbers.mask_text`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: mask what can be shown of it
            message = f"{record.msg!s} {record.args!r}"
        record.msg = mask_text(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if isinstance(getattr(record, "event", None), (dict, str)):
            record.event = mask_data(record.event)  # type: ignore[attr-defined]
        return True


class MaskingStream(io.TextIOBase):
    """A text stream that masks personal numbers line by line before writing them on.

    Args:
        target: the stream written to (e.g. the original ``sys.stderr``).
    """

    def __init__(self, target: TextIO) -> None:
        """Wrap ``target``."""
        super().__init__()
        self._target = target
        self._pending = ""

    def write(self, text: str) -> int:  # type: ignore[override]
        """Buffer ``text`` and write every complete line, masked."""
        if not isinstance(text, str):
            text = str(text)
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self._target.write(mask_text(complete) + "\n")
        if len(self._pending) > 8192:  # a long line without a break: don't hold it back
            self.flush()
        return len(text)

    def flush(self) -> None:
        """Write what is buffered (masked) and flush the target."""
        if self._pending:
            self._target.write(mask_text(self._pending))
            self._pending = ""
        self._target.flush()

    def isatty(self) -> bool:
        """Whether the target is a terminal."""
        return bool(getattr(self._target, "isatty", lambda: False)())

    def fileno(self) -> int:
        """The target's file descriptor."""
        return self._target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The target's encoding."""
        return str(getattr(self._target, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


_installed = False


def install(streams: bool = True) -> None:
    """Mask numbers in every log record, warning and (optionally) stdout/stderr write.

    Idempotent. Call it before anything else configures logging.

    Args:
        streams: also wrap ``sys.stdout`` and ``sys.stderr`` (off for interactive shells).
    """
    global _installed
    if _installed:
        return
    masking = MaskingFilter()
    original_factory = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = original_factory(*args, **kwargs)
        masking.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    root = logging.getLogger()
    root.addFilter(masking)
    for handler in root.handlers:
        handler.addFilter(masking)
    logging.captureWarnings(True)
    if streams:
        if not isinstance(sys.stdout, MaskingStream):
            sys.stdout = MaskingStream(sys.stdout)  # type: ignore[assignment]
        if not isinstance(sys.stderr, MaskingStream):
            sys.stderr = MaskingStream(sys.stderr)  # type: ignore[assignment]
    _installed = True
