"""Case status lookup (办理进度查询): ``case_status_form`` and ``action_case_status``.

The form asks for the case number (受理编号, ``SL`` + 12 digits) and the last 4 digits of the
phone number left on the application; both can come in one message. The lookup runs in a
worker thread (:func:`actions.db.run_db`); an unknown case and a wrong second factor get the
same reply; after 5 failures (per conversation, and per case across conversations) lookups
are refused for 15 minutes. The factor is cleared from the slots right after use and never
logged; log lines carry the masked case number only.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.db import DatabaseUnavailable, run_db
from actions.slots import ClearSlotsAction
from actions.validation import (
    CASE_NUMBER_EXAMPLE,
    case_number_problem,
    client_key,
    format_wait,
    last4_problem,
    parse_case_number,
    parse_last4,
)
from bot.db.models import BUSINESS_TYPES
from bot.db.queries.cases import CaseLookup, CaseView, lookup_case, mask_case_number
from bot.numbers import parse_phone

logger = logging.getLogger(__name__)

STAGE_LABELS: dict[str, str] = {
    "submitted": "已提交，等待预审核",
    "pre_review": "预审核中",
    "pre_review_passed": "预审核已通过",
    "materials_needed": "预审核未通过，需补充材料",
    "accepted": "窗口已受理，审批办理中",
    "card_making": "证件制作中",
    "mailed": "证件已寄出",
    "completed": "已办结",
}

SERVICE_UNAVAILABLE = "utter_service_unavailable"
#: Set (by the lookup only) when a case had many failures: its form then asks for the full number.
FULL_PHONE_SLOT = "case_full_phone_required"


def _local(moment: dt.datetime) -> dt.datetime:
    return moment + dt.timedelta(hours=8)


def _window_lines(case: CaseView) -> list[str]:
    if case.window is None:
        return [
            f"请到{case.county}户政服务大厅办理（地址、电话可以问我“{case.county}户籍窗口在哪”）。"
        ]
    window = case.window
    return [
        f"办理地点：{window.name}",
        f"地址：{window.address}",
        f"电话：{window.phone}",
        f"办公时间：{window.hours}",
    ]


def _next_step(case: CaseView) -> list[str]:
    stage = case.stage
    if stage == "submitted":
        return [
            "下一步：户籍民警预审核您上传的材料，一般24小时内完成，结果会通过电话和小程序消息通知您，无需重复提交。"
        ]
    if stage == "pre_review":
        return [
            "下一步：预审核一般24小时内完成，结果会通过电话和小程序消息通知您，请保持电话畅通。"
        ]
    if stage == "pre_review_passed":
        return [
            "下一步：请携带全部材料原件到窗口办理，一次办结。",
            *_window_lines(case),
            "可以先预约办理时间，免排队。",
        ]
    if stage == "materials_needed":
        lines = ["需要补充的材料："]
        lines += [f"{i}. {item}" for i, item in enumerate(case.missing_materials, 1)] or [
            "（详见小程序“我的办件”中的审核意见）"
        ]
        lines.append(
            "下一步：请在“廊坊e户政”小程序“我的办件”中重新上传以上材料，提交后重新预审核（一般24小时内）。"
        )
        return lines
    if stage == "accepted":
        if case.business_code == "id_card":
            return ["下一步：证件制作，最多15个工作日，制好后邮寄或通知您领取。"]
        return ["下一步：审批完成后会通过电话和小程序消息通知您，请保持电话畅通。"]
    if stage == "card_making":
        return ["下一步：证件制作最多15个工作日，制好后寄出，寄出时会告诉您快递单号。"]
    if stage == "mailed":
        return [
            f"快递：{case.courier_company or '邮政EMS'}，"
            f"运单号 {case.courier_number or '（暂未生成）'}",
            "下一步：可以用运单号在快递公司官网或小程序查询物流，签收时请当面核对证件。",
        ]
    return ["该业务已办结。如果没有收到证件或有疑问，可以说“留言”，户籍民警会联系您。"]


def format_case_reply(case: CaseView) -> str:
    """Build the reply for a found case: stage, next step, window / materials / courier.

    Args:
        case: the case as returned by the lookup.

    Returns:
        Short Chinese text, a few lines.

    """
    business = BUSINESS_TYPES.get(case.business_code, "户政业务")
    updated = _local(case.updated_at)
    lines = [
        f"查到了：{business}（{case.county}），受理编号 {case.case_number}",
        f"当前进度：{STAGE_LABELS.get(case.stage, case.stage)}"
        f"（更新于{updated.month}月{updated.day}日 {updated:%H:%M}）",
        *_next_step(case),
    ]
    return "\n".join(lines)


def _latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


class ValidateCaseStatusForm(FormValidationAction):
    """Validates ``case_status_form``: case number format and the 4-digit second factor."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "validate_case_status_form"

    async def validate_case_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accept ``SL`` + 12 digits (lowercase, full-width, spaces tolerated).

        If the same message also carries the 4-digit factor, it is taken too.

        Args:
            slot_value: the extracted value (entity value or the raw text).
            dispatcher: to explain a bad value.
            tracker: the conversation.
            domain: the domain.

        Returns:
            Slot updates.

        """
        raw = str(slot_value or "")
        number = parse_case_number(raw)
        if number is None:
            problem = case_number_problem(raw)
            if problem:
                dispatcher.utter_message(text=problem)
            elif tracker.get_slot("requested_slot") == "case_number":
                dispatcher.utter_message(
                    text=f"没有识别到受理编号。受理编号是“SL”加12位数字，例如{CASE_NUMBER_EXAMPLE}。"
                )
            return {"case_number": None}
        updates: dict[str, Any] = {"case_number": number}
        text = _latest_text(tracker)
        if parse_case_number(text) == number and not tracker.get_slot("phone_last4"):
            factor = parse_phone(text) or parse_last4(text)
            if factor:
                updates["phone_last4"] = factor
        logger.info("case status: case number %s accepted", mask_case_number(number))
        return updates

    async def validate_phone_last4(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Accept 4 digits, or a full mobile number (needed when a case had many failures).

        Args:
            slot_value: the raw text.
            dispatcher: to explain a bad value.
            tracker: the conversation.
            domain: the domain.

        Returns:
            Slot updates. A full phone number is kept for this turn's lookup only (the
            tracker store masks it, the lookup clears it).

        """
        if slot_value is None:  # cleared by the previous lookup: nothing typed to judge
            return {"phone_last4": None}
        raw = str(slot_value)
        factor = parse_phone(raw) or parse_last4(raw)
        number = parse_case_number(raw)
        if factor is None:
            if number:  # "不对，编号是SL…": a corrected case number; the form asks again
                return {"phone_last4": None, "case_number": number}
            dispatcher.utter_message(text=last4_problem(raw))
            return {"phone_last4": None}
        updates: dict[str, Any] = {"phone_last4": factor}
        if number and number != tracker.get_slot("case_number"):
            updates["case_number"] = number
        return updates


