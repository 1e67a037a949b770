"""Policy answers (guidance): household move-in materials and the clarifying fallback.

The move-in catalogue (situations × counties) and the topic labels live in
``data/knowledge/`` and are re-read when they change, so officers can add a county or change
a materials list without a code change or retraining; every sentence is in
``data/responses/guidance.yml``.

The first reply answers: once the situation is known (from everyday words such as 二手房,
老公, 交了社保 — aliases in ``move_in.yml``) the form is done. With a county the reply lists
that county's materials; without one it lists the situation's common materials and offers the
counties (buttons carrying both county and situation) for the local additions.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.slots import Dispatcher, Slots
from bot import knowledge
from bot.responses import response_buttons, response_text

logger = logging.getLogger(__name__)

MAX_MATERIALS_SHOWN = 8
# Topics that mean "a person, please": the clarify question's last button already offers that.
MESSAGE_TOPICS = frozenset({"leave_message", "human_handoff"})


#: The situation whose common list was just given (a typed county answers for it).
PENDING_SITUATION = "pending_move_in_situation"


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
        """Only the situation is asked for: the county is optional (see the module docstring)."""
        return ["move_in_situation"]

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

    @staticmethod
    def _accept(slot: str, value: Any, dispatcher: Dispatcher, find: Any, unknown: str) -> Slots:
        value = value[0] if isinstance(value, list) and value else value
        found = find(str(value)) if value else None
        if not found:
            dispatcher.utter_message(response=unknown)
        return {slot: found}

    def validate_county(
        self, slot_value: Any, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accept any of the county-level units (by name or alias)."""
        find = knowledge.canonical_county
        return self._accept("county", slot_value, dispatcher, find, "utter_move_in_unknown_county")

    def validate_move_in_situation(
        self, slot_value: Any, dispatcher: Dispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """Accept one of the five situations (code, name or alias)."""
        find = knowledge.canonical_situation
        unknown = "utter_move_in_unknown_situation"
        return self._accept("move_in_situation", slot_value, dispatcher, find, unknown)


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
        dispatcher.utter_message(response="utter_move_in_ask_county", buttons=buttons)
        return []


def _materials_lines(materials: List[str], notes: List[str]) -> List[str]:
    shown = materials[:MAX_MATERIALS_SHOWN]
    lines = [f"{i}. {item}" for i, item in enumerate(shown, start=1)]
    if len(materials) > len(shown):
        lines.append(response_text("utter_move_in_more_items", count=len(materials) - len(shown)))
    lines += [response_text("utter_move_in_note", note=note) for note in notes[:2]]
    return lines


def format_move_in_answer(answer: knowledge.MoveInAnswer) -> str:
    """Render one county's materials list in a few short lines, with one sample footnote.

    Args:
        answer: the materials for one situation in one county.

    Returns:
        The reply text.
    """
    header = response_text(
        "utter_move_in_local_header", county=answer.county, situation=answer.situation.name
    )
    place = answer.window or response_text("utter_move_in_default_place", county=answer.county)
    lines = [header, *_materials_lines(answer.materials, answer.notes)]
    lines.append(response_text("utter_move_in_how_to", place=knowledge.strip_sample(place)))
    if knowledge.is_sample("move_in.yml"):
        lines.append(response_text("utter_move_in_sample_footnote"))
    return "\n".join(lines)


def format_common_answer(situation: knowledge.Situation) -> str:
    """Render a situation's common materials (no county yet) and ask for the county.

    Args:
        situation: the move-in situation.

    Returns:
        The reply text.
    """
    lines = [response_text("utter_move_in_common_header", situation=situation.name)]
    lines += _materials_lines(list(situation.materials), [situation.note] if situation.note else [])
    place = response_text(
        "utter_move_in_default_place", county=response_text("utter_move_in_any_county")
    )
    lines.append(response_text("utter_move_in_how_to", place=place))
    lines.append(response_text("utter_move_in_pick_county"))
    return "\n".join(lines)


def county_buttons(situation_code: str) -> List[Dict[str, str]]:
    """One button per county that asks again with both the county and the situation."""
    return [
        {
            "title": county.name,
            "payload": (
                f'/ask_move_in{{"county":"{county.name}","move_in_situation":"{situation_code}"}}'
            ),
        }
        for county in knowledge.counties()
    ]


class ActionMoveInMaterials(Action):
    """Answers the move-in question: the county's list, or the common list and the counties."""

    def name(self) -> str:
        """Action name."""
        return "action_move_in_materials"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Reply with the materials list, then offer booking and related help."""
        county = knowledge.canonical_county(tracker.get_slot("county"))
        code = str(tracker.get_slot("move_in_situation") or "")
        latest_intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if not code and latest_intent == "inform":
            # A county typed (not clicked) after the common list: the situation offered then.
            code = str(tracker.get_slot(PENDING_SITUATION) or "")
        situation = next((s for s in knowledge.situations() if s.code == code), None)
        # Forget the situation so a new move-in question asks again; keep the county.
        forget: List[EventType] = [
            SlotSet("move_in_situation", None),
            SlotSet(PENDING_SITUATION, None),
        ]
        if situation is None:  # a side question inside another form: offer the situations
            dispatcher.utter_message(
                text=response_text("utter_move_in_pick_situation"),
                buttons=[
                    {
                        "title": s.label,
                        "payload": f'/ask_move_in{{"move_in_situation":"{s.code}"}}',
                    }
                    for s in knowledge.situations()
                ],
            )
            return forget
        if county is None:
            dispatcher.utter_message(
                text=format_common_answer(situation), buttons=county_buttons(situation.code)
            )
            # Remembered only for a county typed in reply (rule: after the common list).
            return [SlotSet("move_in_situation", None), SlotSet(PENDING_SITUATION, situation.code)]
        answer = knowledge.move_in_materials(county, situation.code)
        if answer is None:
            dispatcher.utter_message(response="utter_move_in_not_found")
            return forget
        dispatcher.utter_message(
            response="utter_move_in_answer",
            answer=format_move_in_answer(answer),
            county=answer.county,
        )
        return forget


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
    def has_evidence(latest: Dict[str, Any]) -> bool:
        """Whether the intent ranking prefers some topic (a flat ranking is no evidence)."""
        scores = [
            float(r.get("confidence") or 0.0)
            for r in latest.get("intent_ranking") or []
            if r.get("name") != "nlu_fallback"
        ]
        return len(scores) < 2 or max(scores) - min(scores) > 1e-6

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
            buttons += response_buttons(
                "utter_clarify_case_number", case_number=entities["case_number"]
            )
        county = knowledge.canonical_county(entities.get("county", ""))
        if county:
            buttons += response_buttons("utter_clarify_county", county=county)
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
                text=response_text("utter_clarify_which_service"),
                buttons=[*buttons, *response_buttons("utter_clarify_leave_message")],
            )
            return []
        typed = _raw_user_text(tracker)
        symbols_only = bool(typed.strip()) and not any(ch.isalnum() for ch in typed)
        # Emoji, symbols or words the model has never seen carry no evidence: any two
        # topics would be arbitrary ("准生证" under "？"), so none is offered.
        keys = [] if symbols_only or not self.has_evidence(latest) else self.candidate_keys(latest)
        for key in keys:
            if key in MESSAGE_TOPICS:  # the last button already offers a message
                continue
            topic: knowledge.Topic | None = topics.get(key)
            if topic and topic.payload:
                buttons.append({"title": topic.label, "payload": topic.payload})
            if len(buttons) == 2:
                break
        # "都不是，…" only reads right under other choices.
        leave = "utter_clarify_leave_message" if buttons else "utter_clarify_leave_message_only"
        buttons += response_buttons(leave)
        text = str(latest.get("text") or "")
        if symbols_only:
            text = response_text("utter_clarify_emoji_only")
        elif not text.strip():
            text = response_text("utter_clarify_empty")
        elif len(buttons) > 1:
            text = response_text("utter_clarify_two_topics")
        else:
            text = response_text("utter_clarify_no_topic")
        dispatcher.utter_message(text=text, buttons=buttons)
        return []
