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


_INDEXES = {  # old name -> (new name, columns)
    "ix_messages_conversation_id": ("ix_callback_requests_conversation_id", ["conversation_id"]),
    "ix_messages_status_created": ("ix_callback_requests_status_created", ["status", "created_at"]),
}


def upgrade() -> None:
    """Rename ``messages`` to ``callback_requests`` (and its indexes)."""
    op.rename_table("messages", "callback_requests")
    for old, (new, columns) in _INDEXES.items():
        op.drop_index(old, table_name="callback_requests")
        op.create_index(new, "callback_requests", columns)


def downgrade() -> None:
    """Rename it back."""
    for old, (new, columns) in _INDEXES.items():
        op.drop_index(new, table_name="callback_requests")
        op.create_index(old, "callback_requests", columns)
    op.rename_table("callback_requests", "messages")
