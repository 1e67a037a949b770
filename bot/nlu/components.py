"""Custom Rasa NLU components: input normalisation, a spaCy EntityRuler extractor, intent fixes.

All are registered with Rasa's default recipe and referenced from ``config.yml`` as
``bot.nlu.components.<Name>``: ``TextNormalizer``, ``DomainEntityExtractor``,
``BareAnswerClassifier`` and ``MoveDirectionClassifier``.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, Dict, List, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.evaluate import full_label
from bot.nlu.normalize import normalize_text
from bot.nlu.ruler import EntityRulerMatcher
from bot.numbers import iter_phones

logger = logging.getLogger(__name__)


class _Stateless(GraphComponent):
    """A component without configuration or trained state."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        """Create the component (it has no state)."""
        return cls()


Processed = TypeVar("Processed", TrainingData, List[Message])


def process_each(step: Callable[[Message], None], data: Processed) -> Processed:
    """Apply ``step`` to every training example or message, in place; return ``data``."""
    messages = data.training_examples if isinstance(data, TrainingData) else data
    for message in messages:
        step(message)
    return data


def _relabel(message: Message, name: str, confidence: float, replaces: tuple[str, ...]) -> None:
    """Set the message's intent to ``name`` and put it first in the ranking.

    Args:
        message: the message to relabel.
        name: the new intent.
        confidence: its confidence.
        replaces: intents dropped from the ranking (besides ``name`` itself).
    """
    intent = {"name": name, "confidence": confidence}
    dropped = {name, *replaces}
    ranking = [intent] + [
        r for r in (message.get("intent_ranking") or []) if r.get("name") not in dropped
    ]
    message.set("intent", intent, add_to_output=True)
    message.set("intent_ranking", ranking, add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextNormalizer(_Stateless):
    """Normalises message text before tokenisation (full-width, traditional, emoji, case).

    The normalisation is length-preserving (see :mod:`bot.nlu.normalize`), so entity offsets
    in training data stay valid. It runs on training data and on every incoming message.
    """

    def process_message(self, message: Message) -> None:
        """Normalise one message's text in place."""
        text = message.get(TEXT)
        if isinstance(text, str) and text:
            message.set(TEXT, normalize_text(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise the text of every training example."""
        return process_each(self.process_message, training_data)

    def process(self, messages: List[Message]) -> List[Message]:
        """Normalise the text of incoming messages."""
        return process_each(self.process_message, messages)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class DomainEntityExtractor(GraphComponent):
    """Extracts domain entities with a spaCy ``EntityRuler`` built from the knowledge files.

    A blank spaCy ``zh`` pipeline (character segmentation, so a pattern matches wherever it
    occurs, whatever jieba makes of the surrounding words) carries an ``EntityRuler`` whose
    patterns come from ``data/knowledge/`` (counties and aliases, move-in situations) and from
    the fixed vocabularies below (business types, service-point types, gender). Regular
    expressions add ``case_number`` and ``phone_number``.

    The ruler is authoritative: it replaces entities of the same type found by an earlier
    extractor on an overlapping span, and that extractor's entities elsewhere are kept (the
    pipeline has no trainable entity extractor today). Adding a county alias to the knowledge
    file takes effect on the next server start without retraining.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Default config: the knowledge directory (``None`` = ``data/knowledge``)."""
        return {"knowledge_dir": None}

    def __init__(self, config: Dict[str, Any]) -> None:
        """Build the spaCy pipeline from the knowledge files."""
        self._config = config
        self._matcher = EntityRulerMatcher.from_knowledge(config.get("knowledge_dir"))

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DomainEntityExtractor:
        """Create the extractor."""
        return cls(config)

    @staticmethod
    def required_packages() -> List[str]:
        """SpaCy and jieba are needed."""
        return ["spacy", "jieba"]

    def process(self, messages: List[Message]) -> List[Message]:
        """Add ruler entities to each message, replacing overlapping ones of the same type."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text:
                continue
            found = self._matcher.extract(text)
            if not found:
                continue
            existing: List[Dict[str, Any]] = list(message.get(ENTITIES, []) or [])
            kept = [e for e in existing if not _overlaps_any(e, found)]
            for entity in found:
                entity[EXTRACTOR] = self.__class__.__name__
            message.set(ENTITIES, kept + found, add_to_output=True)
        return messages


def _overlaps_any(entity: Dict[str, Any], others: List[Dict[str, Any]]) -> bool:
    start: int | None = entity.get(ENTITY_ATTRIBUTE_START)
    end: int | None = entity.get(ENTITY_ATTRIBUTE_END)
    if start is None or end is None:
        return False
    for other in others:
        same_type = other[ENTITY_ATTRIBUTE_TYPE] == entity.get(ENTITY_ATTRIBUTE_TYPE)
        overlaps = other[ENTITY_ATTRIBUTE_START] < end and start < other[ENTITY_ATTRIBUTE_END]
        if overlaps or (same_type and other[ENTITY_ATTRIBUTE_VALUE] == entity.get("value")):
            return True
    return False


# A message that is nothing but an answer to a form question: a date or time, a case number,
# four digits, a phone number, 男/女, or a county / situation / business the ruler recognised.
_FILLER = r"[\s,，。.!！?？~～:：、的是在呢吧啊呀哈嗯了我就那个这个去办]*"
_DATE_PART = (
    r"(?:今天|明天|后天|大后天|(?:这|下|下下|本)?个?(?:周|星期|礼拜)[一二三四五六日天1-7]|"
    r"\d{1,2}\s*[月./-]\s*\d{1,2}\s*[日号]?|\d{1,2}\s*[日号]|"
    r"上午|下午|中午|晚上|早上|[\d一二两三四五六七八九十]+\s*[点:：]\s*[半\d]*\s*分?)"
)
BARE_ANSWER_RE = re.compile(
    rf"^{_FILLER}(?:{_DATE_PART}{_FILLER})+$|^{_FILLER}(?:\d{{4}}|sl\s?\d{{12}}(?:[\s,，、]*\d{{4}})?)"
    rf"{_FILLER}$",
    re.IGNORECASE,
)
BARE_ENTITY_TYPES = {"county", "move_in_situation", "gender", "case_number", "phone_number"}


def is_bare_answer(text: str, entities: List[Dict[str, Any]]) -> bool:
    """Whether ``text`` only carries a form answer (nothing a topic classifier should judge).

    Args:
        text: normalised message text.
        entities: entities found in it.

    Returns:
        True for e.g. ``三河市``, ``在固安``, ``下周三上午``, ``5678``, ``SL202611050123``.
    """
    stripped = text.strip()
    if not stripped or len(stripped) > 24:
        return False
    if BARE_ANSWER_RE.match(stripped):
        return True
    spans = [
        (e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END])
        for e in entities
        if e.get(ENTITY_ATTRIBUTE_TYPE) in BARE_ENTITY_TYPES and ENTITY_ATTRIBUTE_START in e
    ] + [(phone.start, phone.end) for phone in iter_phones(text)]
    if not spans:
        return False
    rest = "".join(
        ch for i, ch in enumerate(text) if not any(start <= i < end for start, end in spans)
    )
    return re.fullmatch(_FILLER + r"(?:县|区|市|那边|这边|那儿|户口)?" + _FILLER, rest) is not None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class BareAnswerClassifier(_Stateless):
    """Labels bare form answers (``三河市``, ``下周三上午``, ``5678``) as ``inform``.

    Runs after the FallbackClassifier: a two-character county name carries too little text
    for the intent classifier to be confident, but it is unambiguous as an answer to the
    question just asked.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        """Override the intent of bare answers with ``inform`` (confidence 1.0)."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith("/"):
                continue
            if is_bare_answer(text, message.get(ENTITIES, []) or []):
                _relabel(message, "inform", 1.0, replaces=())
        return messages


