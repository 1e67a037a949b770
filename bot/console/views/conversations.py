"""Views: one whole conversation, masked, readable for an officer.

Pages link to a conversation through the inbox item or the message that belongs to it, so a
conversation id (which a trusted channel may have chosen, e.g. a phone number) never appears
in a URL; ``/conversations/{sender_id}`` stays for direct look-ups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from aiohttp import web

from bot.console import tracker
from bot.console.models import ConsoleItem
from bot.console.pipeline import MAX_PATH_VALUE, Req, Route, int_param, not_found
from bot.db.models import CallbackRequest

if TYPE_CHECKING:
    from bot.console.app import ConsoleApp


def _render(console: ConsoleApp, req: Req, sender_id: str, highlight: int | None) -> web.Response:
    engine = console.db.tracker_engine
    turns: list[tracker.ConversationTurn] = []
    if engine is not None and console.db.has_table(engine, "events"):
        with engine.connect() as conn:
            turns = tracker.conversation(conn, sender_id, console.tz)
    return console.render(
        req,
        "conversation.html",
        title="对话记录",
        sender=sender_id,
        turns=turns,
        highlight=highlight or 0,
    )


def conversation_view(console: ConsoleApp, req: Req) -> web.Response:
    """A conversation by its id."""
    sender_id = req.match["sender_id"][:MAX_PATH_VALUE]
    return _render(console, req, sender_id, int_param(req.query.get("event")))


def item_conversation(console: ConsoleApp, req: Req) -> web.Response:
    """The conversation of an inbox item, with the item's message highlighted."""
    item_id = int_param(req.match["id"])
    with console.db.session() as session:
        row = (
            session.execute(
                sa.select(ConsoleItem.sender_id, ConsoleItem.event_id).where(
                    ConsoleItem.id == item_id
                )
            ).first()
            if item_id
            else None
        )
    if row is None:
        return not_found(console, req)
    return _render(console, req, str(row.sender_id), row.event_id)


def message_conversation(console: ConsoleApp, req: Req) -> web.Response:
    """The conversation in which a message for officers was left."""
    message_id = int_param(req.match["id"])
    with console.db.session() as session:
        sender = (
            session.execute(
                sa.select(CallbackRequest.conversation_id).where(CallbackRequest.id == message_id)
            ).scalar_one_or_none()
            if message_id
            else None
        )
    if sender is None:
        return not_found(console, req)
    return _render(console, req, str(sender), None)


ROUTES = [
    Route("GET", "/conversations/{sender_id}", conversation_view, audit="view_conversation"),
    Route("GET", "/items/{id}/conversation", item_conversation, audit="view_conversation"),
    Route("GET", "/messages/{id}/conversation", message_conversation, audit="view_conversation"),
]
