"""The console's own tables: audit log and config history.

Revision ID: 0001_console_tables
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from db.types import LenientJSON, Str, UtcDateTime

revision = "0001_console_tables"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_audit_log",
        sa.Column("id", Str(64), primary_key=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", Str(200), nullable=False),
        sa.Column("action", Str(64), nullable=False),
        sa.Column("target_type", Str(64), nullable=False),
        sa.Column("target_id", Str(255), nullable=False),
        sa.Column("before", LenientJSON(), nullable=True),
        sa.Column("after", LenientJSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_console_audit_log_at", "console_audit_log", ["at"])
    op.create_index(
        "ix_console_audit_log_target", "console_audit_log", ["target_type", "target_id"]
    )
    op.create_table(
        "console_config_history",
        sa.Column("id", Str(64), primary_key=True),
        sa.Column("config_id", Str(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", Str(200), nullable=False),
        sa.Column("strategy_id", Str(100), nullable=False),
        sa.Column("user_id", Str(50), nullable=False),
        sa.Column("config_data", LenientJSON(), nullable=False),
        sa.Column("changed_by", Str(200), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("config_id", "version", name="uq_console_config_history_version"),
    )
    op.create_index("ix_console_config_history_config_id", "console_config_history", ["config_id"])


def downgrade() -> None:
    op.drop_table("console_config_history")
    op.drop_table("console_audit_log")
