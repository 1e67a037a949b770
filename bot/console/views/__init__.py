"""The console's views, one module per area; :data:`ROUTES` lists every route they serve."""

from __future__ import annotations

from bot.console.pipeline import Route
from bot.console.views import (
    admin,
    api,
    auth,
    callbacks,
    conversations,
    inbox,
    training,
    trends,
)

ROUTES: list[Route] = [
    *auth.ROUTES,
    *inbox.ROUTES,
    *conversations.ROUTES,
    *callbacks.ROUTES,
    *trends.ROUTES,
    *training.ROUTES,
    *admin.ROUTES,
    *api.ROUTES,
]
