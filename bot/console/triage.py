"""Why a user message belongs in the officers' inbox.

A message is *unanswered* when

- the NLU fell back (``nlu_fallback``: the bot asked a clarifying question),
- it was classified with a confidence below ``low_confidence``,
- its top answer was barely ahead of the next one (margin below ``low_margin``): a confident
  wrong answer often looks like this, and it would otherwise reach officers only through a 👎,
- or it was out of scope *without a referral*: ``out_of_scope/other`` ("I can't help with that").

A referral to the right department (``out_of_scope/traffic`` → 122, ``out_of_scope/passport`` →
12367, ...) given with confidence is a correct answer, not an unanswered question. Button clicks
(``/intent`` payloads) are never unanswered, and answers a form took (see
:func:`bot.console.tracker.form_answers`) neither.
"""

from __future__ import annotations

from typing import Any

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
#: The out-of-scope answer that refers nowhere in particular.
GENERIC_OUT_OF_SCOPE = ("out_of_scope", "out_of_scope/other")
FLAGS: tuple[str, ...] = ("is_fallback", "is_low_confidence", "is_low_margin", "is_out_of_scope")


def _confidence(entry: Any) -> float | None:
    if not isinstance(entry, dict):
        return None
    raw = entry.get("confidence")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value else None  # NaN is no confidence


def _gap(ranking: Any, chosen: str | None, key: str) -> float | None:
    """Confidence of ``chosen`` minus the best other entry of a ranking (None: no other)."""
    if not isinstance(ranking, list):
        return None
    mine: float | None = None
    others: list[float] = []
    for entry in ranking:
        confidence = _confidence(entry)
        if confidence is None:
            continue
        if entry.get(key) == chosen and mine is None:
            mine = confidence
        else:
            others.append(confidence)
    if mine is None or not others:
        return None
    return mine - max(others)


def margin(parse_data: dict[str, Any]) -> float | None:
    """How far the chosen answer was ahead of the runner-up (the smaller of intent and answer).

    Args:
        parse_data: a user event's ``parse_data``.

    Returns:
        The intent's lead over the next intent; for retrieval intents (``faq``,
        ``out_of_scope``) also the chosen answer's lead over the next answer, whichever is
        smaller. None when there is no runner-up to compare with.

    """
    intent = parse_data.get("intent")
    name = intent.get("name") if isinstance(intent, dict) else None
    gaps = [_gap(parse_data.get("intent_ranking"), name, "name")]
    selectors = parse_data.get("response_selector")
    if isinstance(name, str) and isinstance(selectors, dict):
        selector = selectors.get(name) or {}
        response = selector.get("response") if isinstance(selector, dict) else None
        key = response.get("intent_response_key") if isinstance(response, dict) else None
        ranking = selector.get("ranking") if isinstance(selector, dict) else None
        gaps.append(_gap(ranking, key, "intent_response_key"))
    known = [g for g in gaps if g is not None]
    return min(known) if known else None


def classify(message: Any, low_confidence: float, low_margin: float = 0.0) -> dict[str, bool]:
    """Why a user message belongs in the inbox (all False: it does not).

    Args:
        message: a :class:`bot.console.tracker.UserMessage`.
        low_confidence: confidence below which a classified message counts as uncertain.
        low_margin: lead over the runner-up below which an answer counts as uncertain.

    Returns:
        The flags of :data:`FLAGS`.

    """
    intent = message.intent or ""
    fallback = intent == FALLBACK_INTENT
    typed = not fallback and not message.is_payload
    low = typed and message.confidence is not None and message.confidence < low_confidence
    close = (
        typed
        and not low
        and getattr(message, "margin", None) is not None
        and message.margin < low_margin
    )
    out_of_scope = typed and intent in GENERIC_OUT_OF_SCOPE
    return {
        "is_fallback": fallback,
        "is_low_confidence": low,
        "is_low_margin": bool(close),
        "is_out_of_scope": out_of_scope,
    }
