"""Tables the dashboard owns (never the backend's): the audit trail, config history and the history
of error resolutions.

They have their own metadata, are created only by Alembic (`alembic upgrade head`), and are
prefixed `console_` so they never collide with the backend's tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.models import new_uuid, utcnow
from db.types import LenientJSON, Str, UtcDateTime


class OwnBase(DeclarativeBase):
    """Declarative base of the console's own tables."""


class AuditLog(OwnBase):
    """One row per write the console made: who, when, what, before, after, note."""

    __tablename__ = "console_audit_log"
    __table_args__ = (
        Index("ix_console_audit_log_at", "at"),
        Index("ix_console_audit_log_target", "target_type", "target_id"),
    )

    id: Mapped[str] = mapped_column(Str(64), primary_key=True, default=new_uuid)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(Str(200), nullable=False)
    action: Mapped[str] = mapped_column(Str(64), nullable=False)
    target_type: Mapped[str] = mapped_column(Str(64), nullable=False)
    target_id: Mapped[str] = mapped_column(Str(255), nullable=False)
    before: Mapped[Any | None] = mapped_column(LenientJSON, nullable=True)
    after: Mapped[Any | None] = mapped_column(LenientJSON, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ConfigHistory(OwnBase):
    """Every saved version of a sandbox config (the backend keeps only the latest)."""

    __tablename__ = "console_config_history"
    __table_args__ = (
        UniqueConstraint("config_id", "version", name="uq_console_config_history_version"),
    )

    id: Mapped[str] = mapped_column(Str(64), primary_key=True, default=new_uuid)
    config_id: Mapped[str] = mapped_column(Str(255), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(Str(200), nullable=False)
    strategy_id: Mapped[str] = mapped_column(Str(100), nullable=False)
    user_id: Mapped[str] = mapped_column(Str(50), nullable=False)
    config_data: Mapped[Any] = mapped_column(LenientJSON, nullable=False)
    changed_by: Mapped[str] = mapped_column(Str(200), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ErrorResolution(OwnBase):
    """Every resolve and unresolve of a critical error (the backend keeps only the latest note).

    `action` is 'resolved' or 'unresolved'. A resolution the console found already in place (made
    by the backend or before this table existed) is recorded when it is first undone, so no
    earlier note is lost.
    """

    __tablename__ = "console_error_resolution_history"
    __table_args__ = (Index("ix_console_error_resolution_history_error", "error_id", "at"),)

    id: Mapped[str] = mapped_column(Str(64), primary_key=True, default=new_uuid)
    error_id: Mapped[str] = mapped_column(Str(255), nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(Str(200), nullable=False)
    action: Mapped[str] = mapped_column(Str(32), nullable=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


OWN_TABLES: tuple[str, ...] = tuple(OwnBase.metadata.tables)
