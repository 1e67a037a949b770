"""Small helpers shared by the web-chat tests."""

from __future__ import annotations

import re
from typing import Any

import requests
from sqlalchemy.orm import Session

from bot.db.queries.feedback import FeedbackRow, list_feedback
from bot.db.session import make_engine

CJK = re.compile(r"[\u4e00-\u9fff]")


class ChatClient:
    """A client of the web-chat API (what a mini-program page does with wx.request)."""

    def __init__(self, base_url: str) -> None:
        self.api = f"{base_url}/webhooks/webchat"
        self.token: str | None = None
        self.conversation_id: str | None = None

    def start(self) -> ChatClient:
        resp = requests.post(f"{self.api}/session", timeout=10)
        assert resp.status_code == 201, resp.text
        body = resp.json()
        self.token, self.conversation_id = body["token"], body["conversation_id"]
        return self

    def headers(self, **extra: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra)
        return headers

    def send(
        self, message: str, title: str | None = None, timeout: float = 60
    ) -> requests.Response:
        body: dict[str, Any] = {"message": message}
        if title:
            body["title"] = title
        return requests.post(
            f"{self.api}/message", json=body, headers=self.headers(), timeout=timeout
        )

    def say(self, message: str, title: str | None = None) -> list[dict[str, Any]]:
        resp = self.send(message, title)
        assert resp.status_code == 200, resp.text
        return resp.json()["messages"]

    def history(self) -> requests.Response:
        return requests.get(f"{self.api}/history", headers=self.headers(), timeout=30)

    def rate(self, message_id: str, rating: str) -> requests.Response:
        return requests.post(
            f"{self.api}/feedback",
            json={"message_id": message_id, "rating": rating},
            headers=self.headers(),
            timeout=30,
        )


def texts(messages: list[dict[str, Any]]) -> str:
    """All bot texts of a reply, joined."""
    return "\n".join(m.get("text", "") for m in messages)


def stored_feedback(database_url: str, **filters: Any) -> list[FeedbackRow]:
    """Read the feedback table of a test database."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return list_feedback(session, **filters)
    finally:
        engine.dispose()


def assert_clear_error(resp: requests.Response, status: int, code: str | None = None) -> None:
    """A 4xx JSON error with a Chinese explanation (never a 500, never HTML)."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    if code is not None:
        assert body["error"] == code
    assert CJK.search(body["message"]), body
