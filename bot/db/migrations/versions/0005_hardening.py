"""hardening: per-client lookup limits, revoked web-chat conversations.

Revision ID: 0005
Revises: 0004_console
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``lookup_audit.client_key`` and the ``revoked_conversations`` table."""
    with op.batch_alter_table("lookup_audit") as batch:
        batch.add_column(sa.Column("client_key", sa.String(length=64), nullable=True))
        batch.create_index("ix_lookup_audit_client_created", ["client_key", "created_at"])
    op.create_table(
        "revoked_conversations",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id"),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("revoked_conversations")
    with op.batch_alter_table("lookup_audit") as batch:
        batch.drop_index("ix_lookup_audit_client_created")
        batch.drop_column("client_key")
