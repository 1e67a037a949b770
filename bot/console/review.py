"""The officer's review of inbox questions: annotate with an intent, propose one, or close."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.console.intents import INTENT_NAME_RE, IntentCatalog
from bot.console.models import ConsoleItem
from bot.db.models import utcnow


class ReviewError(ValueError):
    """An annotation that cannot be saved (message is user-facing Chinese)."""


@dataclass
class Review:
    """An officer's decision on some questions.

    Attributes:
        action: ``annotate`` (assign intent / propose one), ``reviewed`` (seen, nothing to
            train) or ``not_useful``.
        intent: an existing intent, or a proposed new snake_case intent.
        texts: edited example text per item id (missing: keep the question text).

    """

    action: str
    intent: str = ""
    texts: dict[int, str] = field(default_factory=dict)


@dataclass
class ReviewOutcome:
    """What a review changed.

    Attributes:
        items: items changed.
        intent: the intent assigned (known) or proposed (new).
        is_new_intent: the intent is not in the domain yet.

    """

    items: int
    intent: str = ""
    is_new_intent: bool = False


def apply_review(
    session: Session,
    item_ids: list[int],
    review: Review,
    catalog: IntentCatalog,
    username: str,
) -> ReviewOutcome:
    """Save an officer's decision on the selected questions.

    Args:
        session: app database session.
        item_ids: the selected items.
        review: the decision.
        catalog: the known intents (to tell assignments from proposals).
        username: who decides.

    Returns:
        What changed.

    Raises:
        ReviewError: nothing selected, unknown action, or an invalid intent name.

    """
    if not item_ids:
        raise ReviewError("请至少选择一条问题。")
    items = list(
        session.execute(sa.select(ConsoleItem).where(ConsoleItem.id.in_(item_ids))).scalars()
    )
    if not items:
        raise ReviewError("所选问题不存在。")
    now = utcnow()
    outcome = ReviewOutcome(items=len(items))
    intent = review.intent.strip()
    if review.action == "annotate":
        if not intent:
            raise ReviewError("请选择一个意图，或填写新意图名称。")
        if intent in catalog.retrieval_bases:
            raise ReviewError(f"“{intent}”是检索意图，请选择具体的子意图，如 {intent}/xxx。")
        known = catalog.is_known(intent)
        if not known and not INTENT_NAME_RE.match(intent):
            raise ReviewError(
                "新意图名称须为小写英文蛇形命名（如 ask_hukou_split），可带 faq/ 前缀。"
            )
        outcome.intent = intent
        outcome.is_new_intent = not known
        for item in items:
            edited = review.texts.get(int(item.id))
            if edited is not None and edited.strip() and edited.strip() != item.text:
                item.annotated_text = edited.strip()[:500]
            item.annotated_intent = intent if known else None
            item.proposed_intent = None if known else intent
            item.status = "reviewed"
            item.reviewed_by = username
            item.reviewed_at = now
    elif review.action in ("reviewed", "not_useful"):
        for item in items:
            item.status = review.action
            item.reviewed_by = username
            item.reviewed_at = now
            if review.action == "reviewed":
                item.annotated_intent = item.annotated_intent or None
    elif review.action == "reopen":
        for item in items:
            item.status = "new"
            item.reviewed_by = username
            item.reviewed_at = now
    else:
        raise ReviewError("未知操作。")
    session.flush()
    return outcome
