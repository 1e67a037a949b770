"""Knowledge-driven policy actions: household move-in materials and the clarifying fallback.

The move-in catalogue (situations × counties) and the topic labels live in
``data/knowledge/`` and are re-read when they change, so officers can add a county or change
a materials list without a code change or retraining.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import knowledge

logger = logging.getLogger(__name__)

MAX_MATERIALS_SHOWN = 8


def _latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def _raw_user_text(tracker: Tracker) -> str:
    """What the user typed, before NLU normalisation (which turns emoji into spaces)."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return str(event.get("text") or "")
    return ""


class ValidateHukouMoveInForm(FormValidationAction):
    """Validates the move-in form's slots (situation, county) from entities or free text.

    A single message such as “我在固安买的房” fills both slots: the spaCy EntityRuler finds
    the county and the situation, and anything it missed is looked up in the knowledge files'
    aliases on the raw text.
    """

    def name(self) -> str:
        """Action name."""
        return "validate_hukou_move_in_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        """Ask for the situation first, then the county."""
        return ["move_in_situation", "county"]

    async def extract_county(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Pick up a county mentioned in free text (aliases from counties.yml)."""
        if tracker.get_slot("county"):
            return {}
        county = knowledge.canonical_county(_latest_text(tracker))
        return {"county": county} if county else {}

    async def extract_move_in_situation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Pick up a situation mentioned in free text (aliases from move_in.yml)."""
        if tracker.get_slot("move_in_situation"):
            return {}
        situation = knowledge.canonical_situation(_latest_text(tracker))
        return {"move_in_situation": situation} if situation else {}

    def validate_county(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        """Accept any of the county-level units (by name or alias)."""
        value = slot_value[0] if isinstance(slot_value, list) and slot_value else slot_value
        county = knowledge.canonical_county(str(value)) if value else None
        if county:
            return {"county": county}
        dispatcher.utter_message(
            text="抱歉，没有找到这个县（市、区）。请从下面选择您要办理业务的县（市、区）。"
        )
        return {"county": None}

    def validate_move_in_situation(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        """Accept one of the five situations (code, name or alias)."""
        value = slot_value[0] if isinstance(slot_value, list) and slot_value else slot_value
        situation = knowledge.canonical_situation(str(value)) if value else None
        if situation:
            return {"move_in_situation": situation}
        dispatcher.utter_message(text="抱歉，没听明白您的迁入情形，请从下面的选项中选择。")
        return {"move_in_situation": None}


class ActionAskCounty(Action):
    """Asks which county-level unit, with one button per unit from counties.yml."""

    def name(self) -> str:
        """Action name."""
        return "action_ask_county"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Offer the counties as quick replies."""
        buttons = [
            {"title": county.name, "payload": f'/inform{{"county":"{county.name}"}}'}
            for county in knowledge.counties()
        ]
        dispatcher.utter_message(
            text="请问您要把户口迁入廊坊哪个县（市、区）？各地材料要求略有不同。",
            buttons=buttons,
        )
        return []


def format_move_in_answer(answer: knowledge.MoveInAnswer) -> str:
    """Render the materials list in a few short lines.

    Args:
        answer: the materials for one situation in one county.

    Returns:
        The reply text.
    """
    lines = [f"在{answer.county}办理“{answer.situation.name}”，请准备："]
    shown = answer.materials[:MAX_MATERIALS_SHOWN]
    lines += [f"{i}. {item}" for i, item in enumerate(shown, start=1)]
    if len(answer.materials) > len(shown):
        lines.append(f"（另有{len(answer.materials) - len(shown)}项，以预审民警通知为准）")
    lines += [f"提示：{note}" for note in answer.notes[:2]]
    place = answer.window or f"{answer.county}公安局户政服务大厅"
    lines.append(
        "办理：先在“廊坊e户政”小程序拍照上传材料预审（一般24小时内审核），"
        f"通过后带原件到{place}一次办结。"
    )
    return "\n".join(lines)


