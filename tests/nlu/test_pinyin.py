"""PinyinFeaturizer: homophone slips get the same pinyin features as the right characters."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge import knowledge_dir
from bot.nlu.pinyin import PinyinFeaturizer, grams, pinyin_table, syllables


@pytest.fixture(scope="module")
def table():
    return pinyin_table(str(knowledge_dir()))


def test_homophones_share_their_syllables(table):
    assert syllables("户口", table) == syllables("户叩", table) == ["hu", "kou"]
    assert syllables("身份证", table) == syllables("身分正", table)
    assert syllables("ab 12", table) == []
    assert grams(["hu", "kou"]) == ["hu", "kou", "hu_kou"]


def _messages(texts, tokenizer):
    messages = [Message(data={"text": t, "intent": "x"}) for t in texts]
    tokenizer.process(messages)
    return messages


def test_features_survive_persistence_and_ignore_homophone_slips(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("pinyin")
    context = ExecutionContext(graph_schema=None, model_id="test")
    tokenizer = JiebaTokenizer.create(
        JiebaTokenizer.get_default_config(), storage, resource, context
    )
    config = PinyinFeaturizer.get_default_config()
    featurizer = PinyinFeaturizer.create(config, storage, resource, context)
    featurizer.train(TrainingData(_messages(["户口迁入要什么材料", "身份证丢了"], tokenizer)))
    loaded = PinyinFeaturizer.load(config, storage, resource, context)
    assert loaded.vocabulary == featurizer.vocabulary and "hu_kou" in loaded.vocabulary

    right, slip = _messages(["户口迁入", "户叩迁入"], tokenizer)
    loaded.process([right, slip])
    seq_right, sent_right = right.get_sparse_features("text")
    seq_slip, sent_slip = slip.get_sparse_features("text")
    assert np.array_equal(sent_right.features.toarray(), sent_slip.features.toarray())
    assert sent_right.features.sum() > 0
    assert seq_right.features.shape[0] == len(right.get("text_tokens"))
