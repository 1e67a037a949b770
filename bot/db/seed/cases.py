"""Sample cases in every stage for every county (SAMPLE data, not real people).

Deterministic (fixed seed) and independent of the day the seed runs (fixed anchor date), with a
stage history; phones exist in plain text only in memory (demos and tests use them) and are
stored as keyed hash + mask.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import namedata
from bot.db.crypto import hash_phone
from bot.db.models import CASE_STAGES, Case, CaseStageEvent, County, Window
from bot.numbers import mask_phone

CASE_SEED = 7
#: Cases are dated relative to this fixed day so case numbers never depend on when the seed ran.
CASE_ANCHOR = dt.date(2026, 11, 24)
CASES_PER_STAGE = 3

_MISSING_MATERIALS: dict[str, list[list[str]]] = {
    "id_card": [["近6个月内免冠白底证件照回执（照片不清晰）"], ["户口簿本人页（上传不完整）"]],
    "hukou_move_in": [
        ["房屋不动产权证书原件照片（上传照片模糊）", "户口簿户主页"],
        ["劳动合同（需加盖单位公章）", "社保缴纳证明（近6个月）"],
        ["结婚证（投靠配偶）"],
    ],
    "birth_registration": [["《出生医学证明》原件照片", "父母双方结婚证"]],
    "residence_permit": [["居住证明（房屋租赁合同）", "近6个月社保缴纳证明"]],
    "hukou_booklet": [["户主居民身份证照片（反面缺失）"]],
    "certificate": [["亲属关系证明材料（出生医学证明或户口簿）"]],
    "death_deregistration": [["《死亡医学证明》或火化证明"]],
    "other": [["申请材料照片不清晰，请重新上传"]],
}

_COURIERS = ("EMS", "顺丰速运", "中国邮政")


@dataclass(frozen=True)
class SampleCase:
    """A generated sample case (the plain phone exists only in memory, for demos/tests)."""

    case_number: str
    county: str
    business_code: str
    stage: str
    phone: str
    history: tuple[tuple[str, dt.datetime, str], ...]
    window_name: str | None
    missing_materials: tuple[str, ...]
    courier_company: str | None
    courier_number: str | None
    applicant_masked: str


def _stage_path(stage: str, business: str, detour: bool) -> list[str]:
    if stage in ("submitted", "pre_review"):
        return ["submitted", "pre_review"][: CASE_STAGES.index(stage) + 1]
    if stage == "materials_needed":
        return ["submitted", "pre_review", "materials_needed"]
    path = ["submitted", "pre_review"]
    if detour:
        path += ["materials_needed", "pre_review"]
    path.append("pre_review_passed")
    later = ["accepted"]
    if business == "id_card":
        later.append("card_making")
    if business in ("id_card", "hukou_booklet", "certificate"):
        later.append("mailed")
    later.append("completed")
    if stage != "pre_review_passed" and stage not in later:
        raise ValueError(f"stage {stage} does not occur for business {business}")
    for item in later:
        if CASE_STAGES.index(item) > CASE_STAGES.index(stage):
            break
        path.append(item)
    return path


_NOTES = {
    "submitted": "网上申请已提交",
    "pre_review": "户籍民警预审核中",
    "pre_review_passed": "预审核通过，请携带原件到窗口办理",
    "materials_needed": "预审核未通过：材料需补充",
    "accepted": "窗口已受理",
    "card_making": "证件制作中",
    "mailed": "已寄出",
    "completed": "已办结",
}

_STAGE_BUSINESS: dict[str, Sequence[str]] = {
    "card_making": ("id_card",),
    "mailed": ("id_card", "hukou_booklet", "certificate"),
}
_GENERAL_BUSINESS = (
    "id_card", "hukou_move_in", "birth_registration", "residence_permit", "hukou_booklet",
    "certificate", "death_deregistration",
)  # fmt: skip


def sample_cases(
    counties: Sequence[str],
    windows: dict[str, str],
    anchor: dt.date = CASE_ANCHOR,
    per_stage: int = CASES_PER_STAGE,
) -> list[SampleCase]:
    """Generate the deterministic sample cases (every stage in every county).

    Args:
        counties: county names in seed order.
        windows: county name -> name of the window citizens are sent to.
        anchor: the "today" of the sample (newest submission day).
        per_stage: cases per stage and county.

    Returns:
        The cases; phones are synthetic and only returned so demos/tests can query them.

    """
    rng = random.Random(CASE_SEED)
    surnames = list(namedata.SURNAMES)[:60]
    used: set[str] = set()
    result = []
    for county in counties:
        for stage in CASE_STAGES:
            for _ in range(per_stage):
                business = rng.choice(_STAGE_BUSINESS.get(stage, _GENERAL_BUSINESS))
                age_days = {
                    "submitted": 0, "pre_review": 1, "pre_review_passed": 2,
                    "materials_needed": 2, "accepted": 5, "card_making": 8, "mailed": 14,
                    "completed": 25,
                }[stage] + rng.randint(0, 4)  # fmt: skip
                submitted_day = anchor - dt.timedelta(days=age_days)
                while True:
                    number = f"SL{submitted_day:%Y%m%d}{rng.randint(0, 9999):04d}"
                    if number not in used:
                        used.add(number)
                        break
                phone = f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
                path = _stage_path(stage, business, detour=rng.random() < 0.4)
                start = dt.datetime.combine(submitted_day, dt.time(8 + rng.randint(0, 10)))
                history = []
                moment = start
                for step, item in enumerate(path):
                    if step:
                        moment = moment + dt.timedelta(hours=rng.randint(3, 30))
                    if moment.date() > anchor:
                        moment = dt.datetime.combine(anchor, dt.time(7, step % 60))
                    note = _NOTES[item]
                    history.append((item, moment - dt.timedelta(hours=8), note))  # to UTC
                missing: tuple[str, ...] = ()
                if stage == "materials_needed":
                    missing = tuple(rng.choice(_MISSING_MATERIALS[business]))
                courier_company = courier_number = None
                if "mailed" in path:
                    courier_company = rng.choice(_COURIERS)
                    digits = f"{rng.randint(0, 10**12 - 1):012d}"
                    courier_number = (
                        ("SF1" + digits) if courier_company == "顺丰速运" else "1" + digits
                    )
                result.append(
                    SampleCase(
                        case_number=number,
                        county=county,
                        business_code=business,
                        stage=stage,
                        phone=phone,
                        history=tuple(history),
                        window_name=windows.get(county),
                        missing_materials=missing,
                        courier_company=courier_company,
                        courier_number=courier_number,
                        applicant_masked=rng.choice(surnames) + "*" * rng.choice((1, 2)),
                    )
                )
    return result


def sample_cases_for(session: Session, anchor: dt.date = CASE_ANCHOR) -> list[SampleCase]:
    """Return the sample cases the seed writes for the counties and windows in the database.

    Demos and tests use it to know a case's (synthetic) phone number.

    Args:
        session: open session.
        anchor: the sample's "today".

    Returns:
        The deterministic sample cases.

    """
    counties = {c.id: c.name for c in session.scalars(select(County).order_by(County.id))}
    windows: dict[str, str] = {}
    for window in session.scalars(select(Window).order_by(Window.id)):
        windows.setdefault(counties[window.county_id], window.name)
    return sample_cases(list(counties.values()), windows, anchor)


def seed_cases(session: Session, anchor: dt.date = CASE_ANCHOR) -> list[SampleCase]:
    """Upsert the sample cases (by case number) and replace their stage history.

    Args:
        session: an open session (the caller commits).
        anchor: the sample's "today".

    Returns:
        The sample cases written.

    """
    counties = {c.name: c.id for c in session.scalars(select(County).order_by(County.id))}
    window_ids = {w.name: w.id for w in session.scalars(select(Window))}
    cases = sample_cases_for(session, anchor)
    existing = {
        c.case_number: c
        for c in session.scalars(
            select(Case).where(Case.case_number.in_([s.case_number for s in cases]))
        )
    }
    for sample in cases:
        values = {
            "business_code": sample.business_code,
            "county_id": counties[sample.county],
            "stage": sample.stage,
            "window_id": window_ids.get(sample.window_name or ""),
            "missing_materials": list(sample.missing_materials) or None,
            "courier_company": sample.courier_company,
            "courier_number": sample.courier_number,
            "applicant_masked": sample.applicant_masked,
            "phone_hash": hash_phone(sample.phone),
            "phone_masked": mask_phone(sample.phone),
            "created_at": sample.history[0][1],
            "updated_at": sample.history[-1][1],
        }
        row = existing.get(sample.case_number)
        if row is None:
            row = Case(case_number=sample.case_number, **values)
            session.add(row)
        else:
            for key, value in values.items():
                if getattr(row, key) != value:
                    setattr(row, key, value)
            current = [(e.stage, e.created_at, e.note) for e in row.events]
            if current == list(sample.history):
                continue  # unchanged: keep the rows (and their ids) as they are
            row.events.clear()
            session.flush()
        row.events.extend(
            CaseStageEvent(stage=stage, note=note, created_at=when)
            for stage, when, note in sample.history
        )
    session.flush()
    return cases
