"""The history of error resolutions: every resolve and unresolve, with who, when and the note.

Revision ID: 0002_error_resolution_history
Revises: 0001_console_tables
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from db.types import Str, UtcDateTime

revision = "0002_error_resolution_history"
down_revision = "0001_console_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_error_resolution_history",
        sa.Column("id", Str(64), primary_key=True),
        sa.Column("error_id", Str(255), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", Str(200), nullable=False),
        sa.Column("action", Str(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_console_error_resolution_history_error",
        "console_error_resolution_history",
        ["error_id", "at"],
    )


def downgrade() -> None:
    op.drop_table("console_error_resolution_history")
