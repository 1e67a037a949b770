"""The custom Rasa NLU components in bot/nlu/components.py, on real Rasa messages."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.components import (
    BareAnswerClassifier,
    DomainEntityExtractor,
    MoveDirectionClassifier,
    TextNormalizer,
    is_bare_answer,
)


@pytest.mark.parametrize(
    "text",
    ["5678", "sl202611050123", "sl202611050123 5678", "13812345678", "下周三上午", "明天下午三点"],
)
def test_form_answers_without_entities_are_bare(text):
    assert is_bare_answer(text, [])


@pytest.mark.parametrize(
    "text",
    ["身份证丢了怎么办", "sl202611050123 12345", "", "我想预约下周三上午去办身份证" * 2, "在吗"],
)
def test_questions_are_not_bare(text):
    assert not is_bare_answer(text, [])


def test_a_county_alone_is_bare_but_not_a_question_about_it():
    county = [{"entity": "county", "value": "固安县", "start": 1, "end": 3}]
    assert is_bare_answer("在固安", county)
    county_q = [{"entity": "county", "value": "固安县", "start": 0, "end": 2}]
    assert not is_bare_answer("固安户籍窗口在哪", county_q)


def _message(text, intent="nlu_fallback", confidence=0.4):
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    return message


def test_bare_answer_classifier_relabels_only_bare_answers():
    classifier = BareAnswerClassifier()
    bare, question, payload = (
        _message("5678"),
        _message("身份证丢了怎么办", "faq", 0.9),
        _message('/inform{"county":"固安县"}', "inform", 1.0),
    )
    classifier.process([bare, question, payload])
    assert bare.get("intent") == {"name": "inform", "confidence": 1.0}
    assert bare.get("intent_ranking")[0]["name"] == "inform"
    assert question.get("intent")["name"] == "faq"
    assert payload.get("intent")["confidence"] == 1.0


def test_normalizer_then_extractor_find_canonical_entities():
    message = Message(data={"text": "我在開發區買的房，ＳＬ２０２６１１０５０１２３"})
    TextNormalizer().process([message])
    assert message.get("text") == "我在开发区买的房,sl202611050123"
    DomainEntityExtractor({"knowledge_dir": None}).process([message])
    found = {(e["entity"], e["value"]) for e in message.get("entities")}
    assert ("county", "廊坊经济技术开发区") in found
    assert ("move_in_situation", "housing") in found
    assert ("case_number", "SL202611050123") in found
    assert all(e["extractor"] == "DomainEntityExtractor" for e in message.get("entities"))


def test_extractor_replaces_an_overlapping_entity_of_the_same_type():
    message = Message(data={"text": "固安县户籍窗口"})
    message.set("entities", [{"entity": "county", "value": "固安", "start": 0, "end": 2}])
    DomainEntityExtractor({"knowledge_dir": None}).process([message])
    counties = [e for e in message.get("entities") if e["entity"] == "county"]
    assert [(e["value"], e["start"], e["end"]) for e in counties] == [("固安县", 0, 3)]


def _selector(key: str) -> dict:
    """Rasa 3.6 ResponseSelector's output (one selector, under "default"); full_label also
    reads LinearIntentClassifier's, under the retrieval intent (tests/nlu/test_linear.py)."""
    ranking = [
        {"intent_response_key": key, "confidence": 0.7},
        {"intent_response_key": "out_of_scope/other", "confidence": 0.1},
    ]
    return {
        "all_retrieval_intents": ["faq", "out_of_scope"],
        "default": {"response": {"intent_response_key": key}, "ranking": ranking},
    }


def _move_out_message(text: str, key: str = "faq/move_out") -> Message:
    message = Message(data={"text": text})
    DomainEntityExtractor({"knowledge_dir": None}).process([message])
    message.set("intent", {"name": "faq", "confidence": 0.8})
    message.set(
        "intent_ranking",
        [{"name": "faq", "confidence": 0.8}, {"name": "human_handoff", "confidence": 0.1}],
    )
    message.set("response_selector", _selector(key))
    return message


@pytest.mark.parametrize(
    "text",
    ["户口从北京迁到香河", "从保定迁户口到固安要跑几趟", "户口想落户到燕郊", "户口迁回廊坊怎么办"],
)
def test_a_move_towards_langfang_is_a_move_in(text):
    message = _move_out_message(text)
    MoveDirectionClassifier().process([message])
    assert message.get("intent") == {"name": "ask_move_in", "confidence": 0.8}
    assert [r["name"] for r in message.get("intent_ranking")] == ["ask_move_in", "human_handoff"]


@pytest.mark.parametrize(
    "text", ["我想把户口迁到北京", "把我妈的户口从霸州迁到深圳我这里", "我在固安住，户口要迁走"]
)
def test_a_move_away_from_langfang_stays_a_move_out(text):
    message = _move_out_message(text)
    MoveDirectionClassifier().process([message])
    assert message.get("intent")["name"] == "faq"


def test_other_answers_are_left_alone():
    message = _move_out_message("户口从北京迁到香河", key="faq/hukou_booklet_replace")
    MoveDirectionClassifier().process([message])
    assert message.get("intent")["name"] == "faq"
