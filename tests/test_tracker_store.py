"""The conversation store never keeps personal numbers in full (SQLite and PostgreSQL)."""

import uuid

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import MaskingSQLTrackerStore, watch_turn
from tests.cluster.services import missing

PHONE, ID_NUMBER = "13812345678", "11010519491231002X"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg_url():
    try:
        engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"test_tracker_{uuid.uuid4().hex[:8]}"
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        return engine, name
    except sa.exc.OperationalError:
        return None, None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    engine, name = _pg_url()
    if engine is None:
        missing("PostgreSQL at 127.0.0.1:5432")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_events_are_stored_masked(store_url):
    domain = Domain.from_yaml("slots:\n  booker_phone:\n    type: text\n    mappings: []\n")
    store = MaskingSQLTrackerStore(domain=domain, host=store_url)
    tracker = DialogueStateTracker.from_events(
        "citizen-1",
        [
            UserUttered(
                f"我的电话{PHONE}，身份证{ID_NUMBER}",
                intent={"name": "inform", "confidence": 0.9},
                entities=[{"entity": "phone_number", "value": PHONE, "start": 4, "end": 15}],
            ),
            SlotSet("booker_phone", PHONE),
            BotUttered(f"已记录您的电话{PHONE}"),
        ],
    )
    await store.save(tracker)
    with store.engine.connect() as conn:
        rows = [r[0] for r in conn.execute(sa.text("SELECT data FROM events"))]
    blob = "\n".join(rows)
    assert PHONE not in blob and ID_NUMBER not in blob
    assert "138****5678" in blob and "1101**********002X" in blob
    restored = await store.retrieve("citizen-1")
    assert restored.latest_message.text == "我的电话138****5678，身份证1101**********002X"
    assert restored.get_slot("booker_phone") == "138****5678"
    store.engine.dispose()


async def test_text_no_database_can_store_is_replaced_not_fatal(store_url):
    """A lone surrogate or NUL (e.g. from a forged /inform{...} payload) is stored cleaned."""
    store = MaskingSQLTrackerStore(domain=Domain.empty(), host=store_url)
    tracker = DialogueStateTracker.from_events(
        "citizen-2",
        [
            UserUttered(
                "/inform",
                intent={"name": "inform", "confidence": 1.0},
                entities=[{"entity": "county", "value": "\ud800固安\x00"}],
            ),
            BotUttered("收到\udfff"),
        ],
    )
    await store.save(tracker)
    restored = await store.retrieve("citizen-2")
    assert restored is not None
    entity = restored.events[0].entities[0]["value"]
    assert "固安" in entity and "\x00" not in entity and "\ud800" not in entity


async def test_a_database_error_is_raised_to_the_caller_never_exits(tmp_path):
    from bot.tracker_store import watch_turn

    store = MaskingSQLTrackerStore(
        domain=Domain.empty(), host=f"sqlite:///{tmp_path / 'tracker.db'}"
    )
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE events"))
    tracker = DialogueStateTracker.from_events("citizen-3", [BotUttered("你好")])
    health = watch_turn()
    with pytest.raises(Exception) as saving:
        await store.save(tracker)
    assert not isinstance(saving.value, SystemExit)
    assert health.store_failed  # the channel answers 系统繁忙 for this turn
    # retrieving raises a normal error too (Rasa's session_scope would have called sys.exit)
    with pytest.raises(Exception) as error:
        await store.retrieve("citizen-3")
    assert not isinstance(error.value, SystemExit)


async def test_the_turn_just_saved_is_handed_to_the_channel(store_url):
    store = MaskingSQLTrackerStore(domain=Domain.empty(), host=store_url)
    sender = f"citizen-{uuid.uuid4().hex[:8]}"
    tracker = DialogueStateTracker.from_events(
        sender, [UserUttered("身份证丢了"), BotUttered("可以在线补领。")]
    )
    health = watch_turn()
    await store.save(tracker)
    saved = health.saved_events
    assert saved is not None and [e.type_name for e in saved] == ["user", "bot"]
    stored = await store.retrieve(sender)
    assert [e.timestamp for e in saved] == [e.timestamp for e in stored.events]  # same ids
    assert watch_turn().saved_events is None  # the next turn starts with nothing
    store.engine.dispose()


async def test_a_failed_save_hands_nothing_to_the_channel(tmp_path):
    store = MaskingSQLTrackerStore(domain=Domain.empty(), host=f"sqlite:///{tmp_path / 't.db'}")
    sender = f"citizen-{uuid.uuid4().hex[:8]}"
    store.engine.dispose()
    (tmp_path / "t.db").unlink()
    (tmp_path / "t.db").mkdir()  # the database file can no longer be opened
    health = watch_turn()
    with pytest.raises(sa.exc.OperationalError):
        await store.save(DialogueStateTracker.from_events(sender, [UserUttered("你好")]))
    assert health.store_failed and health.saved_events is None


async def test_the_cluster_store_hands_the_saved_turn_over_from_its_worker_thread(tmp_path):
    from bot.cluster.tracker_store import ClusterTrackerStore

    store = ClusterTrackerStore(domain=Domain.empty(), host=f"sqlite:///{tmp_path / 't.db'}")
    health = watch_turn()
    await store.save(DialogueStateTracker.from_events("citizen-2", [UserUttered("你好")]))
    assert [e.text for e in health.saved_events or []] == ["你好"]
    store.engine.dispose()


async def test_two_turns_that_ran_side_by_side_are_both_kept(store_url, caplog):
    """Two replicas read the same tracker and both save: neither turn's events are lost."""
    store = MaskingSQLTrackerStore(domain=Domain.empty(), host=store_url)
    sender = f"citizen-{uuid.uuid4().hex[:8]}"
    await store.save(DialogueStateTracker.from_events(sender, [UserUttered("你好")]))
    first, second = await store.retrieve(sender), await store.retrieve(sender)
    first.update(UserUttered("新生儿落户需要什么"))
    first.update(BotUttered("新生儿落户：带出生医学证明……"))
    second.update(UserUttered("居住证怎么办理"))
    second.update(BotUttered("居住证：居住半年以上……"))
    await store.save(first)
    await store.save(second)
    second.update(UserUttered("谢谢"))  # the same tracker saved again: only the new event
    await store.save(second)
    stored = await store.retrieve(sender)
    texts = [e.text for e in stored.events if isinstance(e, (UserUttered, BotUttered))]
    assert texts == [
        "你好",
        "新生儿落户需要什么",
        "新生儿落户：带出生医学证明……",
        "居住证怎么办理",
        "居住证：居住半年以上……",
        "谢谢",
    ]
    assert "another turn was stored while this one ran" in caplog.text
    store.engine.dispose()


async def test_a_session_restart_is_stored_once(store_url, caplog):
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    store = MaskingSQLTrackerStore(domain=Domain.empty(), host=store_url)
    sender = f"citizen-{uuid.uuid4().hex[:8]}"
    await store.save(DialogueStateTracker.from_events(sender, [UserUttered("你好")]))
    tracker = await store.retrieve(sender)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), UserUttered("在吗")):
        tracker.update(event)
    await store.save(tracker)
    tracker.update(BotUttered("在的"))
    await store.save(tracker)
    with store.engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
    assert count == 5
    assert "another turn" not in caplog.text
    store.engine.dispose()
