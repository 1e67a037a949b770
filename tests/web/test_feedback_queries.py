"""The feedback table and its queries, on SQLite and on PostgreSQL (migrated schema)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import migrate
from bot.db.models import Feedback
from bot.db.queries.feedback import list_feedback, ratings_for_conversation, save_feedback
from bot.db.session import make_engine

PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('feedback') / 'fb.db'}"
        migrate.upgrade(url)
        eng = make_engine(url)
        yield eng
        eng.dispose()
        return
    name = f"webchat_fb_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        admin.dispose()
        pytest.skip(f"PostgreSQL not available: {exc}")
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    try:
        migrate.upgrade(url)
        eng = make_engine(url)
        yield eng
        eng.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _save(session: Session, cid: str, mid: str, rating: str, user: str = "问") -> None:
    save_feedback(
        session,
        conversation_id=cid,
        bot_message_id=mid,
        bot_text="答：请带身份证",
        user_text=user,
        rating=rating,
    )


def test_save_replace_and_list(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        _save(session, "c1", "m1", "down", user="我的电话13812345678，身份证11010519491231002X")
        _save(session, "c1", "m2", "up")
        _save(session, "c2", "m1", "down")
    with Session(engine) as session, session.begin():
        _save(session, "c1", "m1", "up")  # changed their mind
    with Session(engine) as session:
        assert ratings_for_conversation(session, "c1") == {"m1": "up", "m2": "up"}
        downs = list_feedback(session, rating="down")
        assert [(r.conversation_id, r.bot_message_id) for r in downs] == [("c2", "m1")]
        everything = list_feedback(session)
        assert len(everything) == 3
        stored_user = next(
            r.user_text
            for r in everything
            if r.conversation_id == "c1" and r.bot_message_id == "m1"
        )
        assert stored_user == "我的电话138****5678，身份证1101**********002X"


def test_invalid_ratings_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(ValueError):
            _save(session, "c1", "m1", "meh")
    with Session(engine) as session:
        session.add(Feedback(conversation_id="c", bot_message_id="m", bot_text="t", rating="meh"))
        with pytest.raises(IntegrityError):
            session.flush()


def test_one_row_per_message(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Feedback(conversation_id="c", bot_message_id="m", bot_text="t", rating="up"))
        session.add(Feedback(conversation_id="c", bot_message_id="m", bot_text="t", rating="down"))
        with pytest.raises(IntegrityError):
            session.flush()
