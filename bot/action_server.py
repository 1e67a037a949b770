"""The action server, private: ``python -m bot.action_server [--port 5055]``.

rasa_sdk's own server (``rasa run actions``) listens on every interface, answers CORS from
any origin, runs any action for anyone and echoes the request body in its 500 replies. Ours
serves the same actions (rasa_sdk's ``ActionExecutor``) but

- binds ``127.0.0.1`` unless ``ACTIONS_HOST`` says otherwise;
- runs an action only for a caller that sends the shared secret ``ACTION_SERVER_TOKEN`` as
  ``Authorization: Bearer …`` (the Rasa server does, from ``endpoints.yml``), compared in
  constant time; ``/health`` alone is open;
- sends no CORS headers, answers every error with a short JSON body and never echoes what
  it was sent; a compressed body is inflated with a size limit;
- masks phone and ID numbers in everything it logs (:func:`bot.logmask.install`).
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import zlib
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)

#: The largest (inflated) action call accepted: a long conversation's tracker fits easily.
MAX_CALL_BYTES = 8 * 1024 * 1024


class CallError(Exception):
    """A bad action call, answered with a JSON error."""

    def __init__(self, status: int, message: str) -> None:
        """Create the error."""
        super().__init__(message)
        self.status = status
        self.message = message


def read_call(body: bytes, encoding: str | None) -> dict[str, Any]:
    """Decode an action call (optionally deflate-compressed, as Rasa may send it).

    Args:
        body: the raw body.
        encoding: the ``Content-Encoding`` header.

    Returns:
        The decoded call.

    Raises:
        CallError: too large, not JSON, or not an object.
    """
    if (encoding or "").strip().lower() == "deflate":
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(body, MAX_CALL_BYTES + 1)
        except zlib.error:
            raise CallError(400, "invalid compressed body") from None
        if len(body) > MAX_CALL_BYTES or inflater.unconsumed_tail:
            raise CallError(413, "action call too large")
    try:
        call = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CallError(400, "invalid JSON") from None
    if not isinstance(call, dict) or not isinstance(call.get("next_action"), str):
        raise CallError(400, "not an action call")
    return call


def authorised(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries the shared secret."""
    scheme, _, value = (header or "").strip().partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(value.strip().encode(), token.encode())
    )


def create_app(token: str, action_package: str = "actions") -> Any:
    """Build the Sanic app serving our actions.

    Args:
        token: the shared secret callers must send.
        action_package: the package holding the actions.

    Returns:
        The app.
    """
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
    from sanic import Sanic, response

    from bot.channels.guard import error_body, install_error_handlers

    app = Sanic("ehuzheng_actions", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_CALL_BYTES
    install_error_handlers(app)
    executor = ActionExecutor()
    executor.register_package(action_package)

    def refuse(status: int, message: str) -> Any:
        return response.json(error_body(status, "refused", message), status=status)

    @app.get("/health")
    async def health(_: Any) -> Any:
        return response.json({"status": "ok"})

    @app.get("/actions")
    async def actions(request: Any) -> Any:
        if not authorised(request.headers.get("authorization"), token):
            return refuse(401, "unauthorised")
        return response.json([{"name": name} for name in executor.actions])

    @app.post("/webhook")
    async def webhook(request: Any) -> Any:
        if not authorised(request.headers.get("authorization"), token):
            return refuse(401, "unauthorised")
        try:
            call = read_call(request.body or b"", request.headers.get("content-encoding"))
            result = await executor.run(call)
        except CallError as error:
            return refuse(error.status, error.message)
        except ActionExecutionRejection as rejection:
            body = {"error": rejection.message, "action_name": rejection.action_name}
            return response.json(body, status=400)
        except ActionNotFoundException as missing:
            return response.json(
                {"error": "unknown action", "action_name": missing.action_name}, 404
            )
        except Exception:
            logger.exception("action %s failed", str(call.get("next_action"))[:60])
            return refuse(500, "the action failed")
        return response.json(result)

    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, install the masking log filter and serve the actions."""
    from bot import logmask

    logmask.install()
    os.umask(0o077)  # databases, logs and secrets this process creates: owner only
    parser = argparse.ArgumentParser(prog="python -m bot.action_server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument("--host", default=os.environ.get("ACTIONS_HOST", "127.0.0.1"))
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    token = os.environ.get("ACTION_SERVER_TOKEN", "")
    if len(token) < 16:
        raise SystemExit("ACTION_SERVER_TOKEN must be set (at least 16 characters).")
    app = create_app(token, args.actions)
    logger.info(
        "action server on http://%s:%s (calls need the shared secret)", args.host, args.port
    )
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
