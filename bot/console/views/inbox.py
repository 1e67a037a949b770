"""Views: the inbox of unanswered questions, one group, the officer's review, sync now."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from bot.console import inbox, ingest, review
from bot.console.export import export_annotations
from bot.console.pipeline import Req, Route, int_param, not_found, page_param, redirect, safe_next

if TYPE_CHECKING:
    from bot.console.app import ConsoleApp

#: Seconds a page waits for new conversations before it renders what is there.
INLINE_SYNC_SECONDS = 0.5
GROUP_KEY_LENGTH = 16


def inbox_view(console: ConsoleApp, req: Req) -> web.Response:
    """Show groups (or a flat list) of unanswered questions with filters."""
    console.syncer.sync(budget_seconds=INLINE_SYNC_SECONDS, wait=False)
    flt = inbox.InboxFilter.parse(req.query, console.today())
    page = page_param(req.query)
    mode = "items" if req.query.get("view") == "items" else "groups"
    sort = "recent" if req.query.get("sort") == "recent" else "size"
    with console.db.session() as session:
        if mode == "items":
            items, total = inbox.item_page(session, flt, console.tz, page, 50)
            pages = max(1, (total + 49) // 50)
            groups = None
        else:
            result = inbox.group_page(
                session, flt, console.tz, page, console.settings.page_size, sort
            )
            groups, items, total, pages = result, [], result.total_items, result.pages
        waiting = ingest.item_counts(session)["waiting"]
    return console.render(
        req,
        "inbox.html",
        title="待处理问题",
        flt=flt,
        params=flt.as_params(),
        mode=mode,
        sort=sort,
        groups=groups,
        items=items,
        total=total,
        page=min(page, pages),
        pages=pages,
        waiting=waiting,
        reasons=inbox.REASON_LABELS,
        statuses=inbox.STATUS_LABELS,
    )


def _group_page(
    console: ConsoleApp, req: Req, key: str, status: int = 200, error: str = "", intent: str = ""
) -> web.Response:
    with console.db.session() as session:
        label = inbox.group_label(session, key)
        if label is None:
            return not_found(console, req)
        items = inbox.group_items(session, key, None, console.tz)
    catalog = console.catalog()
    suggested = intent
    for item in items if not suggested else []:
        if item.annotated_intent or item.proposed_intent:
            suggested = str(item.annotated_intent or item.proposed_intent)
            break
    if not suggested:
        ranked = [i.intent for i in items if i.intent and catalog.is_known(str(i.intent))]
        suggested = max(set(ranked), key=ranked.count) if ranked else ""
    return console.render(
        req,
        "group.html",
        status=status,
        title="问题分组",
        key=key,
        label=label,
        items=items,
        options=catalog.options(),
        suggested=suggested,
        intent_param="" if error else str(req.query.get("intent") or ""),
        new_intent=not error and req.query.get("new") == "1",
        back="/inbox" if error else safe_next(str(req.query.get("back") or "/inbox")),
        error=error,
    )


def group_view(console: ConsoleApp, req: Req) -> web.Response:
    """One group: every question, the conversation links and the annotation form."""
    return _group_page(console, req, req.match["key"][:GROUP_KEY_LENGTH])


def group_review(console: ConsoleApp, req: Req) -> web.Response:
    """Save an annotation / review decision for selected questions of a group."""
    assert req.user is not None
    key = req.match["key"][:GROUP_KEY_LENGTH]
    ids = [i for i in (int_param(v) for v in req.form.getall("item_id", [])) if i is not None]
    action = str(req.form.get("action") or "")
    texts: dict[int, str] = {}
    for name, value in req.form.items():
        item_id = int_param(name[5:]) if name.startswith("text_") else None
        if item_id is not None:
            texts[item_id] = str(value)
    decision = review.Review(action=action, intent=str(req.form.get("intent") or ""), texts=texts)
    catalog = console.catalog()
    try:
        with console.db.session() as session:
            # Only items of this group can be changed from this page.
            members = {int(i.id) for i in inbox.group_items(session, key, None, console.tz, 5000)}
            selected = [i for i in ids if i in members]
            outcome = review.apply_review(session, selected, decision, catalog, req.user.username)
    except review.ReviewError as exc:
        return _group_page(console, req, key, 400, str(exc), decision.intent)
    report = None
    if action in ("annotate", "not_useful", "reopen"):
        with console.db.session() as session:
            report = export_annotations(session, console.settings, catalog)
    audit_action = action
    if action == "annotate":
        audit_action = "propose_intent" if outcome.is_new_intent else "annotate"
    console.audit(
        req,
        audit_action,
        f"group:{key}",
        items=selected,
        intent=outcome.intent,
        edited=[i for i in selected if i in texts],
        exported=report.examples if report else None,
    )
    notice = action
    if action == "annotate":
        notice = "proposed" if outcome.is_new_intent else "annotated"
    query = {"notice": notice}
    if outcome.intent:
        query["intent"] = outcome.intent
    return redirect(f"/groups/{key}?" + urlencode(query))


def sync_run(console: ConsoleApp, req: Req) -> web.Response:
    """Read all new conversations now."""
    result = console.syncer.sync(budget_seconds=60)
    console.audit(req, "sync", "/sync", user_messages=result.user_messages, items=result.items)
    return redirect("/inbox?notice=synced")


ROUTES = [
    Route("GET", "/inbox", inbox_view, audit="view_inbox"),
    Route("GET", "/groups/{key}", group_view, audit="view_group"),
    Route("POST", "/groups/{key}/review", group_review),
    Route("POST", "/sync", sync_run),
]