class ActionCaseStatus(Action):
    """Looks the case up and replies with its stage and the next step."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_case_status"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        """Run the lookup (worker thread), reply, clear the factor and update the counter.

        Args:
            dispatcher: sends the reply.
            tracker: the conversation.
            domain: the domain.

        Returns:
            Slot events: the case number and factor cleared, and the full-phone step-up flag.

        """
        number = parse_case_number(str(tracker.get_slot("case_number") or ""))
        raw_factor = str(tracker.get_slot("phone_last4") or "")
        factor = parse_phone(raw_factor) or parse_last4(raw_factor)
        clear: list[EventType] = [SlotSet("case_number", None), SlotSet("phone_last4", None)]
        if number is None or factor is None:
            dispatcher.utter_message(response="utter_case_lookup_needs_both")
            return clear
        try:
            result = await run_db(
                lookup_case, tracker.sender_id, number, factor, client_key(tracker)
            )
        except DatabaseUnavailable:
            dispatcher.utter_message(response=SERVICE_UNAVAILABLE)
            return clear
        logger.info("case status %s: %s", mask_case_number(number), result.status)
        if result.status == "ok" and result.case is not None:
            dispatcher.utter_message(text=format_case_reply(result.case), **_buttons(result))
            return [*clear, SlotSet(FULL_PHONE_SLOT, None)]
        if result.status == "wait":
            dispatcher.utter_message(
                response="utter_case_lookup_wait", wait=format_wait(result.wait_seconds)
            )
            return [*clear, SlotSet(FULL_PHONE_SLOT, None)]
        # Failed, or the case needs the full phone number: keep the case number and ask for
        # the factor again (a corrected case number is accepted at that question too).
        keep = [SlotSet("phone_last4", None), FollowupAction("case_status_form")]
        if result.status == "full_phone":
            dispatcher.utter_message(response="utter_case_lookup_full_phone")
            return [*keep, SlotSet(FULL_PHONE_SLOT, True)]
        dispatcher.utter_message(response="utter_case_lookup_failed", case_number=number)
        return keep


def _buttons(result: CaseLookup) -> dict[str, Any]:
    if result.case is not None and result.case.stage == "pre_review_passed":
        return {"buttons": [{"title": "预约窗口办理", "payload": "/book_appointment"}]}
    return {}


class ActionClearCaseSlots(ClearSlotsAction):
    """Clears the case form's slots when the user stops the form."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_clear_case_slots"

    slots = ("case_number", "phone_last4", FULL_PHONE_SLOT)
