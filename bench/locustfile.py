"""Locust users for ``bench/bench_cluster.py``: citizens having multi-turn web-chat conversations.

Each user opens a web-chat session and has conversations back to back (no think time): three
in four are policy questions (three FAQ turns), one in four books a window slot through the
booking form (five turns). Every message is one request named ``turn``; a reply that is not
200 or is the channel's "系统繁忙" fallback counts as a failure. The conversations (id and
the messages sent, in order) are written to ``$BENCH_CONVERSATIONS_OUT`` when the run ends,
so the benchmark can check the tracker store for lost or reordered events.
"""

from __future__ import annotations

import json
import os
import random

from locust import HttpUser, constant, events, task

FAQ = [
    "身份证丢了怎么办",
    "户口迁入要什么材料",
    "新生儿落户需要什么",
    "居住证怎么办理",
    "临时身份证多少钱",
    "身份证有效期是多久",
    "死亡注销户口要带什么",
    "24小时自助办证点在哪",
    "谢谢",
]
COUNTIES = ["固安县", "三河市", "霸州市", "香河县", "广阳区", "安次区"]
SLOTS = ["九点半", "十点", "十点半", "下午两点", "下午三点"]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆"]

CONVERSATIONS: list[dict[str, object]] = []


class Citizen(HttpUser):
    """One citizen at the mini-program's chat page."""

    wait_time = constant(0)

    def _session(self) -> tuple[str, str] | None:
        with self.client.post(
            "/webhooks/webchat/session", json={}, name="session", catch_response=True
        ) as resp:
            if resp.status_code != 201:
                resp.failure(f"session: {resp.status_code}")
                return None
            body = resp.json()
            return body["conversation_id"], body["token"]

    def _converse(self, texts: list[str]) -> None:
        session = self._session()
        if session is None:
            return
        conversation_id, token = session
        sent: list[str] = []
        for text in texts:
            sent.append(text)
            with self.client.post(
                "/webhooks/webchat/message",
                json={"message": text},
                headers={"Authorization": f"Bearer {token}"},
                name="turn",
                catch_response=True,
            ) as resp:
                if resp.status_code != 200:
                    resp.failure(f"status {resp.status_code}")
                    continue
                if any(m.get("fallback") for m in resp.json().get("messages", [])):
                    resp.failure("系统繁忙 fallback")
        CONVERSATIONS.append({"id": conversation_id, "sent": sent})

    @task(3)
    def policy_questions(self) -> None:
        """Three FAQ turns."""
        self._converse(random.sample(FAQ, 3))

    @task(1)
    def book_a_slot(self) -> None:
        """The booking form, five turns."""
        phone = "13" + "".join(random.choice("0123456789") for _ in range(9))
        self._converse(
            [
                "我想约明天上午去办身份证",
                random.choice(COUNTIES),
                random.choice(SLOTS),
                random.choice(NAMES),
                phone,
            ]
        )


@events.quitting.add_listener
def _write_conversations(environment: object, **_: object) -> None:
    path = os.environ.get("BENCH_CONVERSATIONS_OUT")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(CONVERSATIONS, out, ensure_ascii=False)
