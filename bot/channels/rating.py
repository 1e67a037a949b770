"""Which bot messages a citizen may rate (👍/👎), and what a 👎 may say about it.

The server decides, so the H5 page and the mini-program show 👍/👎 under the same messages:
only under *answers*, never under prompts ("请输入受理编号…") or small talk. A bot message is
**not** rateable when

- it was produced by a form asking for a slot: the action that uttered it also set
  ``requested_slot`` (Rasa's form prompts and the re-asks after a validation error), or
- the response that produced it is a prompt (``utter_ask_*``) or small talk
  (:data:`NOT_ANSWERS`), or the custom action that sent it is an ``action_ask_*`` action or
  :data:`NOT_ANSWERS`, or
- a custom action marked it as a question with ``dispatcher.utter_message(...,
  **PROMPT_MARK)`` (e.g. "请问您要查哪个区县的户籍窗口？"), or as an inner part of a longer
  answer with ``**PART_MARK`` (a heading or a place card; the answer's last message is rated).

Everything else (policy answers, referrals, lookup results, case status, name check,
booking confirmations) is rateable. The rule reads the tracker's events, which is where the
web chat finds a message again when it is rated or shown in the history.

A 👎 may carry a reason code from ``data/knowledge/feedback_reasons.yml`` and a short comment
(:func:`validate_feedback`); the pages' wording is in ``data/responses/webchat.yml``. Both are
officer-editable and read when the channel starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # the action server imports PROMPT_MARK without loading Rasa
    from rasa.shared.core.events import BotUttered, Event

#: Passed by custom actions as ``dispatcher.utter_message(text=..., **PROMPT_MARK)`` to mark a
#: question (it ends up in the bot event's metadata).
PROMPT_MARK = {"kind": "prompt"}
#: Marks a message as an inner part of a longer answer (a heading, one place card of several):
#: the answer's last message carries the 👍/👎 for all of it.
PART_MARK = {"kind": "part"}
_NOT_RATEABLE_KINDS = (PROMPT_MARK["kind"], PART_MARK["kind"])

#: Responses and actions that never answer a question (greetings, prompts, offers).
NOT_ANSWERS = frozenset(
    {
        "utter_greet",
        "utter_goodbye",
        "utter_thank",
        "utter_bot_challenge",
        "utter_complain",
        "utter_anything_else",
        "utter_stopped",
        "utter_default",
        "utter_service_unavailable",
        "utter_offer_message",
        "action_clarify",
        "action_booking_stopped",
    }
)
PROMPT_PREFIXES = ("utter_ask_", "action_ask_")

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
WORDING_FILE = DATA_DIR / "responses" / "webchat.yml"
REASONS_FILE = DATA_DIR / "knowledge" / "feedback_reasons.yml"
MAX_COMMENT_CHARS = 200
MAX_REASON_CHARS = 20


def _source_name(bot: BotUttered, action_name: str | None) -> str:
    metadata = bot.metadata if isinstance(bot.metadata, dict) else {}
    utter_action = metadata.get("utter_action")
    return str(utter_action or action_name or "")


def _is_prompt_source(name: str) -> bool:
    return name in NOT_ANSWERS or name.startswith(PROMPT_PREFIXES)


def rateable_events(events: Iterable[Event]) -> set[int]:
    """Find the rateable bot utterances of a tracker.

    Args:
        events: the tracker's events in order (one session or all of them).

    Returns:
        The ``id()`` of every rateable :class:`BotUttered` in ``events``.

    """
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    rateable: set[int] = set()
    action_name: str | None = None
    group: list[BotUttered] = []
    asks_slot = False

    def close_group() -> None:
        if asks_slot:
            return
        for bot in group:
            metadata = bot.metadata if isinstance(bot.metadata, dict) else {}
            if metadata.get("kind") in _NOT_RATEABLE_KINDS:
                continue
            if _is_prompt_source(_source_name(bot, action_name)):
                continue
            rateable.add(id(bot))

    for event in events:
        if isinstance(event, (ActionExecuted, UserUttered)):
            close_group()
            group, asks_slot = [], False
            action_name = event.action_name if isinstance(event, ActionExecuted) else None
        elif isinstance(event, BotUttered):
            group.append(event)
        elif isinstance(event, SlotSet) and event.key == "requested_slot" and event.value:
            asks_slot = True
    close_group()
    return rateable


def rateable_message_ids(
    with_ids: Sequence[tuple[str, BotUttered, Any]], events: Iterable[Event]
) -> set[str]:
    """Map :func:`rateable_events` to web-chat message ids.

    Args:
        with_ids: ``(message_id, bot_event, ...)`` tuples (``bot_events_with_ids``).
        events: the same tracker events.

    Returns:
        The ids of the rateable messages.

    """
    rateable = rateable_events(events)
    return {message_id for message_id, bot, *_ in with_ids if id(bot) in rateable}


def answer_text(events: Iterable[Event], rated: BotUttered) -> str:
    """The whole answer a rated message ends: the texts its action uttered up to it.

    Args:
        events: the tracker's events.
        rated: the rated bot utterance.

    Returns:
        The texts (a card's text fallback included), one per line.

    """
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    texts: list[str] = []
    for event in events:
        if isinstance(event, (ActionExecuted, UserUttered)):
            texts = []
        elif isinstance(event, BotUttered):
            if event.text:
                texts.append(event.text.strip())
            if event is rated:
                return "\n".join(t for t in texts if t)
    return rated.text or ""


# ---------------------------------------------------------------------------------------------
# 👎 reasons


@dataclass(frozen=True)
class FeedbackInput:
    """A validated ``POST /feedback`` body.

    Attributes:
        message_id: the rated bot message.
        rating: ``up`` or ``down``.
        reason: a reason code (👎 only), or None.
        comment: the citizen's optional words (👎 only, cleaned, at most 200 characters).

    """

    message_id: str
    rating: str
    reason: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class FeedbackOptions:
    """The chat pages' wording and the 👎 reasons (``GET /config``).

    Attributes:
        question: the question above the choices ("这条回答哪里不满意？").
        reasons: ``(code, title)`` of each choice, in order.
        comment_hint: placeholder of the optional text box.
        thanks: shown after the reason was sent.
        sample_notice: the "示例数据" banner of the chat page.
        map_link: the title of a location card's map link.
        session_expired: the widget's reply to a message with an invalid session.
        bad_request: the widget's reply to a message that is not a JSON object.

    """

    question: str
    reasons: tuple[tuple[str, str], ...]
    comment_hint: str
    thanks: str
    sample_notice: str
    map_link: str = "地图导航"
    session_expired: str = ""
    bad_request: str = ""

    def to_json(self) -> dict[str, Any]:
        """The ``GET /config`` shape."""
        return {
            "sample_notice": self.sample_notice,
            "map_link": self.map_link,
            "feedback": {
                "question": self.question,
                "reasons": [{"code": code, "title": title} for code, title in self.reasons],
                "comment_hint": self.comment_hint,
                "max_comment_chars": MAX_COMMENT_CHARS,
                "thanks": self.thanks,
            },
        }


def _text(responses: dict[str, Any], name: str) -> str:
    variants = responses.get(name) or [{}]
    first = variants[0] if isinstance(variants[0], dict) else {}
    return str(first.get("text") or "")


def load_feedback_options(
    wording: Path = WORDING_FILE, reasons_file: Path = REASONS_FILE
) -> FeedbackOptions:
    """Read the chat pages' wording (👎 question, sample-data notice …) and the 👎 reasons.

    Args:
        wording: the responses file (``data/responses/webchat.yml``).
        reasons_file: the reasons (``data/knowledge/feedback_reasons.yml``).

    Returns:
        The options.

    Raises:
        ValueError: when the question or the reasons are missing or a reason is malformed.

    """
    responses = (yaml.safe_load(wording.read_text(encoding="utf-8")) or {}).get("responses") or {}
    listed = (yaml.safe_load(reasons_file.read_text(encoding="utf-8")) or {}).get("reasons") or []
    reasons = tuple(
        (str(r.get("code", "")), str(r.get("title", ""))) for r in listed if isinstance(r, dict)
    )
    question = _text(responses, "utter_webchat_feedback_question")
    if not question or not reasons:
        raise ValueError(f"{wording} / {reasons_file}: the 👎 question and reasons are needed")
    for code, title in reasons:
        if not code.isidentifier() or len(code) > MAX_REASON_CHARS or not title:
            raise ValueError(f"{reasons_file}: bad feedback reason {code!r} / {title!r}")
    return FeedbackOptions(
        question=question,
        reasons=reasons,
        comment_hint=_text(responses, "utter_webchat_feedback_comment_hint"),
        thanks=_text(responses, "utter_webchat_feedback_thanks"),
        sample_notice=_text(responses, "utter_webchat_sample_notice"),
        map_link=_text(responses, "utter_webchat_map_link") or "地图导航",
        session_expired=_text(responses, "utter_webchat_session_expired"),
        bad_request=_text(responses, "utter_webchat_bad_request"),
    )


class InvalidFeedback(ValueError):
    """A ``POST /feedback`` body the server refuses (reported as a 400 JSON error).

    Args:
        code: machine-readable error code.
        message: the Chinese explanation shown to the user.

    """

    def __init__(self, code: str, message: str) -> None:
        """Create the error."""
        super().__init__(code)
        self.code = code
        self.message = message


def validate_feedback(
    data: dict[str, Any], options: FeedbackOptions, max_id_chars: int
) -> FeedbackInput:
    """Validate the body of ``POST /feedback``.

    Args:
        data: the decoded JSON object
            (``{"message_id", "rating", "reason"?, "comment"?}``).
        options: the configured reasons.
        max_id_chars: the longest accepted message id.

    Returns:
        The validated feedback; ``reason``/``comment`` are dropped for 👍.

    Raises:
        InvalidFeedback: for a bad rating, message id, reason code or comment.

    """
    from bot.channels.guard import clean_text

    message_id = data.get("message_id")
    rating = data.get("rating")
    if rating not in ("up", "down"):
        raise InvalidFeedback("invalid_rating", "评价只能是 up（有用）或 down（没用）。")
    if not isinstance(message_id, str) or not 0 < len(message_id) <= max_id_chars:
        raise InvalidFeedback("invalid_message_id", "缺少要评价的消息编号（message_id）。")
    if rating == "up":
        return FeedbackInput(message_id=message_id, rating="up")
    reason = data.get("reason")
    if reason is not None and reason not in {code for code, _ in options.reasons}:
        raise InvalidFeedback("invalid_reason", "请从列出的选项中选择原因。")
    comment = data.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise InvalidFeedback("invalid_comment", "补充说明必须是文字。")
    cleaned = clean_text(comment or "").strip()
    if len(cleaned) > MAX_COMMENT_CHARS:
        raise InvalidFeedback(
            "comment_too_long", f"补充说明太长了，请控制在{MAX_COMMENT_CHARS}字以内。"
        )
    return FeedbackInput(
        message_id=message_id, rating="down", reason=reason, comment=cleaned or None
    )
