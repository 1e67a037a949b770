"""LinearIntentClassifier: a small model trained in the test, its output shape and persistence."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.guidance import ActionClarify
from bot.nlu.evaluate import full_label
from bot.nlu.linear import LinearIntentClassifier
from bot.nlu.linear_model import without_numbers

EXAMPLES = {
    "greet": ["你好", "您好", "在吗", "早上好", "哈喽", "下午好", "你好呀"],
    "goodbye": ["再见", "拜拜", "先这样吧再见", "没事了拜拜", "好的再见", "回头见", "下次再聊"],
    "faq/id_card_fees": [
        "办身份证多少钱",
        "身份证工本费是多少",
        "换身份证要交费吗",
        "补办身份证收费吗",
        "身份证费用",
        "身份证要花多少钱",
        "办理身份证收多少钱",
    ],
    "faq/move_out": [
        "户口迁出怎么办",
        "我想把户口迁走",
        "户口迁出需要什么材料",
        "户口迁到外地怎么办理",
        "户口怎么迁出去",
        "迁出户口要带什么",
        "户口迁移出去的手续",
    ],
    "out_of_scope/fraud": [
        "我被骗了怎么办",
        "遇到电信诈骗",
        "网上被人骗钱了",
        "有人冒充客服骗我",
        "被诈骗了去哪报案",
        "刷单被骗了",
        "接到诈骗电话",
    ],
}
RESPONSES = {
    "utter_faq/id_card_fees": [{"text": "身份证工本费20元。"}],
    "utter_faq/move_out": [{"text": "户口迁出请带户口簿。"}],
    "utter_out_of_scope/fraud": [{"text": "被骗请拨打110。"}],
}


def _training_data() -> TrainingData:
    messages = []
    for label, texts in EXAMPLES.items():
        intent = label.split("/")[0]
        for text in texts:
            data = {"text": text, "intent": intent}
            if "/" in label:
                data["intent_response_key"] = label
            messages.append(Message(data=data))
    return TrainingData(messages, responses=RESPONSES)


def _train(tmp_path, name: str = "linear", **config) -> tuple[LinearIntentClassifier, dict]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(tmp_path)
    resource = Resource(name)
    context = ExecutionContext(graph_schema=None, model_id="test")
    config = {**LinearIntentClassifier.get_default_config(), **config}
    classifier = LinearIntentClassifier.create(config, storage, resource, context)
    classifier.train(_training_data())
    parts = {"config": config, "storage": storage, "resource": resource, "context": context}
    return classifier, parts


def _parse(classifier: LinearIntentClassifier, text: str) -> dict:
    message = Message(data={"text": text})
    classifier.process([message])
    return message.as_dict_nlu()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("linear"))


def test_same_predictions_after_save_and_load(trained):
    classifier, parts = trained
    loaded = LinearIntentClassifier.load(
        parts["config"], parts["storage"], parts["resource"], parts["context"]
    )
    for text in ("你好", "身份证多少钱", "户口迁出", "被骗了", "今天天气"):
        assert _parse(loaded, text) == _parse(classifier, text)


def test_deterministic_with_the_seed(tmp_path):
    first, _ = _train(tmp_path / "a")
    second, _ = _train(tmp_path / "b")
    assert _parse(first, "户口迁走要什么") == _parse(second, "户口迁走要什么")


def test_full_labels_read_from_the_response_selector(trained):
    classifier, _ = trained
    for text, expected in (
        ("办身份证要多少钱", "faq/id_card_fees"),
        ("户口迁出去要什么材料", "faq/move_out"),
        ("被人骗了", "out_of_scope/fraud"),
        ("您好", "greet"),
    ):
        assert full_label(_parse(classifier, text))[0] == expected


def test_output_has_response_selector_shape(trained):
    classifier, _ = trained
    parse = _parse(classifier, "身份证工本费多少")
    assert parse["intent"]["name"] == "faq"
    selectors = parse["response_selector"]
    assert selectors["all_retrieval_intents"] == ["faq", "out_of_scope"]
    response = selectors["faq"]["response"]
    assert response["intent_response_key"] == "faq/id_card_fees"
    assert response["utter_action"] == "utter_faq/id_card_fees"
    assert response["responses"] == RESPONSES["utter_faq/id_card_fees"]
    assert selectors["out_of_scope"]["response"]["utter_action"] == "utter_out_of_scope/fraud"
    keys = [r["intent_response_key"] for r in selectors["faq"]["ranking"]]
    assert keys == ["faq/id_card_fees", "faq/move_out"]
    assert ActionClarify.candidate_keys(parse)[0] == "faq/id_card_fees"


def test_rankings_sorted_and_confidences_in_range(trained):
    classifier, _ = trained
    for text in ("你好", "身份证多少钱", "户口迁出", "被骗了", "今天天气怎么样"):
        parse = _parse(classifier, text)
        ranking = parse["intent_ranking"]
        names = [r["name"] for r in ranking]
        assert len(names) == len(set(names)) == 4  # one entry per top-level intent
        assert names[0] == parse["intent"]["name"]
        assert ranking[0]["confidence"] == parse["intent"]["confidence"]
        confidences = [r["confidence"] for r in ranking]
        assert confidences == sorted(confidences, reverse=True)
        for selector in ("faq", "out_of_scope"):
            ranked = parse["response_selector"][selector]["ranking"]
            inner = [r["confidence"] for r in ranked]
            assert inner == sorted(inner, reverse=True)
            assert sum(inner) == pytest.approx(1.0)
            confidences += inner
        assert all(0.0 <= c <= 1.0 for c in confidences)


@pytest.mark.parametrize(
    ("slip", "expected"),
    [("炸片", "out_of_scope/fraud"), ("千处", "faq/move_out"), ("败败", "goodbye")],
)
def test_homophone_slip_classified_thanks_to_pinyin(tmp_path, slip, expected):
    """诈骗, 迁出, 拜拜 typed with a pinyin keyboard: no character in common with the data."""
    with_pinyin, _ = _train(tmp_path / "p")
    without, _ = _train(tmp_path / "n", pinyin_features=False)
    assert full_label(_parse(with_pinyin, slip))[0] == expected
    assert full_label(_parse(without, slip))[0] != expected


def test_empty_text_gets_no_intent(trained):
    classifier, _ = trained
    parse = _parse(classifier, " ")
    assert parse["intent"] == {"name": None, "confidence": 0.0}


@pytest.mark.parametrize(
    "bad",
    [
        {"ngram": [2, 1]},
        {"ngram": 3},
        {"char_analyzer": "word"},
        {"C": 0},
        {"class_weight": "auto"},
        {"random_seed": None},
        {"pinyin_features": "yes"},
        {"classifier": "forest"},
    ],
)
def test_bad_config_rejected(bad):
    with pytest.raises(ValueError):
        LinearIntentClassifier.validate_config(
            {**LinearIntentClassifier.get_default_config(), **bad}
        )


def test_text_made_of_unseen_ngrams_gets_a_low_confidence(tmp_path) -> None:
    classifier, _ = _train(tmp_path)
    gibberish = _parse(classifier, "阿巴阿巴阿巴")
    assert gibberish["intent"]["confidence"] < 0.2
    assert all(r["confidence"] < 0.2 for r in gibberish["intent_ranking"])
    known = _parse(classifier, "办身份证要多少钱")
    assert known["intent"]["confidence"] > 0.5


def test_long_unseen_text_gets_the_not_ours_answer_and_short_keeps_the_question(
    tmp_path,
) -> None:
    # With out_of_scope/fraud as the "not ours" label (this small model has no /other).
    classifier, _ = _train(tmp_path, unknown_text_label="out_of_scope/fraud")
    far_away = _parse(classifier, "量子纠缠的原理是什么呢")
    assert full_label(far_away) == (
        "out_of_scope/fraud",
        pytest.approx(far_away["intent"]["confidence"]),
    )
    assert far_away["intent"]["confidence"] > 0.75
    short = _parse(classifier, "阿巴阿巴")  # under 6 characters: a name, a short reply
    assert short["intent"]["confidence"] < 0.2
    assert _parse(classifier, "办身份证要多少钱")["intent"]["name"] == "faq"
    off, _ = _train(tmp_path / "off", unknown_text_label=None)
    assert _parse(off, "量子纠缠的原理是什么呢")["intent"]["confidence"] < 0.2


@pytest.mark.parametrize("text", ["？", "……", "!!!"])
def test_text_without_any_feature_gets_no_confident_answer(tmp_path, text: str) -> None:
    # Punctuation is no feature: the linear scores would only be the intercepts.
    classifier, _ = _train(tmp_path)
    parsed = _parse(classifier, text)
    assert parsed["intent"]["confidence"] == pytest.approx(1 / len(EXAMPLES))


def test_out_of_scope_confidence_is_summed_over_its_answers(tmp_path) -> None:
    classifier, _ = _train(tmp_path)
    parsed = _parse(classifier, "网上被人骗钱了")
    ranking = {r["name"]: r["confidence"] for r in parsed["intent_ranking"]}
    ranked = parsed["response_selector"]["out_of_scope"]["ranking"]
    assert len(ranked) == 1  # one out_of_scope label in this model: sum == best
    assert ranking["out_of_scope"] == pytest.approx(max(parsed_p for parsed_p in ranking.values()))
    from bot.nlu.linear import intent_ranking

    scored = [("faq/a", 0.3), ("out_of_scope/x", 0.25), ("out_of_scope/y", 0.25), ("greet", 0.2)]
    summed = intent_ranking(scored, ["out_of_scope"])
    assert summed[0] == {"name": "out_of_scope", "confidence": 0.5}
    assert intent_ranking(scored)[0] == {"name": "faq", "confidence": 0.3}


def test_unseen_ngram_damping_can_be_turned_off(tmp_path) -> None:
    classifier, _ = _train(tmp_path, min_known_ngrams=0.0)
    damped, _ = _train(tmp_path / "damped")
    assert (
        _parse(classifier, "阿巴阿巴阿巴")["intent"]["confidence"]
        > (_parse(damped, "阿巴阿巴阿巴")["intent"]["confidence"])
    )
    with pytest.raises(ValueError):
        LinearIntentClassifier.validate_config(
            {**LinearIntentClassifier.get_default_config(), "min_known_ngrams": 2}
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的身份证 1101 0519 9001 0100 2x 丢了", "我的身份证丢了"),
        ("电话 一三九 五七二四 六八零五 预约", "电话预约"),
        ("查sl202611050123进度", "查sl#进度"),
        ("身份证 丢了 怎么办", "身份证丢了怎么办"),
        ("hello, how do i get an id card?", "hello  how do i get an id card "),
        ("Hello 身份证", "hello 身份证"),
        ("三河？", "三河 "),  # a question mark does not change the answer
        ("身份证，丢了。", "身份证 丢了 "),
    ],
)
def test_numbers_spaces_and_punctuation_are_not_features(text, expected):
    assert without_numbers(text) == expected


def test_a_question_typed_in_pinyin_is_understood(tmp_path) -> None:
    """Latin pinyin shares the syllable features of the characters and counts as known text."""
    classifier, _ = _train(tmp_path)
    parsed = _parse(classifier, "shenfenzheng duoshao qian")
    assert full_label(parsed)[0] == "faq/id_card_fees"
    assert parsed["intent"]["confidence"] > 0.4
    assert full_label(_parse(classifier, "hukou qianchu zenme ban"))[0] == "faq/move_out"
