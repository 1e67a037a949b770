"""Move-in materials (knowledge-driven) and the clarifying fallback."""

import shutil
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.guidance import ActionClarify, ActionMoveInMaterials, ValidateHukouMoveInForm
from bot import knowledge
from tests.actions.conftest import render, rendered_buttons
from tests.actions.fixtures import load_tracker

ROOT = Path(__file__).resolve().parents[2]


async def test_materials_for_guan_housing_list_that_countys_materials():
    dispatcher = CollectingDispatcher()
    tracker = load_tracker("policy_move_in_guan_housing")
    events = await ActionMoveInMaterials().run(dispatcher, tracker, {})
    (message,) = dispatcher.messages
    text = render(message)
    assert "固安县" in text and "合法稳定住所迁入" in text
    answer = knowledge.move_in_materials("固安县", "housing")
    assert answer is not None
    for item in answer.materials[:5]:
        assert item in text
    assert "预审" in text and "原件" in text  # where to go and what next
    assert len(text.splitlines()) <= 14  # a few lines, not a wall of text
    buttons = rendered_buttons(message)
    assert any(b["payload"] == "/book_appointment" for b in buttons)
    assert {"title": "户籍窗口地址", "payload": '/find_window{"county":"固安县"}'} in buttons
    assert {"event": "slot", "name": "move_in_situation", "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]


async def test_answers_differ_by_county():
    texts = set()
    for county in ("固安县", "三河市", "广阳区"):
        answer = knowledge.move_in_materials(county, "housing")
        assert answer is not None
        texts.add(tuple(answer.materials) + tuple(answer.notes) + (answer.window,))
    assert len(texts) == 3


async def test_one_sentence_fills_both_slots_from_raw_text():
    tracker = load_tracker(
        "policy_move_in_guan_housing",
        slots={"county": None, "move_in_situation": None, "requested_slot": "move_in_situation"},
    )
    form = ValidateHukouMoveInForm()
    dispatcher = CollectingDispatcher()
    assert await form.extract_county(dispatcher, tracker, {}) == {"county": "固安县"}
    assert await form.extract_move_in_situation(dispatcher, tracker, {}) == {
        "move_in_situation": "housing"
    }


def test_aliases_map_to_canonical_values():
    form = ValidateHukouMoveInForm()
    d = CollectingDispatcher()
    tracker = load_tracker("policy_move_in_guan_housing")
    assert form.validate_county("开发区", d, tracker, {}) == {"county": "廊坊经济技术开发区"}
    assert form.validate_county(["大厂"], d, tracker, {}) == {"county": "大厂回族自治县"}
    assert form.validate_move_in_situation("graduate_talent", d, tracker, {}) == {
        "move_in_situation": "graduate_talent"
    }
    assert form.validate_county("北京", d, tracker, {}) == {"county": None}
    assert "没有找到" in render(d.messages[-1])


async def test_a_new_county_in_the_data_file_needs_no_code_change(tmp_path, monkeypatch):
    kdir = tmp_path / "knowledge"
    shutil.copytree(ROOT / "data" / "knowledge", kdir)
    data = yaml.safe_load((kdir / "counties.yml").read_text(encoding="utf-8"))
    data["counties"].append({"name": "测试新区", "aliases": ["新区"], "urban": False})
    (kdir / "counties.yml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kdir))
    assert knowledge.canonical_county("我在新区上班") == "测试新区"
    answer = knowledge.move_in_materials("测试新区", "employment")
    assert answer is not None and answer.materials  # default list applies


async def test_clarify_offers_the_two_most_likely_topics_and_a_message_option():
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, load_tracker("policy_fallback_id_card"), {})
    (message,) = dispatcher.messages
    topics = knowledge.topics()
    titles = [b["title"] for b in message["buttons"]]
    assert titles[0] == topics["faq/id_card_lost_online"].label
    assert titles[1] == topics["faq/hukou_booklet_replace"].label
    assert message["buttons"][-1]["payload"] == "/leave_message"
    assert message["buttons"][-1]["title"].startswith("都不是")  # under two other choices
    assert "哪个" in message["text"]


async def test_clarify_offers_the_lookup_for_a_bare_case_number():
    # Saved from the real server: "ＳＬ２０２６１１０５０１２３" typed outside any form.
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, load_tracker("clarify_bare_case_number"), {})
    (message,) = dispatcher.messages
    first = message["buttons"][0]
    assert first["payload"] == '/query_case_status{"case_number":"SL202611050123"}'
    assert "SL202611050123" in first["title"]
    assert message["buttons"][-1]["payload"] == "/leave_message"


async def test_clarify_offers_the_county_services_for_a_bare_county():
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, load_tracker("clarify_bare_county"), {})
    (message,) = dispatcher.messages
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[:2] == ['/find_window{"county":"三河市"}', '/ask_move_in{"county":"三河市"}']
    assert "三河市户籍窗口" in [b["title"] for b in message["buttons"]]


