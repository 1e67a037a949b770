"""A web-chat client for the cluster tests and the load benchmark (stdlib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """What ``POST /message`` answered."""

    status: int
    texts: list[str]
    fallback: bool
    body: dict[str, Any] = field(default_factory=dict)


def call(
    url: str, data: dict[str, Any] | None, token: str | None = None, timeout: float = 40.0
) -> tuple[int, dict[str, Any]]:
    """POST (or GET when ``data`` is None) JSON; return status and decoded body."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, _decode(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, _decode(err.read())


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {"raw": raw.decode("utf-8", "replace")}
    return body if isinstance(body, dict) else {"raw": body}


class Conversation:
    """One citizen's conversation through the public web chat.

    Args:
        base_url: the public base URL (nginx), e.g. ``http://127.0.0.1:8080``.
    """

    def __init__(self, base_url: str) -> None:
        self.api = base_url.rstrip("/") + "/webhooks/webchat"
        status, body = call(self.api + "/session", {})
        assert status == 201, (status, body)
        self.id: str = body["conversation_id"]
        self.token: str = body["token"]
        self.sent: list[str] = []

    def say(self, text: str, timeout: float = 40.0) -> Reply:
        """Send one message and return the reply."""
        self.sent.append(text)
        status, body = call(self.api + "/message", {"message": text}, self.token, timeout)
        messages = body.get("messages") or []
        return Reply(
            status=status,
            texts=[str(m.get("text") or "") for m in messages],
            fallback=any(m.get("fallback") for m in messages),
            body=body,
        )
