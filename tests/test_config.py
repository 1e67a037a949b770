"""config.yml: Chinese pipeline, the parts the product relies on, and fixed random seeds."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
NAMES = [c["name"] for c in CONFIG["pipeline"]]


def test_chinese_pipeline_in_order() -> None:
    assert CONFIG["language"] == "zh"
    order = [
        "bot.nlu.components.TextNormalizer",
        "JiebaTokenizer",
        "CountVectorsFeaturizer",
        "DIETClassifier",
        "bot.nlu.components.DomainEntityExtractor",
        "ResponseSelector",
        "FallbackClassifier",
        "bot.nlu.components.BareAnswerClassifier",
    ]
    positions = [NAMES.index(name) for name in order]
    assert positions == sorted(positions)
    jieba = CONFIG["pipeline"][NAMES.index("JiebaTokenizer")]
    assert (ROOT / jieba["dictionary_path"]).is_dir()


def test_word_and_char_ngram_features() -> None:
    vectorizers = [c for c in CONFIG["pipeline"] if c["name"] == "CountVectorsFeaturizer"]
    assert any(c.get("analyzer", "word") == "word" for c in vectorizers)
    chars = [c for c in vectorizers if c.get("analyzer") in ("char", "char_wb")]
    assert chars and chars[0]["min_ngram"] == 1 and chars[0]["max_ngram"] >= 2


def test_every_trained_model_has_a_fixed_seed() -> None:
    trainable = ("DIETClassifier", "ResponseSelector", "TEDPolicy", "UnexpecTEDIntentPolicy")
    parts = CONFIG["pipeline"] + CONFIG["policies"]
    seeded = [c for c in parts if c["name"] in trainable]
    assert seeded, "no trainable component found"
    assert all(isinstance(c.get("random_seed"), int) for c in seeded), seeded


def test_fallbacks_are_configured() -> None:
    fallback = CONFIG["pipeline"][NAMES.index("FallbackClassifier")]
    assert 0.3 <= fallback["threshold"] <= 0.8
    rule = next(p for p in CONFIG["policies"] if p["name"] == "RulePolicy")
    assert rule["core_fallback_action_name"] == "action_default_fallback"


def test_pinyin_features_follow_the_tokenizer() -> None:
    names = [c["name"] for c in CONFIG["pipeline"]]
    assert "bot.nlu.pinyin.PinyinFeaturizer" in names
    assert names.index("JiebaTokenizer") < names.index("bot.nlu.pinyin.PinyinFeaturizer")
    assert names.index("bot.nlu.pinyin.PinyinFeaturizer") < names.index("DIETClassifier")