async def test_clarify_says_it_cannot_read_emoji_only_messages():
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, load_tracker("clarify_emoji_only"), {})
    (message,) = dispatcher.messages
    assert "表情" in message["text"]
    assert "没有输入" not in message["text"]
    # Nothing in "😀😀" points to a topic: no guessed topic buttons, only the message option.
    (button,) = message["buttons"]
    assert (button["title"], button["payload"]) == ("留言给民警", "/leave_message")


async def test_a_flat_ranking_offers_no_topic() -> None:
    # Words the model has never seen ("龘靐") get equal probabilities for every intent.
    tracker = load_tracker("policy_fallback_id_card")
    ranking = tracker.latest_message["intent_ranking"]
    for ranked in ranking:
        ranked["confidence"] = 1 / len(ranking)
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, tracker, {})
    (message,) = dispatcher.messages
    assert [b["payload"] for b in message["buttons"]] == ["/leave_message"]


async def test_a_lone_message_button_does_not_say_none_of_these(monkeypatch) -> None:
    monkeypatch.setattr(ActionClarify, "candidate_keys", lambda *args: [])  # no likely topic
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, load_tracker("clarify_emoji_only"), {})
    (message,) = dispatcher.messages
    (button,) = message["buttons"]
    assert (button["title"], button["payload"]) == ("留言给民警", "/leave_message")


# ----------------------------------------------------------- the first reply answers (issue 11)


async def test_the_form_only_needs_the_situation():
    form = ValidateHukouMoveInForm()
    tracker = load_tracker("policy_move_in_guan_housing")
    assert await form.required_slots([], CollectingDispatcher(), tracker, {}) == [
        "move_in_situation"
    ]


async def test_situation_without_county_gets_the_common_list_and_the_counties():
    tracker = load_tracker("policy_move_in_guan_housing")
    tracker.slots["county"] = None
    dispatcher = CollectingDispatcher()
    events = await ActionMoveInMaterials().run(dispatcher, tracker, {})
    (message,) = dispatcher.messages
    situation = next(s for s in knowledge.situations() if s.code == "housing")
    for item in situation.materials:
        assert item in message["text"]
    assert "哪个县" in message["text"]
    counties = [c.name for c in knowledge.counties()]
    assert [b["title"] for b in message["buttons"]] == counties
    assert message["buttons"][0]["payload"] == (
        f'/ask_move_in{{"county":"{counties[0]}","move_in_situation":"housing"}}'
    )
    assert {"event": "slot", "name": "move_in_situation", "value": None} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]


async def test_a_county_typed_after_the_common_list_answers_for_that_situation():
    tracker = load_tracker("policy_move_in_guan_housing")
    tracker.slots["county"] = None
    first = CollectingDispatcher()
    events = await ActionMoveInMaterials().run(first, tracker, {})
    pending = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert pending == {"move_in_situation": None, "pending_move_in_situation": "housing"}
    # The citizen types "固安县" instead of clicking its button.
    tracker.slots.update(pending, county="固安县")
    tracker.latest_message = {"text": "固安县", "intent": {"name": "inform", "confidence": 1.0}}
    second = CollectingDispatcher()
    events = await ActionMoveInMaterials().run(second, tracker, {})
    (message,) = second.messages
    assert "固安县" in render(message)
    for item in knowledge.move_in_materials("固安县", "housing").materials[:5]:  # type: ignore[union-attr]
        assert item in render(message)
    assert {e["name"]: e["value"] for e in events} == {
        "move_in_situation": None,
        "pending_move_in_situation": None,
    }


async def test_county_answer_marks_sample_data_once():
    dispatcher = CollectingDispatcher()
    await ActionMoveInMaterials().run(dispatcher, load_tracker("policy_move_in_guan_housing"), {})
    assert render(dispatcher.messages[0]).count("示例") == 1


@pytest.mark.parametrize(
    ("text", "situation", "county"),
    [
        ("在固安买了套二手房能落户不", "housing", "固安县"),
        ("我老公的户口想迁到我这边", "relatives", None),
        ("父母投靠子女落户三河要啥", "relatives", "三河市"),
        ("孩子随迁需要什么", "relatives", None),
        ("应届毕业想落户开发区", "graduate_talent", "廊坊经济技术开发区"),
        ("人才引进落户", "graduate_talent", None),
        ("在香河交了社保能落户吗", "employment", "香河县"),
        ("我在永清有套房", "housing", "永清县"),
    ],
)
def test_everyday_words_identify_the_situation(text, situation, county):
    assert knowledge.canonical_situation(text) == situation
    assert knowledge.canonical_county(text) == county


async def test_clarify_offers_a_message_only_once():
    tracker = load_tracker("policy_fallback_id_card")
    ranking = [
        {"name": "leave_message", "confidence": 0.4},
        {"name": "human_handoff", "confidence": 0.3},
        {"name": "find_window", "confidence": 0.2},
    ]
    tracker.latest_message = {**tracker.latest_message, "intent_ranking": ranking}
    dispatcher = CollectingDispatcher()
    await ActionClarify().run(dispatcher, tracker, {})
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert sum("留言" in t or "人工" in t for t in titles) == 1, titles
