"""console review: login throttle, low-margin items, model deployment of retrain jobs.

Revision ID: 0004_console
Revises: 0003
Create Date: 2026-12-02 12:00:00

- ``console_login_throttle``: failed logins per account name (existing or not) and per client,
  with their locks; replaces ``console_users.failed_logins`` / ``locked_until``.
- ``console_items.is_low_margin``: answers whose top two intents were too close.
- ``console_retrain_jobs.model_path`` / ``deploy_status`` / ``deploy_message``: the model a
  retrain produced and whether the running Rasa server loaded it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_console"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "console_login_throttle",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_console_login_throttle")),
    )
    with op.batch_alter_table("console_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_low_margin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("console_retrain_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_path", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("deploy_status", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("deploy_message", sa.Text(), nullable=True))
    with op.batch_alter_table("console_users", schema=None) as batch_op:
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("console_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("console_retrain_jobs", schema=None) as batch_op:
        batch_op.drop_column("deploy_message")
        batch_op.drop_column("deploy_status")
        batch_op.drop_column("model_path")
    with op.batch_alter_table("console_items", schema=None) as batch_op:
        batch_op.drop_column("is_low_margin")
    op.drop_table("console_login_throttle")