class ActionMoveInMaterials(Action):
    """Lists the move-in materials for the situation and county in the slots."""

    def name(self) -> str:
        """Action name."""
        return "action_move_in_materials"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Reply with the materials list, then offer booking and related help."""
        county = tracker.get_slot("county")
        situation = tracker.get_slot("move_in_situation")
        answer = knowledge.move_in_materials(str(county), str(situation))
        if answer is None:
            dispatcher.utter_message(
                text="抱歉，暂时没有找到该情形的材料清单。您可以留言给户籍民警，我们会尽快答复。",
                buttons=[{"title": "留言给民警", "payload": "/leave_message"}],
            )
            return [SlotSet("move_in_situation", None)]
        dispatcher.utter_message(
            text=format_move_in_answer(answer),
            buttons=[
                {"title": "预约窗口办理", "payload": "/book_appointment"},
                {"title": "查看其他情形", "payload": "/ask_move_in"},
                {"title": "户籍窗口地址", "payload": f'/find_window{{"county":"{answer.county}"}}'},
            ],
        )
        # Keep the county (useful for booking/lookups); forget the situation so a new
        # move-in question asks again.
        return [SlotSet("move_in_situation", None)]


class ActionClarify(Action):
    """Clarifying fallback: offers the two most likely topics as buttons, then a message option.

    Reads the intent ranking (and the response-selector ranking for retrieval intents) of the
    latest message, skipping ``nlu_fallback``; topics without a label in ``topics.yml`` are
    skipped. On a second fallback in a row it goes straight to offering a message for an
    officer.
    """

    def name(self) -> str:
        """Action name."""
        return "action_clarify"

    @staticmethod
    def candidate_keys(latest: Dict[str, Any]) -> List[str]:
        """Most likely topic keys (``faq/id_card_fees``, ``book_appointment`` …), best first."""
        keys: List[str] = []
        selector = latest.get("response_selector") or {}
        for ranked in latest.get("intent_ranking") or []:
            name = ranked.get("name")
            if not name or name in ("nlu_fallback", "inform", "affirm", "deny"):
                continue
            chosen = selector.get(name) or selector.get("default") or {}
            ranking = chosen.get("ranking") or []
            if any(str(r.get("intent_response_key", "")).startswith(f"{name}/") for r in ranking):
                ranking = [
                    r
                    for r in ranking
                    if str(r.get("intent_response_key", "")).startswith(f"{name}/")
                ]
                keys.extend(
                    r.get("intent_response_key")
                    for r in ranking[:2]
                    if r.get("intent_response_key")
                )
            else:
                keys.append(name)
        return list(dict.fromkeys(keys))

    @staticmethod
    def entity_buttons(latest: Dict[str, Any]) -> List[Dict[str, str]]:
        """Quick replies that act on what the message did carry.

        A bare case number (“SL202611050123”) offers its progress lookup; a bare county
        (“三河”) offers that county's windows and move-in materials.
        """
        entities = {
            str(e.get("entity")): str(e.get("value"))
            for e in latest.get("entities") or []
            if e.get("entity") and e.get("value")
        }
        buttons: List[Dict[str, str]] = []
        if "case_number" in entities:
            number = entities["case_number"]
            buttons.append(
                {
                    "title": f"查询{number}的进度",
                    "payload": f'/query_case_status{{"case_number":"{number}"}}',
                }
            )
        county = knowledge.canonical_county(entities.get("county", ""))
        if county:
            buttons.append(
                {"title": f"{county}户籍窗口", "payload": f'/find_window{{"county":"{county}"}}'}
            )
            buttons.append(
                {
                    "title": f"{county}户口迁入材料",
                    "payload": f'/ask_move_in{{"county":"{county}"}}',
                }
            )
        return buttons

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Offer up to two topics and a way to leave a message."""
        topics = knowledge.topics()
        latest = tracker.latest_message or {}
        buttons = self.entity_buttons(latest)
        if buttons:
            dispatcher.utter_message(
                text="请问您是想办理下面哪一项？",
                buttons=[*buttons, {"title": "都不是，留言给民警", "payload": "/leave_message"}],
            )
            return []
        for key in self.candidate_keys(latest):
            topic: knowledge.Topic | None = topics.get(key)
            if topic and topic.payload:
                buttons.append({"title": topic.label, "payload": topic.payload})
            if len(buttons) == 2:
                break
        buttons.append({"title": "都不是，留言给民警", "payload": "/leave_message"})
        typed = _raw_user_text(tracker)
        text = str(latest.get("text") or "")
        if typed.strip() and not any(ch.isalnum() for ch in typed):
            text = "您发的好像只有表情或符号，我没看明白。请用文字说说您想办什么业务："
        elif not text.strip():
            text = "您好像没有输入内容。请问您想咨询什么业务？"
        elif len(buttons) > 1:
            text = "抱歉，我不太确定您的意思。您是想问以下哪个问题？"
        else:
            text = "抱歉，这个问题我暂时回答不了。您可以换个说法，或留言给户籍民警。"
        dispatcher.utter_message(text=text, buttons=buttons)
        return []
