"""The booking form driven by Rasa's own FormAction, with the action server called in-process.

This checks the assumptions the validation actions make about Rasa 3.6 (slot candidates at
activation, ``requested_slot``, rejection when nothing is filled, ask actions, the tracker
events after an interruption) with the real ``FormAction``/``RemoteAction`` code; only the
HTTP hop to the action server is replaced by a direct call of the rasa_sdk executor.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from rasa.core.actions.action import ActionExecutionRejection, ActionExtractSlots, RemoteAction
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

from actions import booking as b
from bot.db import session as db_session
from bot.db.models import Booking
from bot.db.session import session_scope
from tests.actions.booking_support import NOW, fresh_database, prepare_database

ROOT = Path(__file__).resolve().parents[2]


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
    def __init__(self) -> None:
        self.domain = Domain.load(str(ROOT / "domain.yml"))
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
        self.tracker.update(ActionExecuted("action_listen"))
        parse = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [{"entity": k, "value": v} for k, v in entities.items()],
        }
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

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    with fresh_database(request.param, tmp_path) as url:
        prepare_database(url)
        db_session.configure(url)
        monkeypatch.setattr(b, "now", lambda: NOW)
        try:
            yield url
        finally:
            db_session.reset()


async def test_booking_with_rasa_form_action_correction_interruption_and_booking(db: str) -> None:
    c = Conversation()
    await c.user("我想约明天上午去办身份证", intent="book_appointment", business_type="id_card")
    await c.form()
    assert c.tracker.active_loop_name == "booking_form"
    assert c.slot("business_type") == "id_card" and c.slot("booking_date") == "2026-12-03"
    assert c.slot("requested_slot") == "booking_county"
    assert len(c.buttons()) == 12 and "区县" in c.said()[0]

    await c.user('/inform{"county":"固安县"}', county="固安县")
    await c.form()
    assert c.slot("booking_county") == "固安县" and c.slot("requested_slot") == "booking_slot"
    titles = [x["title"] for x in c.buttons()]
    assert titles and all(re.search(r"(09|10|11):\d\d-", t) for t in titles)  # the morning
    c.said()

    # a question that fills nothing: the form rejects so that a rule can answer it
    await c.user("身份证要带什么材料", intent="faq")
    with pytest.raises(ActionExecutionRejection):
        await c.form()
    c.tracker.update(ActionExecutionRejected("booking_form"))  # as Rasa's processor logs it
    c.tracker.update(ActionExecuted("utter_faq"))
    c.tracker.update(BotUttered("带好户口簿……"))
    await c.form()  # back to the form: the old question is not read again, the slot re-asked
    assert c.slot("requested_slot") == "booking_slot" and c.slot("booking_slot") is None
    assert c.buttons()
    c.said()

    await c.user("九点半")
    await c.form()
    assert c.slot("booking_slot") and c.slot("requested_slot") == "booker_name"
    assert "您选择的是" in c.said()[0]

    # correction while the name is asked: new day, the time slot is asked again
    await c.user("不对，改成后天吧")
    await c.form()
    assert c.slot("booking_date") == "2026-12-04" and c.slot("booking_slot") is None
    assert c.slot("requested_slot") == "booking_slot"
    c.said()
    await c.user("十点")
    await c.form()
    await c.user("我叫张三")
    await c.form()
    assert c.slot("booker_name") == "张*" and c.slot("requested_slot") == "booker_phone"
    c.said()
    await c.user("手机号 138-1234-5678")
    await c.form()
    assert c.tracker.active_loop_name is None and c.slot("requested_slot") is None
    assert c.slot("booker_phone")["masked"] == "138****5678"

    await c.run(RemoteAction("action_book_slot", c.endpoint))  # type: ignore[arg-type]
    reply = c.said()[0]
    assert "预约成功" in reply and "12月4日" in reply and "10:00-10:30" in reply
    assert "138****5678" in reply and "13812345678" not in reply
    assert c.slot("booker_phone") is None and re.fullmatch(r"YY\w{6}", c.slot("booking_code"))
    # nothing in the conversation's slots holds the full number or name
    assert "13812345678" not in repr(c.tracker.current_slot_values())
    assert "张三" not in repr(c.tracker.current_slot_values())
    with session_scope() as session:
        assert session.execute(select(Booking.code)).scalar_one() == c.slot("booking_code")


async def test_stop_makes_the_form_reject(db: str) -> None:
    c = Conversation()
    await c.user("我要预约", intent="book_appointment")
    await c.form()
    assert c.slot("requested_slot") == "business_type"
    await c.user("算了，明天再说吧", intent="stop")
    with pytest.raises(ActionExecutionRejection):
        await c.form()
    assert c.slot("booking_date") is None


async def test_my_booking_form_with_rasa(db: str) -> None:
    c = Conversation()
    await c.user(
        "我要预约 固安县 身份证 明天下午三点",
        intent="book_appointment",
        business_type="id_card",
        county="固安县",
    )
    await c.form()
    await c.user("李四")
    await c.form()
    await c.user("13900001111")
    await c.form()
    await c.run(RemoteAction("action_book_slot", c.endpoint))  # type: ignore[arg-type]
    code = c.slot("booking_code")
    assert code, c.said()
    c.said()
    await c.user("我的预约", intent="my_booking")
    await c.form("my_booking_form")  # the code of this conversation is prefilled
    assert c.slot("requested_slot") == "booker_phone"
    await c.user("13900001111")
    await c.form("my_booking_form")
    assert c.tracker.active_loop_name is None
    c.said()
    await c.run(RemoteAction("action_my_booking", c.endpoint))  # type: ignore[arg-type]
    reply = c.said()[0]
    assert code in reply and "15:00-15:30" in reply and "139****1111" in reply
