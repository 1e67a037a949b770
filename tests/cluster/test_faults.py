"""Fault tests against a real cluster (nginx, 2 Rasa replicas, 2 action servers, console).

One cluster for the module (start-up ~1.5-3 min on 2 shared cores); the tests run in file
order and each is bounded in time. After every fault the tracker store is checked: every
message a client sent is there once, in order, followed by the bot's reply unless the
client was told "系统繁忙" (then the turn never ran or ran without an answer).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cluster.chat import Conversation, Reply, call
from tests.cluster.cluster import Cluster
from tests.cluster.services import RABBITMQ, missing, reachable
from tests.servers import latest_model

pytestmark = [pytest.mark.needs_model, pytest.mark.cluster]

BUSY = "系统繁忙"
REPLY_TIMEOUT_S = 25.0  # credentials.yml: the web chat's reply_timeout
#: Every conversation the tests had: (conversation, replies, one per message sent).
HISTORY: list[tuple[Conversation, list[Reply]]] = []


def until(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    model = latest_model()
    if model is None:
        pytest.skip("no trained model ($TEST_MODEL or models/)")
    if not reachable(*RABBITMQ):
        missing("RabbitMQ at 127.0.0.1:5672")
    if not Path("/usr/sbin/nginx").exists():
        missing("nginx (make nginx)")
    running = Cluster(tmp_path_factory.mktemp("cluster"), model)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def talk(cluster: Cluster, texts: list[str]) -> tuple[Conversation, list[Reply]]:
    conversation = Conversation(cluster.url)
    replies = [conversation.say(t) for t in texts]
    HISTORY.append((conversation, replies))
    return conversation, replies


def asks_for_a_time(text: str) -> bool:
    """The booking form's next question: a window (when several have places) or a time."""
    return "窗口" in text or "时间段" in text


def say(conversation: Conversation, text: str) -> Reply:
    reply = conversation.say(text)
    for conv, replies in HISTORY:
        if conv is conversation:
            replies.append(reply)
    return reply


def check_tracker(cluster: Cluster, conversation: Conversation, replies: list[Reply]) -> None:
    """The tracker store holds what the client sent: once each, in order, each with its reply.

    A message answered with "系统繁忙" may be missing (the turn was refused before it ran,
    e.g. without Redis) or stored without a reply (it ran and failed); any other message
    must be stored, followed by the bot's reply before the next user message.
    """
    rows = cluster.tracker_rows(conversation.id)
    users = [(i, data.get("text")) for i, kind, data in rows if kind == "user"]
    accepted: list[tuple[int, int]] = []  # (index of the sent message, its event id)
    for n, text in enumerate(conversation.sent):
        if len(accepted) < len(users) and users[len(accepted)][1] == text:
            accepted.append((n, users[len(accepted)][0]))
        else:
            assert replies[n].fallback, f"message {n} ({text}) was answered but is not stored"
    assert len(accepted) == len(users), "the tracker store has messages nobody sent (doubled)"
    bounds = [i for _, i in accepted] + [10**12]
    for k, (n, _) in enumerate(accepted):
        between = [kind for i, kind, _ in rows if bounds[k] < i < bounds[k + 1]]
        # The turns of one conversation never interleave: one user event, then its actions.
        assert "user" not in between
        if not replies[n].fallback:
            assert "bot" in between, f"message {n} ({conversation.sent[n]}) has no stored reply"


def test_only_the_web_chat_and_the_console_are_public(cluster: Cluster) -> None:
    for path in ("/webhooks/webchat/", "/webhooks/webchat/static/chat.js", "/console/login"):
        status, _ = call(cluster.url + path, None)
        assert status == 200 or path.endswith(".js"), path
    for path in (
        "/webhooks/rest/webhook",
        "/socket.io/?EIO=4&transport=polling",
        "/model/parse",
        "/status",
        "/conversations/x/tracker",
        "/webhook",
        "/health",
        "/webhooks/webchat/../rest/webhook",
        "/webhooks/webchat/%2e%2e/rest/webhook",
    ):
        status, body = call(cluster.url + path, {"sender": "x", "message": "hi"})
        assert status == 404 and body.get("error") == "not_found", (path, status, body)
    status, body = call(cluster.url + "/webhooks/webchat/message", {"message": "字" * 70000})
    assert status == 413 and "error" in body


