"""Incremental sync of the inbox from the tracker store, the feedback and the left messages.

Each sync reads what is new since the last one (watermarks in ``console_state``):

- user events of the tracker store → ``console_user_messages`` (every message, for the trend)
  and ``console_items`` (the unanswered ones, see :mod:`bot.console.triage`);
- 👎 rows of the feedback table → the rated user message's item gets ``is_thumbs_down``;
- rows of the messages table → an item with ``is_message`` (the question left for an officer).

New distinct question texts are then grouped (:mod:`bot.console.grouping`). ``classify`` is
re-exported here for callers of the earlier layout.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console import clustering, events_consumer, grouping, tracker
from bot.console.db import ConsoleDB
from bot.console.models import (
    ConsoleFeedbackSeen,
    ConsoleItem,
    ConsoleState,
    ConsoleUserMessage,
)
from bot.console.triage import classify
from bot.db import models as app_models
from bot.numbers import mask_text

logger = logging.getLogger(__name__)
__all__ = ["SyncResult", "Syncer", "classify", "item_counts"]

BATCH = 2000
#: Re-read this many event ids below the watermark (rows committed out of id order).
OVERLAP = 50
WM_EVENTS = "tracker_event_id"
WM_MESSAGES = "message_id"


@dataclass
class SyncResult:
    """What one sync did.

    Attributes:
        user_messages: user events read.
        items: inbox items created or updated.
        new_texts: distinct question texts grouped.
        complete: False if the time budget ran out before everything was read.
        seconds: wall time.

    """

    user_messages: int = 0
    items: int = 0
    new_texts: int = 0
    complete: bool = True
    seconds: float = 0.0


def _get_state(session: Session, key: str) -> int:
    row = session.get(ConsoleState, key)
    return int(row.value) if row is not None else 0


def _set_state(session: Session, key: str, value: int) -> None:
    row = session.get(ConsoleState, key)
    if row is None:
        session.add(ConsoleState(key=key, value=str(value)))
    else:
        row.value = str(value)


def _utc_naive(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).replace(tzinfo=None)


def _epoch(value: dt.datetime) -> float:
    return value.replace(tzinfo=dt.UTC).timestamp()


class Syncer:
    """Reads new conversations into the console tables.

    Args:
        db: the console's database handles.

    """

    def __init__(self, db: ConsoleDB) -> None:
        self.db = db
        self.settings = db.settings
        self.tz = ZoneInfo(self.settings.timezone)

    # -- helpers -----------------------------------------------------------------------------

    def _classify(self, message: tracker.UserMessage) -> dict[str, bool]:
        return classify(message, self.settings.low_confidence, self.settings.low_margin)

    def day(self, timestamp: float) -> str:
        """The local day (ISO date) of an event timestamp."""
        return dt.datetime.fromtimestamp(timestamp, self.tz).date().isoformat()

    def item_row(self, message: tracker.UserMessage, flags: dict[str, bool]) -> dict[str, Any]:
        """The inbox row of an unanswered user message (shared with the events consumer)."""
        return {
            "source_key": f"ev:{message.event_id}",
            "sender_id": message.sender_id,
            "event_id": message.event_id,
            "text": message.text or "（空消息）",
            "norm_text": clustering.normalise(message.text),
            "intent": message.intent,
            "confidence": message.confidence,
            "occurred_at": _utc_naive(message.timestamp),
            "status": "new",
            "is_fallback": False,
            "is_low_confidence": False,
            "is_out_of_scope": False,
            "is_low_margin": False,
            "is_thumbs_down": False,
            "is_message": False,
            **flags,
        }

    def _add_item(self, session: Session, row: dict[str, Any]) -> ConsoleItem:
        keys = grouping.register_texts(session, {row["norm_text"]: row["occurred_at"]})
        item = ConsoleItem(cluster_key=keys[row["norm_text"]], **row)
        session.add(item)
        session.flush()
        return item

    # -- the three sources -------------------------------------------------------------------

    def _sync_events(self, deadline: float | None, result: SyncResult) -> None:
        engine = self.db.tracker_engine
        if engine is None or not self.db.has_table(engine, "events"):
            return
        while True:
            with self.db.session() as session:
                watermark = _get_state(session, WM_EVENTS)
                with engine.connect() as conn:
                    batch = tracker.user_events_after(conn, max(0, watermark - OVERLAP), BATCH)
                if not batch:
                    return
                ids = [m.event_id for m in batch]
                present = {
                    int(i)
                    for (i,) in session.execute(
                        sa.select(ConsoleUserMessage.event_id).where(
                            ConsoleUserMessage.event_id.in_([i for i in ids if i <= watermark])
                        )
                    )
                }
                fresh = [m for m in batch if m.event_id not in present]
                classified = [(m, self._classify(m)) for m in fresh]
                with engine.connect() as conn:
                    in_form = tracker.form_answers(
                        conn, [m for m, flags in classified if any(flags.values())]
                    )
                user_rows: list[dict[str, Any]] = []
                item_rows: list[dict[str, Any]] = []
                for message, flags in classified:
                    if message.event_id in in_form:
                        # A form took it as its answer (a name, a date, a code): not unanswered.
                        flags = dict.fromkeys(flags, False)
                    unanswered = any(flags.values())
                    user_rows.append(
                        {
                            "event_id": message.event_id,
                            "sender_id": message.sender_id,
                            "day": self.day(message.timestamp),
                            "is_fallback": flags["is_fallback"],
                            "is_unanswered": unanswered,
                        }
                    )
                    if unanswered:
                        item_rows.append(self.item_row(message, flags))
                if item_rows:
                    seen: dict[str, dt.datetime] = {}
                    for row in item_rows:
                        seen.setdefault(row["norm_text"], row["occurred_at"])
                    keys = grouping.register_texts(session, seen)
                    for row in item_rows:
                        row["cluster_key"] = keys[row["norm_text"]]
                    session.execute(sa.insert(ConsoleItem), item_rows)
                if user_rows:
                    session.execute(sa.insert(ConsoleUserMessage), user_rows)
                result.user_messages += len(user_rows)
                result.items += len(item_rows)
                newest = max(ids)
                _set_state(session, WM_EVENTS, max(watermark, newest))
            if newest <= watermark:
                return
            if deadline is not None and time.monotonic() > deadline:
                result.complete = False
                return

    def _sync_feedback(self, result: SyncResult) -> None:
        """Flag 👎-rated answers.

        A rating can change in place (👍 → 👎), so instead of an id watermark every 👎 row not
        yet handled (``console_feedback_seen``) is processed.
        """
        feedback = getattr(app_models, "Feedback", None)
        if feedback is None or not self.db.has_table(self.db.engine, feedback.__tablename__):
            return
        engine = self.db.tracker_engine
        with self.db.session() as session:
            seen = {int(i) for (i,) in session.execute(sa.select(ConsoleFeedbackSeen.feedback_id))}
            down_ids = [
                int(i)
                for (i,) in session.execute(
                    sa.select(feedback.id).where(feedback.rating == "down").order_by(feedback.id)
                )
            ]
            todo = [i for i in down_ids if i not in seen]
            for start in range(0, len(todo), 200):
                rows = session.execute(
                    sa.select(feedback).where(feedback.id.in_(todo[start : start + 200]))
                ).scalars()
                for row in rows:
                    if self._flag_feedback(session, engine, row):
                        result.items += 1
                    session.add(ConsoleFeedbackSeen(feedback_id=int(row.id)))
                session.flush()

    def _flag_feedback(self, session: Session, engine: Any, row: Any) -> bool:
        created = getattr(row, "created_at", None)
        before = _epoch(created) if isinstance(created, dt.datetime) else None
        user_text = getattr(row, "user_text", None) or None
        message = None
        if engine is not None and self.db.has_table(engine, "events"):
            with engine.connect() as conn:
                message = tracker.find_user_event(conn, str(row.conversation_id), user_text, before)
        source_key = f"ev:{message.event_id}" if message is not None else f"fb:{row.id}"
        item = session.execute(
            sa.select(ConsoleItem).where(ConsoleItem.source_key == source_key)
        ).scalar_one_or_none()
        if item is not None and item.is_thumbs_down:
            return False
        if item is None and message is not None:
            flags = self._classify(message)
            item = self._add_item(session, self.item_row(message, flags))
        elif item is None:
            text = mask_text(str(user_text or "")) or "（无文本）"
            seen = created if isinstance(created, dt.datetime) else app_models.utcnow()
            item = self._add_item(
                session,
                {
                    "source_key": source_key,
                    "sender_id": str(row.conversation_id),
                    "text": text,
                    "norm_text": clustering.normalise(text),
                    "occurred_at": seen,
                    "status": "new",
                },
            )
        item.is_thumbs_down = True
        if item.status == "not_useful":
            item.status = "new"
        session.flush()
        return True

    def _sync_messages(self, result: SyncResult) -> None:
        message_model = app_models.CallbackRequest
        if not self.db.has_table(self.db.engine, message_model.__tablename__):
            return
        with self.db.session() as session:
            watermark = _get_state(session, WM_MESSAGES)
            rows = session.execute(
                sa.select(message_model)
                .where(message_model.id > watermark)
                .order_by(message_model.id)
            ).scalars()
            newest = watermark
            for row in rows:
                newest = max(newest, int(row.id))
                text = mask_text(str(row.text or "")) or "（无文本）"
                self._add_item(
                    session,
                    {
                        "source_key": f"msg:{row.id}",
                        "sender_id": str(row.conversation_id),
                        "text": text,
                        "norm_text": clustering.normalise(text),
                        "intent": row.topic,
                        "occurred_at": row.created_at,
                        "is_message": True,
                        "status": "new",
                    },
                )
                result.items += 1
            _set_state(session, WM_MESSAGES, newest)

    def _group_new_texts(self, result: SyncResult) -> None:
        result.new_texts += grouping.group_new_texts(self.db)

    # -- entry points ------------------------------------------------------------------------

    def sync(self, budget_seconds: float | None = None, wait: bool = True) -> SyncResult:
        """Read everything new (or as much as fits in ``budget_seconds``) and group it.

        Args:
            budget_seconds: stop reading tracker events after this long (None: no limit).
            wait: wait for a sync already running elsewhere; if False, return at once.

        Returns:
            What was done.

        """
        started = time.monotonic()
        result = SyncResult()
        if not self.db.sync_lock.acquire(blocking=wait):
            result.complete = False
            return result
        try:
            deadline = started + budget_seconds if budget_seconds is not None else None
            if not events_consumer.consume_if_configured(self):  # broker: the queue feeds it
                self._sync_events(deadline, result)
            self._sync_feedback(result)
            self._sync_messages(result)
            self._group_new_texts(result)
        finally:
            self.db.sync_lock.release()
        result.seconds = time.monotonic() - started
        if result.items or result.user_messages:
            logger.info(
                "console sync: %d user messages, %d inbox items, %d new texts in %.2fs",
                result.user_messages,
                result.items,
                result.new_texts,
                result.seconds,
            )
        return result

    def regroup_all(self) -> int:
        """Forget every group and group all known texts again (after changing the threshold).

        Returns:
            The number of groups afterwards.

        """
        return grouping.regroup_all(self.db)


def item_counts(session: Session) -> dict[str, Any]:
    """Small summary for the navigation bar: items waiting for review."""
    waiting = session.execute(
        sa.select(sa.func.count()).select_from(ConsoleItem).where(ConsoleItem.status == "new")
    ).scalar()
    return {"waiting": int(waiting or 0)}
