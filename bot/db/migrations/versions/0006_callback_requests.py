"""callback requests: the table of messages left for officers (留言) is named for what it holds.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Rename ``messages`` to ``callback_requests``."""
    op.rename_table("messages", "callback_requests")


def downgrade() -> None:
    """Rename it back."""
    op.rename_table("callback_requests", "messages")
