"""The booking forms driven by Rasa's own FormAction, with the action server called in-process.

This checks the assumptions the validation actions make about Rasa 3.6 (slot candidates at
activation, ``requested_slot``, rejection when nothing is filled, ask actions, the tracker
events after an interruption, the domain the action server receives) with the real
``FormAction``/``RemoteAction`` code; only the HTTP hop to the action server is replaced by a
direct call of the rasa_sdk executor. Bot texts are rendered by Rasa's own NLG from
domain.yml + data/responses, as in production.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from rasa.core.actions.action import (
    ActionDeactivateLoop,
    ActionExecutionRejection,
    ActionExtractSlots,
    RemoteAction,
)
from rasa.core.actions.forms import FormAction
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    BotUttered,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import ActionExecutor
from sqlalchemy import select

from bot.db.models import Booking
from bot.db.session import session_scope
from tests.actions.booking.conftest import PHONE, booked_code, slot_id
from tests.actions.booking_support import ROOT, rasa_parse

D = __import__("datetime").date
T = __import__("datetime").time


def _domain() -> Domain:
    responses = [str(p) for p in sorted((ROOT / "data" / "responses").glob("*.yml"))]
    return Domain.load([str(ROOT / "domain.yml"), *responses])


class InProcessEndpoint:
    """Stands in for the action server's HTTP endpoint: runs the action in this process."""

    def __init__(self) -> None:
        self.executor = ActionExecutor()
        self.executor.register_package("actions.booking")
        self.calls: list[str] = []
        self.kwargs: dict[str, Any] = {}

    async def request(self, json: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        self.calls.append(json["next_action"])
        return await self.executor.run(json) or {"events": [], "responses": []}


class Conversation:
    """One conversation: user turns parsed like Rasa parses them, the form run by Rasa."""

    domain = _domain()

    def __init__(self) -> None:
        self.endpoint = InProcessEndpoint()
        self.nlg = TemplatedNaturalLanguageGenerator(self.domain.responses)
        self.tracker = DialogueStateTracker("rasa-form-test", self.domain.slots)
        self.out = CollectingOutputChannel()
        self.seen = 0

    def _bot(self) -> list[BotUttered]:
        return [e for e in list(self.tracker.events)[self.seen :] if isinstance(e, BotUttered)]

    def said(self) -> list[str]:
        """Texts the bot said since the last call."""
        texts = [e.text or "" for e in self._bot()]
        self.seen = len(self.tracker.events)
        return texts

    def buttons(self) -> list[dict[str, Any]]:
        """Buttons of the bot's messages since the last ``said()``."""
        return [x for e in self._bot() for x in (e.data.get("buttons") or [])]

    async def user(self, text: str, intent: str = "inform", **entities: str) -> None:
        """A user message; a ``/intent{...}`` payload gets Rasa's own intent and entities."""
        self.tracker.update(ActionExecuted("action_listen"))
        found = [{"entity": k, "value": v} for k, v in entities.items()]
        if text.startswith("/"):
            parsed = rasa_parse(text)
            intent, found = parsed["intent"], parsed["entities"]
        parse = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": found}
        self.tracker.update(UserUttered(text, parse["intent"], parse["entities"], parse_data=parse))
        events = await ActionExtractSlots(self.endpoint).run(  # type: ignore[arg-type]
            self.out, self.nlg, self.tracker, self.domain
        )
        self.tracker.update_with_events(events, self.domain)

    async def run(self, action: Any) -> None:
        events = await action.run(self.out, self.nlg, self.tracker, self.domain)
        self.tracker.update(ActionExecuted(action.name()))
        self.tracker.update_with_events(events, self.domain)

    async def form(self, name: str = "booking_form") -> None:
        await self.run(FormAction(name, self.endpoint))  # type: ignore[arg-type]

    async def rejected(self, name: str = "booking_form") -> bool:
        """Run the form; True (and logged as Rasa does) when it rejects the message."""
        try:
            await self.form(name)
        except ActionExecutionRejection:
            self.tracker.update(ActionExecutionRejected(name))
            return True
        return False

    async def action(self, name: str) -> None:
        await self.run(RemoteAction(name, self.endpoint))  # type: ignore[arg-type]

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    @property
    def requested(self) -> Any:
        return self.slot("requested_slot")


async def _to_confirmation(
    c: Conversation, text: str = "我要预约 固安县 身份证 明天下午三点"
) -> None:
    """Fill the booking form up to the confirmation question (name 李四, phone 13900001111)."""
    await c.user(text, intent="book_appointment", business_type="id_card", county="固安县")
    await c.form()
    assert c.requested == "booker_name", c.said()
    await c.user("李四")
    await c.form()
    await c.user("13900001111")
    await c.form()
    assert c.requested == "booking_confirmed" and c.tracker.active_loop_name == "booking_form"


async def test_booking_with_correction_interruption_window_choice_and_confirmation(
    db: str,
) -> None:
    c = Conversation()
    await c.user("我想约明天上午去办身份证", intent="book_appointment", business_type="id_card")
    await c.form()
    assert c.tracker.active_loop_name == "booking_form"
    assert c.slot("business_type") == "id_card" and c.slot("booking_date") == "2026-12-03"
    assert c.requested == "booking_county"
    assert len(c.buttons()) == 12 and "区县" in c.said()[0]

    await c.user('/inform{"county":"固安县"}')
    await c.form()
    assert c.slot("booking_county") == "固安县" and c.requested == "booking_slot"
    # two windows have free places that morning: the window is chosen first
    windows = c.buttons()
    assert "个窗口" in c.said()[0]
    assert len(windows) == 2 and all("booking_window" in x["payload"] for x in windows)

    # a question that fills nothing: the form rejects so that a rule can answer it
    await c.user("身份证要带什么材料", intent="faq")
    assert await c.rejected()
    c.tracker.update(ActionExecuted("utter_faq"))
    c.tracker.update(BotUttered("带好户口簿……"))
    await c.form()  # back to the form: the old question is not read again, the slot re-asked
    assert c.requested == "booking_slot" and c.slot("booking_slot") is None
    assert [x["payload"] for x in c.buttons()] == [x["payload"] for x in windows]
    c.said()

    await c.user(windows[1]["payload"])
    await c.form()
    chosen_window = re.search(r'"booking_window":"(\d+)"', windows[1]["payload"]).group(1)  # type: ignore[union-attr]
    assert c.slot("booking_window") == chosen_window and c.requested == "booking_slot"
    titles = [x["title"] for x in c.buttons()]
    assert titles and all(re.match(r"(09|10|11):\d\d-", t) for t in titles)  # its morning only
    c.said()

    await c.user("九点半")
    await c.form()
    assert c.slot("booking_slot") and c.requested == "booker_name"
    assert c.slot("booking_window") == chosen_window
    assert "您选择的是" in c.said()[0]

    # correction while the name is asked: new day, the time slot is asked again
    await c.user("不对，改成后天吧")
    await c.form()
    assert c.slot("booking_date") == "2026-12-04" and c.slot("booking_slot") is None
    assert c.requested == "booking_slot"
    c.said()
    await c.user("十点")
    await c.form()
    await c.user("我叫张三")
    await c.form()
    assert c.slot("booker_name") == "张某" and c.requested == "booker_phone"
    c.said()
    await c.user("手机号 138-1234-5678")
    await c.form()
    assert c.requested == "booking_confirmed" and c.tracker.active_loop_name == "booking_form"
    (summary,) = c.said()
    assert "请确认" in summary and "12月4日" in summary and "10:00-10:30" in summary
    assert "张某" in summary and "138****5678" in summary and PHONE not in summary
    assert "*" not in summary.replace("138****5678", "")  # no stray Markdown asterisks

    await c.user("/affirm")
    await c.form()
    assert c.tracker.active_loop_name is None and c.requested is None
    assert c.slot("booking_confirmed") is True
    await c.action("action_book_slot")
    reply = c.said()[0]
    assert "预约成功" in reply and "12月4日" in reply and "10:00-10:30" in reply
    assert "138****5678" in reply and PHONE not in reply and "张某" in reply
    assert c.slot("booker_phone") is None and re.fullmatch(r"YY\w{6}", c.slot("booking_code"))
    # nothing in the conversation's slots holds the full number or name
    assert PHONE not in repr(c.tracker.current_slot_values())
    assert "张三" not in repr(c.tracker.current_slot_values())
    with session_scope() as session:
        assert session.execute(select(Booking.code)).scalar_one() == c.slot("booking_code")


async def test_stop_makes_the_form_reject(db: str) -> None:
    c = Conversation()
    await c.user("我要预约", intent="book_appointment")
    await c.form()
    assert c.requested == "business_type"
    await c.user("算了，明天再说吧", intent="stop")
    assert await c.rejected()
    assert c.slot("booking_date") is None


async def test_confirmation_no_asks_what_to_change_and_a_correction_asks_again(db: str) -> None:
    c = Conversation()
    await _to_confirmation(c)
    first = c.said()[-1]
    assert "15:00-15:30" in first and "李某" in first and "139****1111" in first

    await c.user("不对", intent="deny")
    await c.form()
    reply = c.said()
    assert "要修改什么" in reply[0] and "请确认" in reply[-1]  # … and the summary again
    assert c.requested == "booking_confirmed" and c.slot("booking_confirmed") is None

    # a correction at the confirmation step changes the booking; the summary is asked again
    await c.user("改成下午四点")
    await c.form()
    assert c.requested == "booking_confirmed" and c.slot("booking_confirmed") is None
    summary = c.said()[-1]
    assert "请确认" in summary and "16:00-16:30" in summary and "15:00" not in summary

    await c.user("我再想想")  # neither yes nor a change
    await c.form()
    assert "确认预约" in c.said()[0] and c.slot("booking_confirmed") is None
    assert c.requested == "booking_confirmed"

    await c.user("确认")
    await c.form()
    assert c.tracker.active_loop_name is None
    await c.action("action_book_slot")
    assert "16:00-16:30" in c.said()[0]


async def test_at_the_confirmation_stop_and_questions_are_left_to_the_rules(db: str) -> None:
    c = Conversation()
    await _to_confirmation(c)
    c.said()
    await c.user("身份证要带什么材料", intent="faq")
    assert await c.rejected()  # the FAQ rule answers, then the form asks again
    assert c.said() == []
    await c.user("/stop")  # the 不约了 button
    assert await c.rejected()
    assert c.said() == [] and c.slot("booking_confirmed") is None
    with session_scope() as session:
        assert session.execute(select(Booking)).first() is None


async def test_my_booking_form_with_rasa(db: str) -> None:
    c = Conversation()
    await _to_confirmation(c)
    await c.user("/affirm")
    await c.form()
    await c.action("action_book_slot")
    code = c.slot("booking_code")
    assert code, c.said()
    c.said()
    await c.user("我的预约", intent="my_booking")
    await c.form("my_booking_form")  # the code of this conversation is prefilled
    assert c.requested == "booker_phone"
    assert code in c.said()[0]  # "请输入预约码 YY… 登记的手机号码"
    await c.user("13900001111")
    await c.form("my_booking_form")
    assert c.tracker.active_loop_name is None
    c.said()
    await c.action("action_my_booking")
    reply = c.said()[0]
    assert code in reply and "15:00-15:30" in reply and "139****1111" in reply


async def test_cancel_form_confirms_before_cancelling(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    code = booked_code(sid)
    c = Conversation()
    await c.user("取消预约", intent="cancel_booking")
    await c.form("cancel_booking_form")
    assert c.requested == "booking_code"
    await c.user(f"预约码{code}，手机{PHONE}")
    await c.form("cancel_booking_form")
    assert c.requested == "cancel_confirmed"
    question = c.said()[-1]
    assert code in question and "确定取消吗" in question and "09:00-09:30" in question
    await c.user("/affirm")
    await c.form("cancel_booking_form")
    assert c.tracker.active_loop_name is None and c.slot("cancel_confirmed") is True
    await c.action("action_cancel_booking")
    assert "已为您取消" in c.said()[-1]
    with session_scope() as session:
        assert session.execute(select(Booking.status)).scalar_one() == "cancelled"


@pytest.mark.parametrize("answer", ["/stop", "不用了"])
async def test_cancel_not_confirmed_keeps_the_booking(db: str, answer: str) -> None:
    code = booked_code(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    c = Conversation()
    await c.user("取消预约", intent="cancel_booking")
    await c.form("cancel_booking_form")
    await c.user(f"预约码{code}，手机{PHONE}")
    await c.form("cancel_booking_form")
    c.said()
    intent = "stop" if answer == "/stop" else "deny"
    await c.user(answer, intent=intent)
    if await c.rejected("cancel_booking_form"):  # a stop: the stop rule's two actions
        await c.run(ActionDeactivateLoop())
        await c.action("action_booking_stopped")
    else:  # a plain no: the form says so and ends, the rule runs the (idle) cancel action
        assert c.tracker.active_loop_name is None or c.requested is None
        await c.action("action_cancel_booking")
    reply = " ".join(c.said())
    assert "不取消" in reply and code in reply and "仍然有效" in reply and "已为您取消" not in reply
    with session_scope() as session:
        assert session.execute(select(Booking.status)).scalar_one() == "active"
