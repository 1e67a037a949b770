"""A logging filter that masks phone and ID numbers in every log record.

``install()`` is called when a process of ours starts (the input channels call it when Rasa
constructs them, the action server when it loads our actions), never at import time.
"""

from __future__ import annotations

import logging

from bot.privacy import mask_data, mask_text


class MaskingFilter(logging.Filter):
    """Rewrites a record's message and arguments with :func:`bot.privacy.mask_text`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler
            return True
        record.msg = mask_text(message)
        record.args = ()
        if isinstance(getattr(record, "event", None), (dict, str)):
            record.event = mask_data(record.event)  # type: ignore[attr-defined]
        return True


_installed = False


def install() -> None:
    """Attach the masking filter to the root logger and its handlers (idempotent)."""
    global _installed
    if _installed:
        return
    masking = MaskingFilter()
    root = logging.getLogger()
    root.addFilter(masking)
    for handler in root.handlers:
        handler.addFilter(masking)
    # Handlers added later (e.g. by Rasa's logging setup) get it through this factory hook.
    original_factory = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = original_factory(*args, **kwargs)
        masking.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
