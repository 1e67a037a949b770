"""Newborn duplicate-name check: extraction, validation reasons, counts and verdicts."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.names import (
    ActionCheckName,
    ActionClearNameSlots,
    ValidateNameCheckForm,
    check_newborn_name,
)
from actions.validation import split_name, validate_name
from bot import knowledge
from bot.db.models import LookupAudit, NameCount
from bot.db.queries.names import MANY_HOLDERS, count_holders_live
from bot.db.session import session_scope
from tests.actions.conftest import make_tracker, render, run, slot_events, texts


async def _validate(tracker: Any, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await ValidateNameCheckForm().run(dispatcher, tracker, domain)
    return slot_events(events), texts(dispatcher)


def _check(
    name: str, gender: str | None = None, sender: str = "conv-name"
) -> tuple[list[str], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "name_form_submitted",
        slots={"newborn_name": name, "newborn_gender": gender},
        sender_id=sender,
    )
    events = run(ActionCheckName().run(dispatcher, tracker, {}))
    return texts(dispatcher), slot_events(events)


# ------------------------------------------------------------------ extraction and validation


@pytest.mark.parametrize(
    ("typed", "fixture", "name", "gender"),
    [
        ("张一诺", "name_form_requested", "张一诺", None),
        ("帮我查下叫李子涵的多不多", "name_form_activation", "李子涵", None),
        ("男孩 王梓轩", "name_form_activation", "王梓轩", "male"),
        ("女宝宝叫李沐瑶，重名多吗", "name_form_activation", "李沐瑶", "female"),
        ("王 梓轩", "name_form_requested", "王梓轩", None),
        ("我想给孩子起名叫欧阳娜娜", "name_form_activation", "欧阳娜娜", None),
        ("诸葛亮重名吗", "name_form_activation", "诸葛亮", None),
        ("张喆", "name_form_requested", "张喆", None),
    ],
)
def test_names_are_taken_from_free_text(
    typed: str, fixture: str, name: str, gender: str | None, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(fixture, text=typed, candidates={"newborn_name": typed})
    slots, said = run(_validate(tracker, domain))
    assert slots["newborn_name"] == name
    assert slots.get("newborn_gender") == gender
    assert said == []


@pytest.mark.parametrize(
    ("name", "surname", "given"),
    [
        ("欧阳娜娜", "欧阳", "娜娜"),
        ("司马相如", "司马", "相如"),
        ("诸葛亮", "诸葛", "亮"),
        ("欧阳", "欧", "阳"),
        ("张一诺", "张", "一诺"),
    ],
)
def test_compound_surnames_are_split(name: str, surname: str, given: str) -> None:
    assert split_name(name) == (surname, given)
    assert validate_name(name).surname == surname


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("张3", "数字"),
        ("Zhang伟", "英文字母"),
        ("张@伟", "符号"),
        ("张一诺😀", "表情"),
        ("张一诺诺诺诺诺", "最多6个汉字"),
        ("張偉", "通用规范汉字表"),
        ("王龘", "“龘”"),
    ],
)
def test_bad_names_are_rejected_with_a_reason(
    typed: str, reason: str, domain: dict[str, Any]
) -> None:
    tracker = make_tracker("name_form_requested", text=typed, candidates={"newborn_name": typed})
    slots, said = run(_validate(tracker, domain))
    assert slots["newborn_name"] is None
    assert len(said) == 1 and reason in said[0], said


def test_request_without_a_name_just_lets_the_form_ask(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        "name_form_activation", text="新生儿重名查询", candidates={"newborn_name": "新生儿重名查询"}
    )
    slots, said = run(_validate(tracker, domain))
    assert slots["newborn_name"] is None and said == []


def test_single_character_is_not_a_full_name(domain: dict[str, Any]) -> None:
    tracker = make_tracker("name_form_requested", text="张", candidates={"newborn_name": "张"})
    slots, said = run(_validate(tracker, domain))
    assert slots["newborn_name"] is None and "姓和名" in said[0]


# ------------------------------------------------------------------ counts (SQLite + PostgreSQL)


def _names_with(predicate: Any) -> str:
    with session_scope() as session:
        for row in session.scalars(select(NameCount).order_by(NameCount.total.desc()).limit(5000)):
            if predicate(row):
                return str(row.full_name)
    raise AssertionError("no such name in the sample registry")


def test_reply_counts_match_the_registry(action_db: str) -> None:
    name = _names_with(lambda r: r.male > 0 and r.female > 0)
    with session_scope() as session:
        live = count_holders_live(session, name)
    said, slots = _check(name)
    assert f"“{name}”" in said[0]
    assert f"已登记同名{live.total}人（男{live.male}人，女{live.female}人）" in said[0]
    assert slots == {"newborn_name": None, "newborn_gender": None}


def test_requested_gender_is_counted(action_db: str) -> None:
    name = _names_with(lambda r: r.male > 0 and r.female > 0)
    with session_scope() as session:
        live = count_holders_live(session, name)
    said, _ = _check(name, "female")
    assert f"其中女性{live.female}人" in said[0]
    assert "按女性统计" in said[0]


def test_verdicts(action_db: str) -> None:
    many = _names_with(lambda r: r.total >= MANY_HOLDERS)
    few = _names_with(lambda r: 0 < r.total < MANY_HOLDERS)
    assert "结论：重名较多" in _check(many)[0][0]
    assert "结论：重名较少" in _check(few)[0][0]
    none_said = _check("司空梓萱")[0][0]
    assert "已登记同名0人" in none_said and "结论：暂无重名" in none_said


def test_popular_names_have_many_holders_rare_ones_few(action_db: str) -> None:
    with session_scope() as session:
        zhang_wei = count_holders_live(session, "张伟")
        rare = count_holders_live(session, "澹台沐宸")
    assert zhang_wei.total >= MANY_HOLDERS
    assert rare.total == 0


def test_reply_never_describes_a_holder(action_db: str) -> None:
    said, _ = _check("张伟")
    reply = said[0]
    for word in ("出生", "年龄", "住址", "身份证号", "县", "区"):
        assert word not in reply, word
    assert not re.search(r"(19|20)\d\d年", reply)


def test_name_check_is_audited_without_the_name(action_db: str) -> None:
    _check("王梓轩", sender="conv-name-audit")
    with session_scope() as session:
        rows = session.scalars(
            select(LookupAudit).where(LookupAudit.conversation_id == "conv-name-audit")
        ).all()
        assert [(r.kind, r.outcome) for r in rows] == [("name_check", "ok")]
        assert all(
            "王梓轩" not in str(getattr(rows[0], c.name)) for c in LookupAudit.__table__.columns
        )


def test_log_lines_mask_the_name(action_db: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        _check("王梓轩")
    assert "王**" in caplog.text and "王梓轩" not in caplog.text


def test_database_outage_gets_busy_reply(unreachable_db: None) -> None:
    said, slots = _check("张一诺")
    assert said == ["系统繁忙，请稍后再试。您也可以说“留言”，户籍民警会联系您。"]
    assert slots["newborn_name"] is None


def test_stop_clears_the_form_slots() -> None:
    tracker = make_tracker(
        "name_form_requested", slots={"newborn_name": "王梓轩", "newborn_gender": "male"}
    )
    events = run(ActionClearNameSlots().run(CollectingDispatcher(), tracker, {}))
    assert slot_events(events) == {"newborn_name": None, "newborn_gender": None}


def test_gender_can_be_corrected(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        "name_form_requested",
        text="说错了，是女孩，叫李沐瑶",
        slots={"newborn_gender": "male"},
        candidates={"newborn_name": "说错了，是女孩，叫李沐瑶"},
    )
    slots, said = run(_validate(tracker, domain))
    assert slots == {"newborn_name": "李沐瑶", "newborn_gender": "female"}
    assert said == []


# ------------------------------------------------------- the 《通用规范汉字表》 (8,105 characters)


@pytest.mark.parametrize("name", ["王旸", "李湉", "张沄", "赵昳", "陈珵", "刘炘", "周钖", "吴洺"])
def test_characters_of_the_standard_table_are_accepted(name: str) -> None:
    # in the table but not in GB 2312: the old approximation refused them
    check = check_newborn_name(name)
    assert check.ok, check.reply
    assert check.name == name


@pytest.mark.parametrize(("name", "char"), [("王亻", "亻"), ("李氵", "氵"), ("张琸", "琸")])
def test_characters_outside_the_table_may_not_be_registrable(name: str, char: str) -> None:
    check = check_newborn_name(name)
    assert not check.ok and check.reply is not None
    text = render({"response": check.reply.response, **check.reply.values})
    assert f"“{char}”" in text
    assert "可能无法登记，以派出所为准" in text


def test_the_shipped_table_has_all_8105_characters() -> None:
    table = knowledge.standard_hanzi()
    assert len(table) == 8105
    assert {"旸", "湉", "喆", "堃"} <= table and not {"亻", "琸", "張"} & table


def test_refusal_is_the_reply_of_the_form(domain: dict[str, Any]) -> None:
    tracker = make_tracker("name_form_requested", text="张琸", candidates={"newborn_name": "张琸"})
    slots, said = run(_validate(tracker, domain))
    assert slots["newborn_name"] is None
    assert said and "可能无法登记，以派出所为准" in said[0]
