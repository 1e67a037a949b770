"""Booking rules (actions/booking/rules.py): only what the database says is bookable passes.

The rules are pure functions over a session; each test calls them the way the form's
validator does and reads the slot updates and the replies (rendered from data/responses).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select

from actions.booking import rules as r
from actions.booking import verify as v
from actions.booking import windows as w
from bot.db.models import County, Window, WindowBusiness
from bot.db.queries import booking as q
from bot.db.session import session_scope
from tests.actions.booking.conftest import (
    NOW,
    D,
    T,
    booked_code,
    horizon_days,
    phone_value,
    set_capacity,
    slot_id,
    slot_ids,
)
from tests.actions.conftest import render

PLACE = {"business_type": "id_card", "booking_county": "固安县"}
DAY = {**PLACE, "booking_date": "2026-12-03"}


def turn(candidates: dict[str, Any], state: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """One validation turn: the slot updates and what the citizen reads."""
    with session_scope() as session:
        result = r.validate_booking_turn(session, candidates, state, NOW)
    return result.updates, [render({"response": x.response, **x.values}) for x in result.replies]


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("这周六", ["周末", "不办公"]),
        ("12月6日", ["周日", "周末"]),
        ("12月9日", ["测试假日", "不办公"]),  # declared a holiday after its slots were made
        ("昨天", ["已经过去"]),
        ("明年3月1日", ["天以内"]),
        ("随便吧", ["没听懂"]),
    ],
)
def test_bad_days_are_explained_and_cleared(db: str, text: str, needles: list[str]) -> None:
    updates, said = turn({"booking_date": text}, PLACE)
    assert updates == {"booking_date": None}
    assert len(said) == 1 and all(n in said[0] for n in needles), said
    if "天以内" in needles:
        assert f"只能预约{horizon_days()}天以内" in said[0]


def test_working_days_up_to_the_horizon_are_open_later_ones_too_far(db: str) -> None:
    today, horizon = NOW.date(), horizon_days()
    with session_scope() as session:
        last_week = [today + dt.timedelta(days=horizon - d) for d in range(7)]
        assert [d for d in last_week if r.day_problem(session, {}, d, NOW) is None]
        for d in (today + dt.timedelta(days=horizon + k) for k in range(1, 8)):
            problem = r.day_problem(session, {}, d, NOW)
            assert problem is not None
            if q.closed_reason(session, d) is None:
                assert problem.response == "utter_booking_day_too_far", d


def test_a_make_up_working_saturday_and_today_are_bookable(db: str) -> None:
    assert turn({"booking_date": "2026-12-12"}, PLACE) == ({"booking_date": "2026-12-12"}, [])
    assert turn({"booking_date": "今天"}, PLACE) == ({"booking_date": "2026-12-02"}, [])


def test_a_full_day_is_refused_with_the_county_and_business(db: str) -> None:
    for window_slots in slot_ids("固安县", D(2026, 12, 3)).values():
        for sid in window_slots:
            set_capacity(sid, 1, booked=1)
    updates, said = turn({"booking_date": "2026-12-03"}, PLACE)
    assert updates == {"booking_date": None}
    assert "固安县" in said[0] and "居民身份证" in said[0] and "约满" in said[0]


def test_a_free_time_is_taken_directly_with_its_window(db: str) -> None:
    updates, said = turn({"booking_date": "明天", "booking_slot": "15:00"}, PLACE)
    sid = slot_id("固安县", D(2026, 12, 3), T(15, 0))
    assert said == []
    assert updates["booking_date"] == "2026-12-03" and updates["booking_slot"] == str(sid)
    with session_scope() as session:
        assert updates["booking_window"] == str(q.get_slot(session, sid).window_id)  # type: ignore[union-attr]
    # a time inside a slot means that slot
    updates, _ = turn({"booking_slot": "09:45"}, DAY)
    assert updates["booking_slot"] == str(slot_id("固安县", D(2026, 12, 3), T(9, 30)))


def test_a_time_outside_the_hours_is_explained_and_the_half_day_kept(db: str) -> None:
    updates, said = turn({"booking_date": "明天", "booking_slot": "20:00"}, PLACE)
    assert updates["booking_date"] == "2026-12-03" and updates.get("booking_slot") is None
    assert updates["booking_time_pref"] == "evening"
    assert len(said) == 1 and "20:00" in said[0] and "没有可预约" in said[0]


def test_a_time_before_the_day_is_known_becomes_a_preference_then_applies(db: str) -> None:
    updates, said = turn({"booking_slot": "afternoon"}, PLACE)
    assert updates == {"booking_time_pref": "afternoon"} and said == []
    state = {**PLACE, **updates}
    updates, said = turn({"booking_date": "明天"}, state)
    assert updates["booking_date"] == "2026-12-03" and said == []
    assert updates.get("booking_slot") is None and updates["booking_time_pref"] == "afternoon"
    # an exact time is applied as soon as the day is known
    updates, _ = turn({"booking_date": "明天"}, {**PLACE, "booking_time_pref": "10:00"})
    assert updates["booking_slot"] == str(slot_id("固安县", D(2026, 12, 3), T(10, 0)))
    assert updates["booking_time_pref"] is None


def test_a_half_day_that_is_full_is_said(db: str) -> None:
    for window_slots in slot_ids("固安县", D(2026, 12, 3)).values():
        for sid in window_slots[:5]:  # 09:00-11:30
            set_capacity(sid, 1, booked=1)
    updates, said = turn({"booking_slot": "morning"}, DAY)
    assert updates == {"booking_slot": None, "booking_time_pref": None}
    assert said and "上午" in said[0] and "没有可预约" in said[0]
    updates, said = turn({"booking_slot": "afternoon"}, DAY)
    assert updates == {"booking_slot": None, "booking_time_pref": "afternoon"} and said == []


def test_a_correction_of_the_day_clears_the_chosen_time_and_window(db: str) -> None:
    chosen = str(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    state = {**DAY, "booking_slot": chosen, "booking_window": "8"}
    updates, said = turn({"booking_date": "后天"}, state)
    assert updates == {"booking_date": "2026-12-04", "booking_slot": None, "booking_window": None}
    assert said == []
    # the same day again changes nothing
    assert turn({"booking_date": "明天"}, state) == ({"booking_date": "2026-12-03"}, [])


def test_changing_the_county_drops_the_time_and_rechecks_the_day(db: str) -> None:
    chosen = str(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    state = {**DAY, "booking_slot": chosen, "booking_window": "8"}
    updates, said = turn({"booking_county": "三河"}, state)
    assert updates == {"booking_county": "三河市", "booking_slot": None, "booking_window": None}
    assert said == []
    # a new county whose day is full: the day is asked again
    for window_slots in slot_ids("三河市", D(2026, 12, 3)).values():
        for sid in window_slots:
            set_capacity(sid, 1, booked=1)
    updates, said = turn({"booking_county": "三河"}, state)
    assert updates["booking_county"] == "三河市" and updates["booking_date"] is None
    assert "三河市" in said[0] and "约满" in said[0]


def test_business_and_county_that_cannot_be_booked(db: str) -> None:
    updates, said = turn({"business_type": "办护照"}, {})
    assert updates == {"business_type": None} and "暂不能在线预约" in said[0]
    updates, said = turn({"booking_county": "北京朝阳"}, {"business_type": "id_card"})
    assert updates == {"booking_county": None} and "没找到这个区县" in said[0]
    with session_scope() as session:  # 大城县 stops taking residence-permit bookings
        windows = select(Window.id).join(County, County.id == Window.county_id)
        session.execute(
            delete(WindowBusiness).where(
                WindowBusiness.business_code == "residence_permit",
                WindowBusiness.window_id.in_(windows.where(County.name == "大城县")),
            ),
            execution_options={"synchronize_session": False},
        )
    updates, said = turn({"booking_county": "大城"}, {"business_type": "residence_permit"})
    assert updates == {"booking_county": None}
    assert "大城县" in said[0] and "居住证" in said[0] and "没有可预约" in said[0]
    # a business change that the chosen county does not take clears the county
    state = {"business_type": "id_card", "booking_county": "大城县"}
    updates, said = turn({"business_type": "居住证"}, state)
    assert updates == {"business_type": "residence_permit", "booking_county": None}
    assert "大城县" in said[0]


def test_a_slot_button_must_be_free_and_of_the_chosen_place(db: str) -> None:
    sid = slot_id("固安县", D(2026, 12, 3), T(9, 0))
    set_capacity(sid, 1, booked=1)
    for stale in (
        sid,  # full meanwhile
        slot_id("三河市", D(2026, 12, 3), T(10, 0)),  # another county
        slot_id("固安县", D(2026, 12, 3), T(10, 0), business="residence_permit"),
        slot_id("固安县", D(2026, 12, 2), T(9, 0)),  # already past
        999999,
    ):
        updates, said = turn({"booking_slot": str(stale)}, DAY)
        assert updates == {"booking_slot": None}, stale
        assert "约满" in said[0]
    good = slot_id("固安县", D(2026, 12, 4), T(9, 0))
    updates, said = turn({"booking_slot": str(good)}, DAY)  # a button of another day: its day
    assert updates["booking_slot"] == str(good) and updates["booking_date"] == "2026-12-04"


def test_a_window_is_accepted_only_with_free_places_that_day(db: str) -> None:
    windows = slot_ids("固安县", D(2026, 12, 3))
    assert len(windows) == 2
    first, second = windows
    assert turn({"booking_window": str(second)}, DAY) == ({"booking_window": str(second)}, [])
    for sid in windows[second]:
        set_capacity(sid, 1, booked=1)
    other = next(iter(slot_ids("三河市", D(2026, 12, 3))))
    for bad in (str(second), str(other)):
        updates, said = turn({"booking_window": bad}, DAY)
        assert updates == {"booking_window": None} and "约满" in said[0], bad
    for bad in ("abc", "-1"):  # no window's id or name: the county's windows are listed
        updates, said = turn({"booking_window": bad}, DAY)
        assert updates == {"booking_window": None} and "固安县" in said[0], bad
    # a spoken time keeps to the chosen window
    updates, _ = turn({"booking_slot": "10:00"}, {**DAY, "booking_window": str(first)})
    assert updates["booking_slot"] == str(windows[first][2])


def test_names_and_phones_are_kept_masked(db: str) -> None:
    result = r.TurnResult(state={})
    r.validate_name(result, "我叫欧阳娜娜")
    r.validate_phone(result, "手机 138 1234 5678")
    assert result.updates == {"booker_name": "欧某某某", "booker_phone": phone_value("13812345678")}
    assert "13812345678" not in repr(result.updates) and "娜娜" not in repr(result.updates)
    bad = r.TurnResult(state={})
    r.validate_name(bad, "123")
    r.validate_phone(bad, "1381234")
    assert bad.updates == {"booker_name": None, "booker_phone": None}
    said = [render({"response": x.response, **x.values}) for x in bad.replies]
    assert "2-15个汉字" in said[0] and "11位" in said[1] and "1381234" not in said[1]


def test_code_and_phone_are_checked_together(db: str) -> None:
    code = booked_code(slot_id("固安县", D(2026, 12, 3), T(9, 0)))
    with session_scope() as session:
        wrong = v.check_code_and_phone(
            session, {"booker_phone": "13987654321"}, {"booking_code": code}, "conv", None
        )
        found = v.check_code_and_phone(
            session, {"booking_code": code.lower(), "booker_phone": "13812345678"}, {}, "c", None
        )
        bad_code = v.check_code_and_phone(session, {"booking_code": "123456"}, {}, "c2", None)
    assert wrong.updates == {"booking_code": None, "booker_phone": None}
    assert [x.response for x in wrong.replies] == ["utter_booking_not_found_retry"]
    assert found.updates["booking_code"] == code and found.replies == []
    assert (
        found.updates["business_type"] == "id_card" and found.updates["booking_county"] == "固安县"
    )
    assert bad_code.updates == {"booking_code": None}
    assert [x.response for x in bad_code.replies] == ["utter_booking_code_invalid"]


def test_helpers() -> None:
    assert v.mask_code("YY7KQ2MD") == "YY7K****"
    assert r.is_phone_value(phone_value("13812345678"))
    assert not r.is_phone_value({"masked": "138****5678"}) and not r.is_phone_value("13812345678")


def test_a_typed_window_name_chooses_that_window(db: str) -> None:
    windows = slot_ids("固安县", D(2026, 12, 3))
    with session_scope() as session:
        names = {
            w.id: w.name for w in session.scalars(select(Window).where(Window.id.in_(windows)))
        }
    assert len(names) == 2
    for wid, name in names.items():
        typed = w.window_label(name, "固安县")  # as the button shows it: 户政服务大厅 …
        for answer in ({"booking_slot": typed}, {"booking_window": typed}):
            updates, said = turn(answer, DAY)
            assert updates.get("booking_window") == str(wid) and said == [], (answer, said)
    updates, said = turn({"booking_slot": "随便哪个"}, DAY)
    assert "booking_window" not in updates and "没听懂" in said[0]
    by_label = {w.window_label(n, "固安县"): wid for wid, n in names.items()}
    for typed in ("派出所那个", "去户政大厅吧"):
        updates, said = turn({"booking_slot": typed}, DAY)
        wanted = next(wid for label, wid in by_label.items() if typed[1:3] in label)
        assert updates.get("booking_window") == str(wanted) and said == [], typed
