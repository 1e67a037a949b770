"""``LinearIntentClassifier``: one linear model for intents and retrieval answers.

Replaces DIETClassifier + ResponseSelector. It is trained on the *full* labels
(``faq/birth_registration``, ``greet``, ``out_of_scope/fraud`` …) of the training examples,
over the text after :class:`bot.nlu.components.TextNormalizer`, with the features and
classifier of :class:`bot.nlu.linear_model.LinearTextModel` (character n-gram TF-IDF +
pinyin syllable TF-IDF, LinearSVC with a softmax temperature fitted by cross-validation).

Its output has the shape the rest of Rasa and this project read:

- ``intent``: the best top-level intent of ``intent_ranking``;
- ``intent_ranking``: one entry per top-level intent (``faq``, ``greet`` …), best first, at
  most 10 — what FallbackClassifier's thresholds look at. Its confidence is its best full
  label's probability, except for the ``summed_intents`` (``out_of_scope``): there it is the
  sum over its full labels, since every ``out_of_scope/*`` answer sends the citizen elsewhere
  (0.2 traffic + 0.2 other is a 0.4 "not ours", not a 0.2 one);
- ``response_selector``: ``all_retrieval_intents`` and, for each retrieval intent, exactly
  ResponseSelector's ``{"response": {"responses", "confidence", "intent_response_key",
  "utter_action"}, "ranking": [{"confidence", "intent_response_key"} …]}``, the confidences
  being the probabilities within that retrieval intent. ActionRetrieveResponse reads
  ``response_selector[<retrieval intent>]["response"]["utter_action"]``.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_model import ANALYZERS, CLASSIFIERS, LinearTextModel

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_model.pkl"
META_FILE = "linear_meta.json"
RANKING_LENGTH = 10

#: A full label (``faq/id_card_fees``) and its probability.
Scored = Tuple[str, float]


def top_level(label: str) -> str:
    """``faq/id_card_fees`` -> ``faq``; ``greet`` -> ``greet``."""
    return label.split("/", 1)[0]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Intent classifier and response selector in one: a linear model over the full labels."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Default config (the values config.yml uses, chosen on the dev set).

        Returns:
            ``char_analyzer`` (``char_wb`` or ``char``), ``ngram`` ([min, max] characters),
            ``pinyin_features`` (bool), ``classifier`` (``svm`` or ``logreg``), ``C``,
            ``class_weight`` (``balanced`` or ``None``), ``random_seed`` (int),
            ``min_known_ngrams`` (when a smaller share of a message's n-grams was seen in
            training, its confidences are multiplied by that share; 0 turns this off),
            ``unknown_text_label`` and ``unknown_text_min_chars`` (such a message of at least
            that many characters gets the rest of the probability on this label, the "not
            ours" answer; shorter ones, like a typed name, keep low confidences and get the
            clarifying question; ``None`` turns this off), ``summed_intents`` (top-level
            intents whose confidence is the sum over their full labels) and
            ``knowledge_dir`` (the pinyin table's folder; ``None`` = ``data/knowledge``).
        """
        return {
            "char_analyzer": "char_wb",
            "ngram": [1, 3],
            "pinyin_features": True,
            "classifier": "svm",
            "C": 1.0,
            "class_weight": "balanced",
            "random_seed": 2026,
            "min_known_ngrams": 0.25,
            "unknown_text_label": "out_of_scope/other",
            "unknown_text_min_chars": 6,
            "summed_intents": ["out_of_scope"],
            "knowledge_dir": None,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LinearTextModel | None = None,
        responses: Dict[str, List[Dict[str, Any]]] | None = None,
        retrieval_intents: List[str] | None = None,
    ) -> None:
        """Create the classifier (with the fitted model and responses, once trained)."""
        self.validate_config(config)
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.responses: Dict[str, List[Dict[str, Any]]] = responses or {}
        self.retrieval_intents: List[str] = retrieval_intents or []

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        """Raise ``ValueError`` on a bad setting.

        Args:
            config: the component's config (defaults merged in).
        """
        if config.get("char_analyzer") not in ANALYZERS:
            raise ValueError(f"char_analyzer must be one of {ANALYZERS}")
        if config.get("classifier") not in CLASSIFIERS:
            raise ValueError(f"classifier must be one of {CLASSIFIERS}")
        ngram = config.get("ngram")
        if (
            not isinstance(ngram, (list, tuple))
            or len(ngram) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in ngram)
            or not 1 <= ngram[0] <= ngram[1]
        ):
            raise ValueError(f"ngram must be [min, max] with 1 <= min <= max, not {ngram!r}")
        if not isinstance(config.get("pinyin_features"), bool):
            raise ValueError("pinyin_features must be true or false")
        c = config.get("C")
        if isinstance(c, bool) or not isinstance(c, (int, float)) or c <= 0:
            raise ValueError(f"C must be a positive number, not {c!r}")
        if config.get("class_weight") not in ("balanced", None):
            raise ValueError("class_weight must be 'balanced' or null")
        known = config.get("min_known_ngrams")
        if isinstance(known, bool) or not isinstance(known, (int, float)) or not 0 <= known <= 1:
            raise ValueError(f"min_known_ngrams must be a number in [0, 1], not {known!r}")
        label = config.get("unknown_text_label")
        if label is not None and not isinstance(label, str):
            raise ValueError(f"unknown_text_label must be a label or null, not {label!r}")
        chars = config.get("unknown_text_min_chars")
        if isinstance(chars, bool) or not isinstance(chars, int) or chars < 1:
            raise ValueError(f"unknown_text_min_chars must be a positive integer, not {chars!r}")
        summed = config.get("summed_intents")
        if not isinstance(summed, list) or not all(isinstance(i, str) for i in summed):
            raise ValueError(f"summed_intents must be a list of intent names, not {summed!r}")
        seed = config.get("random_seed")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"random_seed must be an integer, not {seed!r}")

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        """Create an untrained classifier."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """Load the fitted model, the responses and the retrieval intents."""
        try:
            with model_storage.read_from(resource) as directory:
                model = LinearTextModel.load(directory / MODEL_FILE)
                meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        except ValueError:  # nothing was persisted (no training data)
            logger.warning("LinearIntentClassifier: no trained model, it predicts nothing")
            return cls(config, model_storage, resource)
        return cls(
            config,
            model_storage,
            resource,
            model,
            meta["responses"],
            meta["retrieval_intents"],
        )

    def _new_model(self) -> LinearTextModel:
        table = None
        if self._config["pinyin_features"]:
            from bot.knowledge import knowledge_dir
            from bot.nlu.pinyin import pinyin_table

            table = pinyin_table(str(self._config.get("knowledge_dir") or knowledge_dir()))
        low, high = self._config["ngram"]
        return LinearTextModel(
            analyzer=self._config["char_analyzer"],
            ngram=(int(low), int(high)),
            pinyin_table=table,
            classifier=self._config["classifier"],
            C=float(self._config["C"]),
            class_weight=self._config["class_weight"],
            random_seed=int(self._config["random_seed"]),
        )

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the model on the full labels of the training examples and persist it.

        Args:
            training_data: NLU training data (texts already normalised).

        Returns:
            The resource the model was written to.
        """
        texts, labels = [], []
        for example in training_data.intent_examples:
            text = example.get(TEXT)
            label = example.get(INTENT_RESPONSE_KEY) or example.get(INTENT)
            if isinstance(text, str) and text.strip() and label:
                texts.append(text)
                labels.append(str(label))
        if len(set(labels)) < 2:
            logger.warning("LinearIntentClassifier: fewer than two labels, nothing trained")
            return self._resource
        self.model = self._new_model().fit(texts, labels)
        self.retrieval_intents = sorted(training_data.retrieval_intents)
        wanted = {f"utter_{label}" for label in labels if "/" in label}
        self.responses = {
            key: list(value) for key, value in training_data.responses.items() if key in wanted
        }
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory / MODEL_FILE)
            meta = {"responses": self.responses, "retrieval_intents": self.retrieval_intents}
            (directory / META_FILE).write_text(
                json.dumps(meta, ensure_ascii=False, sort_keys=True), encoding="utf-8"
            )
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        """Set ``intent``, ``intent_ranking`` and ``response_selector`` on each message."""
        if self.model is None:
            return messages
        with_text = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        if with_text:
            texts = [m.get(TEXT) for m in with_text]
            probabilities = self.model.predict_proba(texts)
            known = self.model.known_fraction(texts)
            damped = known < float(self._config["min_known_ngrams"])
            probabilities[damped] *= np.maximum(known[damped, None], 0.01)  # keep the order
            unknown = self._unknown_column()
            if unknown is not None:
                long_enough = np.asarray(
                    [len(t.strip()) >= int(self._config["unknown_text_min_chars"]) for t in texts]
                )
                moved = damped & long_enough
                probabilities[moved, unknown] += 1.0 - probabilities[moved].sum(axis=1)
            for message, row in zip(with_text, probabilities, strict=True):
                self._set_outputs(message, self._scored(row))
        for message in messages:
            if INTENT not in message.data:  # no text: nothing to classify
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set("intent_ranking", [], add_to_output=True)
        return messages

    def _unknown_column(self) -> int | None:
        """The column of ``unknown_text_label`` (None when it is off or not a trained label)."""
        assert self.model is not None
        label = self._config.get("unknown_text_label")
        if label is None or label not in self.model.classes_:
            return None
        return self.model.classes_.index(label)

    def _scored(self, probabilities: np.ndarray) -> List[Scored]:
        assert self.model is not None
        order = np.argsort(-probabilities, kind="stable")
        return [(self.model.classes_[j], float(probabilities[j])) for j in order]

    def _set_outputs(self, message: Message, scored: List[Scored]) -> None:
        ranking = intent_ranking(scored, self._config["summed_intents"])
        message.set(INTENT, dict(ranking[0]), add_to_output=True)
        message.set("intent_ranking", ranking, add_to_output=True)
        selector: Dict[str, Any] = dict(message.get("response_selector") or {})
        selector["all_retrieval_intents"] = list(self.retrieval_intents)
        for retrieval_intent in self.retrieval_intents:
            selected = self.selector_output(retrieval_intent, scored)
            if selected is not None:
                selector[retrieval_intent] = selected
        message.set("response_selector", selector, add_to_output=True)

    def selector_output(self, retrieval_intent: str, scored: List[Scored]) -> Dict[str, Any] | None:
        """ResponseSelector's output for one retrieval intent.

        Args:
            retrieval_intent: e.g. ``faq``.
            scored: every full label with its probability, best first.

        Returns:
            ``{"response": {...}, "ranking": [...]}`` with probabilities renormalised within
            the retrieval intent; ``None`` if the model has no label of it.
        """
        mine = [(label, p) for label, p in scored if top_level(label) == retrieval_intent]
        if not any("/" in label for label, _ in mine):
            return None
        total = sum(p for _, p in mine) or 1.0
        ranking = [
            {"confidence": p / total, "intent_response_key": label}
            for label, p in mine[:RANKING_LENGTH]
        ]
        key = str(ranking[0]["intent_response_key"])
        utter_action = f"utter_{key}"
        responses = self.responses.get(utter_action) or [{TEXT: key}]
        return {
            "response": {
                "responses": responses,
                "confidence": ranking[0]["confidence"],
                "intent_response_key": key,
                "utter_action": utter_action,
            },
            "ranking": ranking,
        }


def intent_ranking(scored: List[Scored], summed: List[str] | None = None) -> List[Dict[str, Any]]:
    """One entry per top-level intent (its best full label's probability), best first.

    Args:
        scored: every full label with its probability, best first.
        summed: top-level intents whose confidence is the sum over their full labels.

    Returns:
        At most :data:`RANKING_LENGTH` ``{"name", "confidence"}`` entries.
    """
    best: Dict[str, float] = {}
    for label, p in scored:
        name = top_level(label)
        if summed and name in summed:
            best[name] = min(1.0, best.get(name, 0.0) + p)
        else:
            best.setdefault(name, p)
    ranked = sorted(best.items(), key=lambda item: -item[1])[:RANKING_LENGTH]
    return [{"name": name, "confidence": p} for name, p in ranked]