# "迁到香河", "落户到燕郊", "迁回廊坊": a Langfang place right after a direction word.
_TOWARDS = re.compile(r"(?:到|往|去|进|入|回|来|落户|落在|落到)\s*$")
_LANGFANG_DESTINATION = re.compile(
    r"(?:迁|转|落户?|挪|搬)[^，。,.;；?？!！]{0,6}?(?:到|往|去|进|入|回|来)\s*廊坊"
)
MOVE_OUT_KEY = "faq/move_out"


def names_langfang_destination(text: str, entities: List[Dict[str, Any]]) -> bool:
    """Whether the hukou is moved *into* Langfang (``户口从北京迁到香河``, ``迁回廊坊``).

    Args:
        text: normalised message text.
        entities: entities found in it (the ruler's ``county`` entities are Langfang units).

    Returns:
        True if a Langfang county (or 廊坊 itself) follows a direction word.
    """
    if _LANGFANG_DESTINATION.search(text):
        return True
    for entity in entities:
        if entity.get(ENTITY_ATTRIBUTE_TYPE) != "county" or ENTITY_ATTRIBUTE_START not in entity:
            continue
        if _TOWARDS.search(text[: entity[ENTITY_ATTRIBUTE_START]][-4:]):
            return True
    return False


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class MoveDirectionClassifier(_Stateless):
    """Turns a "move out" answer into ``ask_move_in`` when the destination is in Langfang.

    The intent classifier sees bags of character n-grams, not word order, so
    "户口从北京迁到香河" and "户口从香河迁到北京" look alike to it. The direction is plain
    from the text: a Langfang county (or 廊坊) after 到 / 往 / 回 … is a move *in*, which the
    move-in form handles.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        """Relabel move-out predictions whose destination is a Langfang unit."""
        for message in messages:
            text = message.get(TEXT)
            intent = message.get("intent") or {}
            if not isinstance(text, str) or intent.get("name") != "faq":
                continue
            parse = {"intent": intent, "response_selector": message.get("response_selector")}
            label, confidence = full_label(parse)
            if label != MOVE_OUT_KEY:
                continue
            if names_langfang_destination(text, message.get(ENTITIES, []) or []):
                _relabel(message, "ask_move_in", confidence, replaces=("faq",))
        return messages
