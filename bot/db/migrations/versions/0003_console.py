"""console: officers' review console (accounts, sessions, audit log, inbox, groups, jobs).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 07:10:40

Tables are defined in ``bot/console/models.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the console tables."""
    op.create_table(
        "console_audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("remote", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_audit_log")),
    )
    with op.batch_alter_table("console_audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_console_audit_log_created", ["created_at"], unique=False)

    op.create_table(
        "console_clusters",
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_console_clusters")),
    )
    op.create_table(
        "console_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(length=40), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("norm_text", sa.String(length=255), nullable=False),
        sa.Column("cluster_key", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=120), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("is_fallback", sa.Boolean(), nullable=False),
        sa.Column("is_low_confidence", sa.Boolean(), nullable=False),
        sa.Column("is_out_of_scope", sa.Boolean(), nullable=False),
        sa.Column("is_thumbs_down", sa.Boolean(), nullable=False),
        sa.Column("is_message", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("annotated_intent", sa.String(length=120), nullable=True),
        sa.Column("annotated_text", sa.Text(), nullable=True),
        sa.Column("proposed_intent", sa.String(length=120), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('new', 'reviewed', 'not_useful')", name=op.f("ck_console_items_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_items")),
        sa.UniqueConstraint("source_key", name=op.f("uq_console_items_source_key")),
    )
    with op.batch_alter_table("console_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_console_items_cluster_occurred", ["cluster_key", "occurred_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_console_items_norm_text"), ["norm_text"], unique=False)
        batch_op.create_index("ix_console_items_occurred", ["occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_items_sender_id"), ["sender_id"], unique=False)
        batch_op.create_index(
            "ix_console_items_status_occurred", ["status", "occurred_at"], unique=False
        )

    op.create_table(
        "console_feedback_seen",
        sa.Column("feedback_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("feedback_id", name=op.f("pk_console_feedback_seen")),
    )
    op.create_table(
        "console_login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("remote", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_login_attempts")),
    )
    with op.batch_alter_table("console_login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_console_login_attempts_username_at", ["username", "created_at"], unique=False
        )

    op.create_table(
        "console_retrain_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("log_path", sa.Text(), nullable=False),
        sa.Column("return_code", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_retrain_jobs")),
    )
    op.create_table(
        "console_state",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_console_state")),
    )
    op.create_table(
        "console_texts",
        sa.Column("norm_text", sa.String(length=255), nullable=False),
        sa.Column("cluster_key", sa.String(length=16), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("norm_text", name=op.f("pk_console_texts")),
    )
    with op.batch_alter_table("console_texts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_texts_cluster_key"), ["cluster_key"], unique=False
        )

    op.create_table(
        "console_user_messages",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("is_fallback", sa.Boolean(), nullable=False),
        sa.Column("is_unanswered", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_console_user_messages")),
    )
    with op.batch_alter_table("console_user_messages", schema=None) as batch_op:
        batch_op.create_index("ix_console_user_messages_day", ["day"], unique=False)

    op.create_table(
        "console_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("role IN ('officer', 'admin')", name=op.f("ck_console_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_users")),
        sa.UniqueConstraint("username", name=op.f("uq_console_users_username")),
    )
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_console_sessions_user_id_console_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_sessions_token_hash")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    """Drop the console tables."""
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_id"))

    op.drop_table("console_sessions")
    op.drop_table("console_users")
    with op.batch_alter_table("console_user_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_console_user_messages_day")

    op.drop_table("console_user_messages")
    with op.batch_alter_table("console_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_texts_cluster_key"))

    op.drop_table("console_texts")
    op.drop_table("console_state")
    op.drop_table("console_retrain_jobs")
    with op.batch_alter_table("console_login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_console_login_attempts_username_at")

    op.drop_table("console_login_attempts")
    op.drop_table("console_feedback_seen")
    with op.batch_alter_table("console_items", schema=None) as batch_op:
        batch_op.drop_index("ix_console_items_status_occurred")
        batch_op.drop_index(batch_op.f("ix_console_items_sender_id"))
        batch_op.drop_index("ix_console_items_occurred")
        batch_op.drop_index(batch_op.f("ix_console_items_norm_text"))
        batch_op.drop_index("ix_console_items_cluster_occurred")

    op.drop_table("console_items")
    op.drop_table("console_clusters")
    with op.batch_alter_table("console_audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_console_audit_log_created")

    op.drop_table("console_audit_log")
