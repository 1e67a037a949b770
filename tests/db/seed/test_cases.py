"""The seed's sample cases: every stage in every county, coherent, no plain phone numbers."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db.models import CASE_STAGES, Case, CaseStageEvent, County


def test_every_stage_in_every_county(seeded_engine: Engine) -> None:
    with Session(seeded_engine, future=True) as session:
        counties = session.scalars(select(County.name)).all()
        assert len(counties) == 12
        pairs = set(session.execute(select(County.name, Case.stage).join(Case.county)).all())
        assert pairs == {(c, s) for c in counties for s in CASE_STAGES}


def test_cases_have_a_coherent_history_and_stage_details(seeded_engine: Engine) -> None:
    with Session(seeded_engine, future=True) as session:
        for case in session.scalars(select(Case)):
            stages = [e.stage for e in sorted(case.events, key=lambda e: (e.created_at, e.id))]
            assert stages[0] == "submitted" and stages[-1] == case.stage
            assert re.fullmatch(r"SL\d{12}", case.case_number)
            if case.stage == "pre_review_passed":
                assert case.window_id is not None
            if case.stage == "materials_needed":
                assert case.missing_materials
            if case.stage == "mailed":
                assert case.courier_number and case.courier_company
            if case.stage == "card_making":
                assert case.business_code == "id_card"


def test_no_plain_phone_numbers_are_stored(seeded_engine: Engine) -> None:
    with Session(seeded_engine, future=True) as session:
        for case in session.scalars(select(Case)):
            assert re.fullmatch(r"1[3-9]\d\*{4}\d{4}", case.phone_masked)
            assert re.fullmatch(r"[0-9a-f]{64}", case.phone_hash)
        for note in session.scalars(select(CaseStageEvent.note)):
            assert not re.search(r"1[3-9]\d{9}", note or "")
