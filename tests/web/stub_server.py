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
    ``/check_name`` a form's question with quick-reply buttons (a prompt: not rateable)
    ``/ask_move_in`` an answer to a button (rateable)
    ``身份证``      a multi-line answer with a link
    ``窗口``        a heading, a location card and a closing line with buttons (only the
                    closing line is rateable), like ``action_find_window``
    otherwise       ``收到：<text>`` echo

Replies carry the events Rasa would log around them (the action's ``ActionExecuted``, a form's
``requested_slot``, a custom action's ``kind`` mark), so which messages are rateable is decided
by the channel's real rule.

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
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from bot.channels.rest import SafeRestInput
from bot.channels.socketio import SignedSocketIOInput
from bot.channels.webchat.channel import WebChatInput
from bot.rasa_server import harden

API_TOKEN = "stub-api-token"

#: What ``action_find_window`` sends for one window (see actions/lookups.py, utter_place).
WINDOW_ANSWER: list[dict[str, Any]] = [
    {"text": "固安县的户籍窗口：", "kind": "part"},
    {
        "text": "【固安县户政服务大厅（示例）】\n地址：固安县新源街99号\n电话：0316-0000000",
        "kind": "part",
        "utter_action": "utter_place",
        "custom": {
            "type": "location",
            "name": "固安县户政服务大厅（示例）",
            "address": "固安县新源街99号",
            "phone": "0316-0000000",
            "hours": "周一至周五 9:00-17:00",
            "lat": "39.438000",
            "lng": "116.299000",
            "map_url": "https://uri.amap.com/marker?position=116.299000,39.438000&name=x",
        },
    },
    {
        "text": "办理前可先预约，到窗口免排队。",
        "buttons": [{"title": "预约办理", "payload": "/book_appointment"}],
    },
]


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
                    "action": "name_check_form",
                    "requested_slot": "gender",
                    "text": "请问宝宝的性别是？",
                    "buttons": [
                        {"title": "男孩", "payload": '/inform{"gender":"male"}'},
                        {"title": "女孩", "payload": '/inform{"gender":"female"}'},
                    ],
                }
            ]
        elif text == "/ask_move_in":
            replies = [{"text": "户口迁入需要：户口簿、身份证、迁入地住所证明。"}]
        elif "身份证" in text:
            replies = [
                {"text": "省内户籍、两年内办过身份证的，可网上补领。\n工本费40元，邮寄费20元。"},
                {"text": "详情见 https://example.gov.cn/id-card?x=1&y=<b>2</b> 。"},
            ]
        elif "窗口" in text:
            replies = [{"action": "action_find_window", **m} for m in WINDOW_ANSWER]
        else:
            replies = [{"text": f"收到：{text}"}]
        previous_action = None
        for reply in replies:
            reply = dict(reply)
            action = reply.pop("action", "utter_stub")
            requested_slot = reply.pop("requested_slot", None)
            metadata = {k: reply.pop(k) for k in ("kind", "utter_action") if k in reply}
            event = BotUttered(reply.pop("text", None), reply, metadata)
            if action == "utter_stub" or action != previous_action:
                # one ActionExecuted per action run (a custom action may send several messages)
                tracker.update(ActionExecuted(action))
            previous_action = action
            tracker.update(event)
            if requested_slot:
                tracker.update(SlotSet("requested_slot", requested_slot))
            await message.output_channel.send_response(message.sender_id, event.message())
        await self.tracker_store.save(tracker)


def build_app(port: int) -> Any:
    """Build the Sanic app (web chat, REST, socket.io, Rasa HTTP API) around a stub agent."""
    channel = WebChatInput.from_credentials({"reply_timeout": 1, "max_message_chars": 500})
    rest = SafeRestInput(API_TOKEN)
    socketio = SignedSocketIOInput.from_credentials({"max_message_chars": 500})
    app = harden(
        configure_app(
            input_channels=[channel, rest, socketio],
            enable_api=True,
            auth_token=API_TOKEN,
            port=port,
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