def test_a_killed_replica_mid_form_the_conversation_goes_on_on_the_other(cluster) -> None:
    conversation, replies = talk(cluster, ["我想约明天上午去办身份证"])
    assert "区县" in replies[0].texts[0]
    killed = cluster.kill("rasa-1")
    started = time.monotonic()
    # Every turn now lands on rasa-2 (nginx skips the refused connection): the form goes on.
    county = say(conversation, "固安县")
    # A string, not a tuple: pytest prints a message string whole (a tuple's repr is cut).
    why = (
        f"{county.status} {county.body}\nnginx:\n{cluster.nginx_errors()}\n"
        f"replicas:\n{cluster.replica_errors()}\n{cluster.log_tail(800)}"
    )
    assert not county.fallback and asks_for_a_time("".join(county.texts)), why
    slot = say(conversation, "九点半")
    why = f"{slot.status} {slot.body}\n{cluster.nginx_errors()}\n{cluster.replica_errors()}"
    assert not slot.fallback and "姓名" in "".join(slot.texts), why
    assert time.monotonic() - started < 30
    until(lambda: cluster.pid("rasa-1") != killed, 30, "the supervisor to restart rasa-1")
    assert "rasa-1: exited with signal 9" in cluster.log_tail(10**7)
    check_tracker(cluster, conversation, replies)


def test_a_killed_action_server_costs_at_most_the_turn_in_flight(cluster) -> None:
    # One of two dead: nginx sends the calls to the other, nothing is lost.
    cluster.kill("actions-1")
    conversation, replies = talk(cluster, ["我想约明天上午去办身份证", "固安县"])
    assert not any(r.fallback for r in replies) and asks_for_a_time(replies[1].texts[0])
    until(lambda: cluster.action_server_ok(0), 60, "actions-1 to come back")
    # Both dead: the turn gets "系统繁忙" within the reply timeout, the next works again.
    cluster.kill("actions-1")
    cluster.kill("actions-2")
    started = time.monotonic()
    busy = say(conversation, "九点半")
    assert busy.fallback and BUSY in busy.texts[0]
    assert time.monotonic() - started <= REPLY_TIMEOUT_S + 5
    until(lambda: cluster.action_server_ok(0) and cluster.action_server_ok(1), 60, "actions")
    again = say(conversation, "九点半")
    assert not again.fallback and "姓名" in again.texts[-1], again.texts
    check_tracker(cluster, conversation, replies)


