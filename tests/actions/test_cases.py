"""Case status: form validation, the lookup action, the rate limit, the audit, an outage."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, update

from actions.cases import ActionCaseStatus, ActionClearCaseSlots, ValidateCaseStatusForm
from bot.db.models import LookupAudit
from bot.db.seed import SampleCase, sample_cases_for
from bot.db.session import session_scope
from tests.actions.conftest import make_tracker, run, slot_events, texts


def _samples() -> list[SampleCase]:
    with session_scope() as session:
        return sample_cases_for(session)


def _case(stage: str, business: str | None = None) -> SampleCase:
    for case in _samples():
        if case.stage == stage and (business is None or case.business_code == business):
            return case
    raise AssertionError(f"no sample case in stage {stage}")


def _wrong_last4(case: SampleCase) -> str:
    return f"{(int(case.phone[-4:]) + 1) % 10000:04d}"


async def _validate(tracker: Any, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = await ValidateCaseStatusForm().run(dispatcher, tracker, domain)
    return slot_events(events), texts(dispatcher)


def _lookup(
    case_number: str, factor: str, sender: str, client: str | None = None
) -> tuple[list[str], dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "case_form_submitted",
        slots={"case_number": case_number, "phone_last4": factor},
        sender_id=sender,
    )
    if client:
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                event["metadata"] = {"client_key": client}
                break
    events = run(ActionCaseStatus().run(dispatcher, tracker, {}))
    return texts(dispatcher), slot_events(events), dispatcher.messages


def _age_lookups(seconds: int) -> None:
    with session_scope() as session:
        session.execute(
            update(LookupAudit).values(
                created_at=LookupAudit.created_at - dt.timedelta(seconds=seconds)
            )
        )


# ------------------------------------------------------------------ validation (no database)


@pytest.mark.parametrize(
    "typed",
    [
        "SL202611050123",
        "sl202611050123",
        "ＳＬ２０２６１１０５０１２３",
        "SL 2026 1105 0123",
        "编号是sl-2026-1105-0123",
    ],
)
def test_case_number_formats_are_normalised(typed: str, domain: dict[str, Any]) -> None:
    tracker = make_tracker("case_form_requested", text=typed, candidates={"case_number": typed})
    slots, said = run(_validate(tracker, domain))
    assert slots["case_number"] == "SL202611050123"
    assert said == []


def test_wrong_length_case_number_is_rejected_with_a_reason(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        "case_form_requested", text="SL2026110501", candidates={"case_number": "SL2026110501"}
    )
    slots, said = run(_validate(tracker, domain))
    assert slots["case_number"] is None
    assert len(said) == 1 and "12位数字" in said[0] and "10位" in said[0]


def test_activation_phrase_without_number_asks_silently(domain: dict[str, Any]) -> None:
    tracker = make_tracker("case_form_activation", candidates={"case_number": "我的身份证办到哪了"})
    slots, said = run(_validate(tracker, domain))
    assert slots["case_number"] is None
    assert said == []  # the form simply asks for the number


@pytest.mark.parametrize(
    "text",
    [
        "我的身份证办到哪了 SL202611050123 手机尾号5678",
        "SL202611050123 5678",
        "ＳＬ２０２６１１０５０１２３　５６７８",
        "sl202611050123，5678",
    ],
)
def test_number_and_last4_in_one_message_fill_both(text: str, domain: dict[str, Any]) -> None:
    tracker = make_tracker("case_form_activation", text=text, candidates={"case_number": text})
    slots, said = run(_validate(tracker, domain))
    assert slots == {"case_number": "SL202611050123", "phone_last4": "5678"}
    assert said == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("5678", "5678"),
        ("尾号是５６７８", "5678"),
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
    ],
)
def test_last4_accepts_four_digits_or_a_full_phone(
    typed: str, expected: str, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        "case_form_requested",
        text=typed,
        slots={"case_number": "SL202611050123", "requested_slot": "phone_last4"},
        candidates={"phone_last4": typed},
    )
    slots, said = run(_validate(tracker, domain))
    # A full number is kept for this turn's lookup (the tracker store masks it).
    assert slots["phone_last4"] == expected
    assert said == []


@pytest.mark.parametrize("typed", ["567", "不知道", "56789"])
def test_bad_last4_is_rejected_with_a_reason(typed: str, domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        "case_form_requested",
        text=typed,
        slots={"case_number": "SL202611050123", "requested_slot": "phone_last4"},
        candidates={"phone_last4": typed},
    )
    slots, said = run(_validate(tracker, domain))
    assert slots["phone_last4"] is None
    assert len(said) == 1 and "4位" in said[0]


def test_a_factor_cleared_by_the_last_lookup_is_not_complained_about(
    domain: dict[str, Any],
) -> None:
    # After a failed lookup the form is asked again; the cleared factor is no bad input.
    tracker = make_tracker(
        "case_form_requested",
        text="1234",
        slots={"case_number": None, "requested_slot": None},
        candidates={"phone_last4": None},
    )
    slots, said = run(_validate(tracker, domain))
    assert slots.get("phone_last4") is None
    assert said == []


# ------------------------------------------------------------------ lookups (SQLite + PostgreSQL)


def test_each_stage_gets_its_next_step(action_db: str) -> None:
    expectations = {
        "submitted": ["已提交", "24小时"],
        "pre_review": ["预审核中", "24小时"],
        "accepted": ["已受理"],
        "card_making": ["制作中", "邮寄或通知领取"],
        "completed": ["已办结"],
    }
    for stage, needles in expectations.items():
        case = _case(stage)
        said, _, _ = _lookup(case.case_number, case.phone[-4:], f"conv-{stage}")
        assert len(said) == 1
        for needle in needles:
            assert needle in said[0], (stage, said[0])
        assert case.case_number in said[0]
        if stage == "card_making":  # 15 working days is the online replacement's limit only
            assert "15个工作日" not in said[0]


def test_pre_review_passed_names_the_window(action_db: str) -> None:
    case = _case("pre_review_passed")
    said, slots, messages = _lookup(case.case_number, case.phone[-4:], "conv-window")
    assert "原件" in said[0]
    assert case.window_name and case.window_name in said[0]
    assert "地址：" in said[0] and "电话：" in said[0]
    assert messages[0]["buttons"][0]["payload"] == "/book_appointment"


def test_materials_needed_lists_the_missing_materials(action_db: str) -> None:
    case = _case("materials_needed")
    said, _, _ = _lookup(case.case_number, case.phone[-4:], "conv-materials")
    assert case.missing_materials
    for item in case.missing_materials:
        assert item in said[0]
    assert "重新上传" in said[0]


def test_mailed_gives_the_courier_number(action_db: str) -> None:
    case = _case("mailed")
    said, _, _ = _lookup(case.case_number, case.phone[-4:], "conv-mailed")
    assert case.courier_number and case.courier_number in said[0]
    assert case.courier_company and case.courier_company in said[0]


def test_unknown_case_and_wrong_factor_get_the_same_reply(action_db: str) -> None:
    case = _case("accepted")
    wrong_factor, _, _ = _lookup(case.case_number, _wrong_last4(case), "conv-a")
    unknown, _, _ = _lookup("SL209901010000", case.phone[-4:], "conv-b")
    # The same reply, but for the case number the citizen typed.
    assert wrong_factor[0].replace(case.case_number, "X") == unknown[0].replace(
        "SL209901010000", "X"
    )
    assert "没有查到" in wrong_factor[0]
    assert case.stage not in wrong_factor[0] and "已受理" not in wrong_factor[0]


def test_slots_are_cleared_after_a_lookup(action_db: str) -> None:
    case = _case("submitted")
    _, slots, _ = _lookup(case.case_number, _wrong_last4(case), "conv-counter")
    assert slots["phone_last4"] is None  # the case number is kept for the retry
    _, slots, _ = _lookup(case.case_number, case.phone[-4:], "conv-counter-ok")
    assert slots["phone_last4"] is None and slots["case_number"] is None


def test_a_failed_lookup_asks_for_the_digits_again_then_the_right_ones_work(
    action_db: str,
) -> None:
    case = _case("mailed")
    said, slots, _ = _lookup(case.case_number, _wrong_last4(case), "conv-retry")
    assert "没有查到" in said[0] and "重新输入手机号后4位" in said[0]
    tracker = make_tracker(
        "case_form_submitted",
        slots={"case_number": case.case_number, "phone_last4": _wrong_last4(case)},
        sender_id="conv-retry",
    )
    events = run(ActionCaseStatus().run(CollectingDispatcher(), tracker, {}))
    assert [e["name"] for e in events if e.get("event") == "followup"] == ["case_status_form"]
    said, _, _ = _lookup(case.case_number, case.phone[-4:], "conv-retry")
    assert case.courier_number and case.courier_number in said[0]


def test_a_conversation_is_slowed_down_after_three_failures(action_db: str) -> None:
    cases = _samples()
    for case in cases[:3]:  # three free failures (different existing cases)
        said, _, _ = _lookup(case.case_number, _wrong_last4(case), "conv-slow")
        assert "没有查到" in said[0]
    good = cases[10]
    said, _, _ = _lookup(good.case_number, good.phone[-4:], "conv-slow")
    assert "没有查到" not in said[0] and good.case_number in said[0]  # 3 failures: still free
    said, _, _ = _lookup(cases[4].case_number, _wrong_last4(cases[4]), "conv-slow")
    said, _, _ = _lookup(good.case_number, good.phone[-4:], "conv-slow")
    assert "30秒后再试" in said[0] and good.case_number not in said[0]
    _age_lookups(31)
    said, _, _ = _lookup(good.case_number, good.phone[-4:], "conv-slow")
    assert good.case_number in said[0]  # the delay passed


def test_new_conversations_from_one_client_do_not_escape_the_limit(action_db: str) -> None:
    cases = _samples()
    for i, case in enumerate(cases[:11]):
        _lookup(case.case_number, _wrong_last4(case), f"fresh-{i}", client="ip-attacker")
    good = cases[12]
    said, _, _ = _lookup(good.case_number, good.phone[-4:], "fresh-new", client="ip-attacker")
    assert "后再试" in said[0]
    said, _, _ = _lookup(good.case_number, good.phone[-4:], "owner", client="ip-owner")
    assert good.case_number in said[0]


def test_a_stranger_guessing_one_case_cannot_lock_the_owner_out(action_db: str) -> None:
    target = _case("card_making")
    for attempt in range(20):  # guesses from 20 conversations and clients
        _lookup(target.case_number, _wrong_last4(target), f"g-{attempt}", client=f"ip-{attempt}")
    # The owner's last 4 digits are no longer enough for this case: the full number is.
    said, slots, messages = _lookup(target.case_number, target.phone[-4:], "owner", "ip-owner")
    assert "完整手机号码" in said[0] and slots["case_full_phone_required"] is True
    said, _, _ = _lookup(target.case_number, target.phone, "owner", "ip-owner")
    assert target.case_number in said[0] and "证件制作" in said[0]
    # A stranger cannot search the full number space: wrong full numbers just fail.
    said, _, _ = _lookup(target.case_number, "13900000000", "g-x", client="ip-x")
    assert "没有查到" in said[0]
    # An unknown case number under the same attack gets the same replies.
    for attempt in range(5):
        _lookup("SL209901010000", "1234", f"u-{attempt}", client=f"ipu-{attempt}")
    unknown, _, _ = _lookup("SL209901010000", "1234", "u-x", client="ipu-x")
    assert "完整手机号码" in unknown[0]


def test_each_lookup_is_audited_without_the_factor(action_db: str) -> None:
    case = _case("pre_review")
    factor = case.phone[-4:]
    _lookup(case.case_number, factor, "conv-audit")
    _lookup(case.case_number, _wrong_last4(case), "conv-audit")
    with session_scope() as session:
        rows = session.scalars(
            select(LookupAudit).where(LookupAudit.conversation_id == "conv-audit")
        ).all()
        assert [r.outcome for r in rows] == ["ok", "mismatch"]
        for row in rows:
            assert row.kind == "case_status"
            assert row.case_number_masked == f"{case.case_number[:6]}****{case.case_number[-4:]}"
            assert re.fullmatch(r"[0-9a-f]{64}", row.case_number_hash or "")
            values = [str(getattr(row, c.name)) for c in LookupAudit.__table__.columns]
            assert not any(factor in v for v in values if v != row.case_number_masked)
            assert case.case_number not in values


def test_log_lines_do_not_carry_the_case_number_or_factor(
    action_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    case = _case("accepted")
    with caplog.at_level(logging.DEBUG):
        _lookup(case.case_number, case.phone[-4:], "conv-log")
    assert caplog.records, "the lookup is logged"
    assert case.case_number not in caplog.text
    assert case.phone not in caplog.text


def test_database_outage_gets_busy_reply_and_clears_slots(unreachable_db: None) -> None:
    said, slots, messages = _lookup("SL202611050123", "5678", "conv-down")
    assert len(messages) == 1
    assert messages[0]["response"] == "utter_service_unavailable"
    assert slots["case_number"] is None and slots["phone_last4"] is None


def test_busy_reply_text_in_domain(domain: dict[str, Any]) -> None:
    assert domain["responses"]["utter_service_unavailable"][0]["text"].startswith(
        "系统繁忙，请稍后再试"
    )


def test_stop_clears_the_form_slots() -> None:
    tracker = make_tracker("case_form_requested", slots={"case_number": "SL202611050123"})
    events = run(ActionClearCaseSlots().run(CollectingDispatcher(), tracker, {}))
    assert slot_events(events) == {
        "case_number": None,
        "phone_last4": None,
        "case_full_phone_required": None,
    }


def test_a_corrected_case_number_at_the_factor_step_replaces_the_old_one(
    domain: dict[str, Any],
) -> None:
    text = "不对，编号是SL202611050124"
    tracker = make_tracker(
        "case_form_requested",
        text=text,
        slots={"case_number": "SL202611050123", "requested_slot": "phone_last4"},
        candidates={"phone_last4": text},
    )
    slots, said = run(_validate(tracker, domain))
    assert slots == {"phone_last4": None, "case_number": "SL202611050124"}
    assert said == []
