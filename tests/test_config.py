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
        "bot.nlu.linear.LinearIntentClassifier",
        "bot.nlu.components.DomainEntityExtractor",
        "FallbackClassifier",
        "bot.nlu.components.BareAnswerClassifier",
    ]
    positions = [NAMES.index(name) for name in order]
    assert positions == sorted(positions)
    jieba = CONFIG["pipeline"][NAMES.index("JiebaTokenizer")]
    assert (ROOT / jieba["dictionary_path"]).is_dir()


def _classifier() -> dict:
    return CONFIG["pipeline"][NAMES.index("bot.nlu.linear.LinearIntentClassifier")]


def test_char_ngram_features() -> None:
    classifier = _classifier()
    assert classifier["char_analyzer"] in ("char", "char_wb")
    low, high = classifier["ngram"]
    assert low == 1 and high >= 2


def test_no_neural_nlu_left() -> None:
    for name in ("DIETClassifier", "ResponseSelector", "bot.nlu.pinyin.PinyinFeaturizer"):
        assert name not in NAMES


def test_every_trained_model_has_a_fixed_seed() -> None:
    trainable = (
        "bot.nlu.linear.LinearIntentClassifier",
        "DIETClassifier",
        "ResponseSelector",
        "TEDPolicy",
        "UnexpecTEDIntentPolicy",
    )
    parts = CONFIG["pipeline"] + CONFIG["policies"]
    seeded = [c for c in parts if c["name"] in trainable]
    assert seeded, "no trainable component found"
    assert all(isinstance(c.get("random_seed"), int) for c in seeded), seeded


def test_fallbacks_are_configured() -> None:
    fallback = CONFIG["pipeline"][NAMES.index("FallbackClassifier")]
    assert 0.3 <= fallback["threshold"] <= 0.8
    rule = next(p for p in CONFIG["policies"] if p["name"] == "RulePolicy")
    assert rule["core_fallback_action_name"] == "action_default_fallback"


def test_pinyin_features_are_on() -> None:
    assert _classifier()["pinyin_features"] is True
