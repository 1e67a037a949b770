"""Pinyin features, so that a homophone slip looks like the right character.

Citizens type with pinyin input methods, so a wrong character is usually a homophone
(户叩 for 户口, 身分证 for 身份证). ``PinyinFeaturizer`` adds sparse features
over the toneless pinyin syllables of the text (syllable unigrams and bigrams), so a
homophone slip looks the same to the classifiers as the right character.

The pinyin comes from the shipped 《通用规范汉字表》 (``data/knowledge/
tongyong-guifan-hanzi-8105.tsv``, first reading of each character); characters outside it are
their own "syllable". The vocabulary is learnt from the training data and stored with the
model, so retraining on the same data gives the same features.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Type

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.components import process_each

TABLE = "tongyong-guifan-hanzi-8105.tsv"
VOCABULARY_FILE = "pinyin_vocabulary.json"


def _toneless(reading: str) -> str:
    folded = unicodedata.normalize("NFKD", reading.split(",")[0].strip())
    return "".join(c for c in folded if not unicodedata.combining(c)).replace("ü", "v")


@functools.lru_cache(maxsize=4)
def pinyin_table(knowledge_dir: str) -> Dict[str, str]:
    """Character -> toneless pinyin of its first reading, from the 8105 table."""
    table: Dict[str, str] = {}
    path = Path(knowledge_dir) / TABLE
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts[1]) == 1:
            table[parts[1]] = _toneless(parts[2])
    return table


def syllables(text: str, table: Dict[str, str]) -> List[str]:
    """The pinyin syllables of the Chinese characters in ``text`` (others are skipped)."""
    out = []
    for char in text:
        if unicodedata.name(char, "").startswith("CJK UNIFIED"):
            out.append(table.get(char, char))
    return out


def grams(units: List[str]) -> List[str]:
    """Syllable unigrams and bigrams."""
    return units + [f"{a}_{b}" for a, b in zip(units, units[1:], strict=False)]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class PinyinFeaturizer(SparseFeaturizer, GraphComponent):
    """Sparse sequence and sentence features over pinyin syllable unigrams and bigrams."""

    @classmethod
    def required_components(cls) -> List[Type]:
        """Needs the tokens (features are per token and per sentence)."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Default config: the knowledge directory (``None`` = ``data/knowledge``)."""
        return {**SparseFeaturizer.get_default_config(), "knowledge_dir": None}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Dict[str, int] | None = None,
    ) -> None:
        """Create the featurizer (with the vocabulary of a trained model, if any)."""
        super().__init__(self.__class__.__name__, config)
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary: Dict[str, int] = vocabulary or {}
        from bot.knowledge import knowledge_dir

        self._table = pinyin_table(str(config.get("knowledge_dir") or knowledge_dir()))

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PinyinFeaturizer:
        """Create an untrained featurizer."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> PinyinFeaturizer:
        """Load the trained vocabulary."""
        with model_storage.read_from(resource) as directory:
            vocabulary = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, vocabulary)

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        """Nothing to validate."""

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the vocabulary of syllable grams from the training texts."""
        seen = set()
        for example in training_data.training_examples:
            text = example.get(TEXT)
            if isinstance(text, str):
                seen.update(grams(syllables(text, self._table)))
        self.vocabulary = {gram: i for i, gram in enumerate(sorted(seen))}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def _row(self, text: str) -> np.ndarray:
        row = np.zeros(len(self.vocabulary))
        for gram in grams(syllables(text, self._table)):
            index = self.vocabulary.get(gram)
            if index is not None:
                row[index] += 1.0
        return row

    def process_message(self, message: Message) -> None:
        """Add the pinyin features of one message."""
        text = message.get(TEXT)
        tokens = message.get(TOKENS_NAMES[TEXT], [])
        if not isinstance(text, str) or not text or not tokens or not self.vocabulary:
            return
        sequence = np.stack([self._row(token.text) for token in tokens])
        sentence = self._row(text).reshape(1, -1)
        self.add_features_to_message(
            scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence), TEXT, message
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize every training example."""
        return process_each(self.process_message, training_data)

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurize incoming messages."""
        return process_each(self.process_message, messages)
