"""The REST channel, never silent: if a turn produces no reply, the user gets a polite one.

Registered in ``credentials.yml`` as ``bot.channels.rest.SafeRestInput`` under the usual
name ``rest`` (URL ``/webhooks/rest/webhook``). When the action server is down, Rasa logs the
failed action and sends nothing; this channel then answers "系统繁忙，请稍后再试" instead of
leaving the citizen with silence.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logmask

BUSY_REPLY = "抱歉，系统繁忙，请稍后再试。您也可以稍后说“留言”，户籍民警会联系您。"
EMPTY_REPLY = "您好像没有输入内容。请问您想咨询什么业务？可以说“你能做什么”查看我能办的事。"
MAX_MESSAGE_CHARS = 500


class SafeRestInput(RestInput):
    """Rasa's REST channel with input limits and a reply for every turn."""

    @classmethod
    def name(cls) -> str:
        """Keep the standard name (and URL) of the REST channel."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> SafeRestInput:
        """Create the channel (and mask personal numbers in this process's logs)."""
        logmask.install()
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: ``GET /`` health and ``POST /webhook``."""
        webhook = Blueprint("safe_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "请求体必须是 JSON 对象"}, status=400)
            sender = body.get("sender")
            text = body.get("message")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > 128:
                return response.json({"error": "缺少 sender（会话编号）"}, status=400)
            if text is None or not isinstance(text, str):
                return response.json({"error": "缺少 message（消息内容）"}, status=400)
            if not text.strip():
                return response.json([{"recipient_id": sender, "text": EMPTY_REPLY}])
            if len(text) > MAX_MESSAGE_CHARS:
                return response.json(
                    [
                        {
                            "recipient_id": sender,
                            "text": f"您的消息太长了（超过{MAX_MESSAGE_CHARS}字），"
                            "请简要描述您要办理的业务。",
                        }
                    ]
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=self.get_metadata(request),
                    )
                )
            except Exception:  # logged by Rasa; the user still gets an answer
                collector.messages.clear()
            if not collector.messages and not text.startswith("/"):
                return response.json([{"recipient_id": sender, "text": BUSY_REPLY}])
            return response.json(collector.messages)

        return webhook
