"""A real Rasa/Sanic server with the web-chat channel and a scripted stand-in for the agent.

Used by the API tests (and the browser tests' fast mode) so the channel's HTTP behaviour can
be tested without a trained model. The Sanic app is built exactly as ``rasa run`` builds it
(``rasa.core.run.configure_app`` with the HTTP API enabled and protected by a token); only
the agent is replaced: it stores real Rasa events in a real in-memory tracker store and sends
bot messages through the channel's output channel like Rasa's processor does.

Scripted replies (by user text):
    ``__silent__``  no bot message at all (like an action server that is down)
    ``__slow__``    replies after 3 s (the stub's reply timeout is 1 s)
    ``__boom__``    the agent raises
    ``/check_name`` a question with quick-reply buttons
    ``身份证``      a multi-line answer with a link
    otherwise       ``收到：<text>`` echo

Run: ``python tests/web/stub_server.py <port>`` (DATABASE_URL selects the feedback database).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.run import configure_app
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot.channels.rest import SafeRestInput
from bot.channels.webchat import WebChatInput
from bot.rasa_server import harden

API_TOKEN = "stub-api-token"


class StubAgent:
    """Stands in for ``rasa.core.agent.Agent``: scripted replies, real events, real store."""

    def __init__(self) -> None:
        """Create the agent with an empty in-memory tracker store."""
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.processor = object()

    def is_ready(self) -> bool:
        """The stub is always ready."""
        return True

    async def handle_message(self, message: UserMessage) -> None:
        """Answer one user message like Rasa's processor would."""
        text = message.text or ""
        if text == "__boom__":
            raise RuntimeError("scripted failure")
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(
            UserUttered(
                text,
                {"name": "stub", "confidence": 1.0},
                input_channel=message.input_channel,
                message_id=message.message_id,
                metadata=message.metadata,
            )
        )
        replies: list[dict[str, Any]] = []
        if text == "__silent__":
            replies = []
        elif text == "__slow__":
            await asyncio.sleep(3)
            replies = [{"text": "慢回复"}]
        elif text == "/check_name":
            replies = [
                {
                    "text": "请问宝宝的性别是？",
                    "buttons": [
                        {"title": "男孩", "payload": '/inform{"gender":"male"}'},
                        {"title": "女孩", "payload": '/inform{"gender":"female"}'},
                    ],
                }
            ]
        elif "身份证" in text:
            replies = [
                {"text": "省内户籍、两年内办过身份证的，可网上补领。\n工本费40元，邮寄费20元。"},
                {"text": "详情见 https://example.gov.cn/id-card?x=1&y=<b>2</b> 。"},
            ]
        else:
            replies = [{"text": f"收到：{text}"}]
        for reply in replies:
            data = {k: v for k, v in reply.items() if k != "text"}
            event = BotUttered(reply.get("text"), data)
            tracker.update(ActionExecuted("utter_stub"))
            tracker.update(event)
            await message.output_channel.send_response(message.sender_id, event.message())
        await self.tracker_store.save(tracker)


def build_app(port: int) -> Any:
    """Build the Sanic app (web chat + Rasa HTTP API behind a token) around a stub agent."""
    channel = WebChatInput.from_credentials({"reply_timeout": 1, "max_message_chars": 500})
    rest = SafeRestInput(API_TOKEN)
    app = harden(
        configure_app(
            input_channels=[channel, rest], enable_api=True, auth_token=API_TOKEN, port=port
        )
    )
    app.ctx.agent = StubAgent()
    return app


def main() -> None:
    """Serve on 127.0.0.1:<port>."""
    port = int(sys.argv[1])
    app = build_app(port)
    app.run(host="127.0.0.1", port=port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
