"""Incremental sync of the inbox from the tracker store, the feedback and the left messages.

Each sync reads what is new since the last one (watermarks in ``console_state``):

- user events of the tracker store → ``console_user_messages`` (every message, for the trend)
  and ``console_items`` (messages that hit the fallback, were below the confidence threshold
  or were classified out of scope);
- 👎 rows of the feedback table → the rated user message's item gets ``is_thumbs_down``;
- rows of the messages table → an item with ``is_message`` (the question left for an officer).

New distinct question texts are then grouped (:mod:`bot.console.clustering`).
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

from bot.console import clustering, events_consumer, tracker
from bot.console.db import ConsoleDB
from bot.console.models import (
    ConsoleCluster,
    ConsoleFeedbackSeen,
    ConsoleItem,
    ConsoleState,
    ConsoleText,
    ConsoleUserMessage,
)
from bot.db import models as app_models
from bot.privacy import mask_text

logger = logging.getLogger(__name__)

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


def classify(message: tracker.UserMessage, low_confidence: float) -> dict[str, bool]:
    """Why a user message belongs in the inbox (all False: it does not).

    Args:
        message: the user message.
        low_confidence: confidence below which a classified message counts as uncertain.

    Returns:
        ``is_fallback``, ``is_low_confidence`` and ``is_out_of_scope`` flags.

    """
    intent = message.intent or ""
    fallback = intent == tracker.FALLBACK_INTENT
    out_of_scope = intent == "out_of_scope" or intent.startswith("out_of_scope/")
    low = (
        not fallback
        and not message.is_payload
        and message.confidence is not None
        and message.confidence < low_confidence
    )
    return {"is_fallback": fallback, "is_low_confidence": low, "is_out_of_scope": out_of_scope}


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

    def _day(self, timestamp: float) -> str:
        return dt.datetime.fromtimestamp(timestamp, self.tz).date().isoformat()

    def _ensure_texts(self, session: Session, seen: dict[str, dt.datetime]) -> dict[str, str]:
        """Group keys of the given normalised texts, registering unknown ones (key "")."""
        keys: dict[str, str] = {}
        norms = list(seen)
        for start in range(0, len(norms), 500):
            chunk = norms[start : start + 500]
            for norm, key in session.execute(
                sa.select(ConsoleText.norm_text, ConsoleText.cluster_key).where(
                    ConsoleText.norm_text.in_(chunk)
                )
            ):
                keys[str(norm)] = str(key)
        missing: list[dict[str, Any]] = [
            {"norm_text": n, "cluster_key": "", "first_seen": seen[n]}
            for n in norms
            if n not in keys
        ]
        if missing:
            session.execute(sa.insert(ConsoleText), missing)
            keys.update({m["norm_text"]: "" for m in missing})
        return keys

    def _item_row(self, message: tracker.UserMessage, flags: dict[str, bool]) -> dict[str, Any]:
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
            "is_thumbs_down": False,
            "is_message": False,
            **flags,
        }

    def _add_item(self, session: Session, row: dict[str, Any]) -> ConsoleItem:
        keys = self._ensure_texts(session, {row["norm_text"]: row["occurred_at"]})
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
                classified = [(m, classify(m, self.settings.low_confidence)) for m in fresh]
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
                            "day": self._day(message.timestamp),
                            "is_fallback": flags["is_fallback"],
                            "is_unanswered": unanswered,
                        }
                    )
                    if unanswered:
                        item_rows.append(self._item_row(message, flags))
                if item_rows:
                    seen: dict[str, dt.datetime] = {}
                    for row in item_rows:
                        seen.setdefault(row["norm_text"], row["occurred_at"])
                    keys = self._ensure_texts(session, seen)
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
            flags = classify(message, self.settings.low_confidence)
            item = self._add_item(session, self._item_row(message, flags))
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
        message_model = app_models.Message
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

    # -- grouping ----------------------------------------------------------------------------

    def _clusterer(self, session: Session) -> clustering.Clusterer:
        cache = self.db.cluster_cache
        model: clustering.Clusterer | None = cache.get("model")
        if model is None or cache.get("threshold") != self.settings.cluster_threshold:
            model = clustering.Clusterer(threshold=self.settings.cluster_threshold)
            cache["model"] = model
            cache["threshold"] = self.settings.cluster_threshold
            model._vectorizer = None
        corpus_size = session.execute(sa.select(sa.func.count()).select_from(ConsoleText)).scalar()
        if model.needs_refit(int(corpus_size or 0)):
            corpus = [t for (t,) in session.execute(sa.select(ConsoleText.norm_text))]
            leaders = [
                (str(k), clustering.normalise(str(label)))
                for k, label in session.execute(sa.select(ConsoleCluster.key, ConsoleCluster.label))
            ]
            model.load(corpus, leaders)
        return model

    def _group_new_texts(self, result: SyncResult) -> None:
        with self.db.session() as session:
            pending = (
                session.execute(
                    sa.select(ConsoleText)
                    .where(ConsoleText.cluster_key == "")
                    .order_by(ConsoleText.first_seen)
                )
                .scalars()
                .all()
            )
            if not pending:
                return
            model = self._clusterer(session)
            assigned = model.assign([p.norm_text for p in pending])
            new_norms = [
                p.norm_text for p, (_, is_new) in zip(pending, assigned, strict=True) if is_new
            ]
            labels: dict[str, str] = {}
            for start in range(0, len(new_norms), 500):
                for norm, text in session.execute(
                    sa.select(ConsoleItem.norm_text, ConsoleItem.text).where(
                        ConsoleItem.norm_text.in_(new_norms[start : start + 500])
                    )
                ):
                    labels.setdefault(str(norm), str(text))
            clusters: list[dict[str, str]] = []
            for text_row, (key, is_new) in zip(pending, assigned, strict=True):
                text_row.cluster_key = key
                if is_new:
                    clusters.append(
                        {"key": key, "label": labels.get(text_row.norm_text, text_row.norm_text)}
                    )
            session.flush()
            if clusters:
                session.execute(sa.insert(ConsoleCluster), clusters)
            texts = ConsoleText.__table__
            items = ConsoleItem.__table__
            session.execute(
                sa.update(items)
                .where(items.c.cluster_key == "")
                .values(
                    cluster_key=sa.select(texts.c.cluster_key)
                    .where(texts.c.norm_text == items.c.norm_text)
                    .scalar_subquery()
                )
            )
            result.new_texts += len(pending)

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
        with self.db.sync_lock:
            with self.db.session() as session:
                session.execute(sa.update(ConsoleText).values(cluster_key=""))
                session.execute(sa.delete(ConsoleCluster))
            self.db.cluster_cache.clear()
            self._group_new_texts(SyncResult())
        with self.db.session() as session:
            return int(
                session.execute(sa.select(sa.func.count()).select_from(ConsoleCluster)).scalar()
                or 0
            )


def item_counts(session: Session) -> dict[str, Any]:
    """Small summary for the navigation bar: items waiting for review."""
    waiting = session.execute(
        sa.select(sa.func.count()).select_from(ConsoleItem).where(ConsoleItem.status == "new")
    ).scalar()
    return {"waiting": int(waiting or 0)}