def test_without_redis_turns_get_a_clear_reply_and_nothing_is_written(cluster) -> None:
    conversation, replies = talk(cluster, ["身份证丢了怎么办"])
    before = len(cluster.tracker_rows(conversation.id))
    cluster.redis.stop()
    try:
        started = time.monotonic()
        busy = say(conversation, "户口迁入要什么材料")
        assert busy.status == 200 and busy.fallback and BUSY in busy.texts[0]
        assert time.monotonic() - started < 10
        # The turn never ran: nothing was written without the lock.
        assert len(cluster.tracker_rows(conversation.id)) == before
    finally:
        cluster.redis.start()
    back = say(conversation, "谢谢")
    assert not back.fallback
    # Two messages of one conversation at once, on two replicas: serialised by the lock.
    results: list[Reply] = []
    threads = [
        threading.Thread(target=lambda t=t: results.append(say(conversation, t)))
        for t in ("新生儿落户需要什么", "居住证怎么办理")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 2 and not any(r.fallback for r in results)
    # The two concurrent sends may be stored in either order: compare as a set, then order.
    rows = cluster.tracker_rows(conversation.id)
    stored = [d.get("text") for _, k, d in rows if k == "user"]
    assert sorted(stored[-2:]) == sorted(conversation.sent[-2:])
    conversation.sent[-2:] = stored[-2:]
    check_tracker(cluster, conversation, replies)


def test_a_postgresql_restart_loses_no_event(cluster) -> None:
    conversations = [talk(cluster, ["你好"]) for _ in range(3)]
    stop = threading.Event()
    errors: list[str] = []

    def chat(conversation: Conversation) -> None:
        texts = ["身份证丢了怎么办", "户口迁入要什么材料", "居住证怎么办理", "谢谢"]
        n = 0
        # Keep talking until the database is back: a fixed number of turns can all
        # finish before the stop on a fast machine, and then nothing is tested.
        while not stop.is_set() and n < 300:
            reply = say(conversation, texts[n % len(texts)])
            if reply.status != 200:
                errors.append(f"{reply.status} {reply.body}")
            n += 1

    threads = [threading.Thread(target=chat, args=(c,)) for c, _ in conversations]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    cluster.postgres.stop("fast")
    time.sleep(1.0)
    cluster.postgres.start()
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join(90)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, "\n".join(errors) + "\n" + cluster.replica_errors()
    for conversation, replies in conversations:
        # The turns in flight waited for the database instead of failing or vanishing.
        assert not any(r.fallback for r in replies), [r.texts for r in replies]
        check_tracker(cluster, conversation, replies)
    assert "the database may be restarting, retrying" in "".join(
        p.read_text(errors="replace") for p in (cluster.workdir / "cluster" / "logs").glob("rasa-*")
    )


def test_without_rabbitmq_the_chat_goes_on_and_the_console_catches_up(cluster) -> None:
    tracker_users = "SELECT count(*) FROM console_user_messages"
    until(
        lambda: cluster.app_scalar(tracker_users) >= sum(len(c.sent) for c, _ in HISTORY) - 2,
        60,
        "the console to read the earlier conversations",
    )
    cluster.rabbit_proxy.cut()
    try:
        during = [
            talk(cluster, ["身份证丢了怎么办", "我想问飞机票怎么买", "谢谢"]) for _ in range(3)
        ]
        for _, replies in during:
            assert not any(r.fallback for r in replies)
    finally:
        cluster.rabbit_proxy.restore()
    ids = ",".join(f"'{c.id}'" for c, _ in during)
    until(
        lambda: (
            cluster.app_scalar(
                f"SELECT count(*) FROM console_user_messages WHERE sender_id IN ({ids})"
            )
            == 9
        ),
        90,
        "the console to catch up",
    )
    time.sleep(3)  # any late duplicate would arrive now
    stored = cluster.app_scalar("SELECT count(*) FROM console_user_messages")
    distinct = cluster.app_scalar("SELECT count(DISTINCT event_id) FROM console_user_messages")
    in_tracker = cluster.tracker_scalar("SELECT count(*) FROM events WHERE type_name = 'user'")
    assert stored == distinct == in_tracker  # nothing doubled, nothing lost
    items = f"SELECT count(*) FROM console_items WHERE sender_id IN ({ids})"
    assert cluster.app_scalar(items) == 3  # each conversation's out-of-scope question, once
    for conversation, replies in during:
        check_tracker(cluster, conversation, replies)


def test_the_killed_replica_is_back_in_rotation(cluster: Cluster) -> None:
    until(lambda: cluster.replica_ready(0), 300, "rasa-1 to load its model again")
    until(
        lambda: cluster.log_tail(10**7).count("rasa-1: healthy, in rotation") >= 2,
        30,
        "the health monitor to put rasa-1 back",
    )
    assert "rasa-1: failed its health check, out of rotation" in cluster.log_tail(10**7)
    for conversation, replies in HISTORY:
        check_tracker(cluster, conversation, replies)
