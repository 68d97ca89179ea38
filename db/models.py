"""The scanner backend's nine tables, column for column (BACKEND.md section 2).

These tables belong to the backend: never alter them. Tables the dashboard owns live in
`db/own_models.py` and arrive through Alembic.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import Double, LenientJSON, Str, UtcDateTime


def new_uuid() -> str:
    """The backend's string primary key: str(uuid4())."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Naive UTC now, as the backend's `datetime.utcnow` writes it."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of the backend's tables."""


class CriticalErrorLog(Base):
    __tablename__ = "critical_error_logs"

    id: Mapped[str] = mapped_column(Str(), primary_key=True, default=new_uuid)
    error_type: Mapped[str] = mapped_column(Str(), nullable=False, index=True)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    details: Mapped[Any | None] = mapped_column(LenientJSON, nullable=True)
    service: Mapped[str | None] = mapped_column(Str(), nullable=True)
    user_id: Mapped[str | None] = mapped_column(Str(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolution_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    severity: Mapped[str] = mapped_column(Str(), nullable=False, default="HIGH")


class SystemHealthStatus(Base):
    __tablename__ = "system_health_status"

    id: Mapped[str] = mapped_column(Str(), primary_key=True, default=new_uuid)
    check_timestamp: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    service_name: Mapped[str] = mapped_column(Str(), nullable=False, index=True)
    status: Mapped[str] = mapped_column(Str(), nullable=False)
    response_time_ms: Mapped[str | None] = mapped_column(Str(), nullable=True)
    error_count_24h: Mapped[str | None] = mapped_column(Str(), nullable=True)
    details: Mapped[Any | None] = mapped_column(LenientJSON, nullable=True)


class ScanSession(Base):
    __tablename__ = "scan_sessions"

    id: Mapped[str] = mapped_column(Str(), primary_key=True, default=new_uuid)
    strategy: Mapped[str] = mapped_column(Str(), nullable=False, index=True)
    symbols_scanned: Mapped[Any | None] = mapped_column(LenientJSON)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    opportunities_found: Mapped[int | None] = mapped_column(Integer, default=0)
    status: Mapped[str | None] = mapped_column(Str(), default="RUNNING", index=True)
    error_message: Mapped[str | None] = mapped_column(Text)
    scan_parameters: Mapped[Any | None] = mapped_column(LenientJSON)

    opportunities: Mapped[list[OpportunitySnapshot]] = relationship(
        back_populates="scan_session", cascade="all, delete-orphan"
    )


class OpportunitySnapshot(Base):
    __tablename__ = "opportunity_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, index=True)
    opportunity_id: Mapped[str] = mapped_column(Str(), nullable=False, unique=True, index=True)
    symbol: Mapped[str] = mapped_column(Str(), nullable=False, index=True)
    strategy_type: Mapped[str] = mapped_column(Str(), nullable=False, index=True)
    data: Mapped[Any] = mapped_column(LenientJSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), nullable=False, default=utcnow, index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    last_updated: Mapped[datetime | None] = mapped_column(
        UtcDateTime(), default=utcnow, onupdate=utcnow
    )
    scan_session_id: Mapped[str | None] = mapped_column(
        Str(), ForeignKey("scan_sessions.id"), nullable=True, index=True
    )
    is_active: Mapped[bool | None] = mapped_column(Boolean, default=True, index=True)
    cache_hits: Mapped[int | None] = mapped_column(Integer, default=0)
    premium: Mapped[float | None] = mapped_column(Double(), default=0, index=True)
    max_loss: Mapped[float | None] = mapped_column(Double(), default=0, index=True)
    probability_profit: Mapped[float | None] = mapped_column(Double(), default=0, index=True)
    expected_value: Mapped[float | None] = mapped_column(Double(), default=0, index=True)
    days_to_expiration: Mapped[int | None] = mapped_column(Integer, default=0, index=True)
    underlying_price: Mapped[float | None] = mapped_column(Double(), default=0, index=True)
    liquidity_score: Mapped[float | None] = mapped_column(Double(), default=0, index=True)

    scan_session: Mapped[ScanSession | None] = relationship(back_populates="opportunities")


class SandboxStrategyConfig(Base):
    __tablename__ = "sandbox_strategy_configs"
    __table_args__ = (
        Index("idx_user_strategy", "user_id", "strategy_id"),
        Index("idx_active", "is_active"),
    )

    id: Mapped[str] = mapped_column(Str(), primary_key=True, default=new_uuid)
    user_id: Mapped[str] = mapped_column(Str(50), nullable=False, default="default_user")
    strategy_id: Mapped[str] = mapped_column(Str(100), nullable=False)
    name: Mapped[str] = mapped_column(Str(200), nullable=False)
    config_data: Mapped[Any] = mapped_column(LenientJSON, nullable=False)
    version: Mapped[int | None] = mapped_column(Integer, default=1)
    is_active: Mapped[bool | None] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime(), default=func.now(), onupdate=func.now()
    )
    deployed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    test_runs: Mapped[list[SandboxTestRun]] = relationship(back_populates="config")
    ai_conversations: Mapped[list[SandboxAIConversation]] = relationship(back_populates="config")


class SandboxTestRun(Base):
    __tablename__ = "sandbox_test_runs"
    __table_args__ = (
        Index("idx_config_id", "config_id"),
        Index("idx_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(Str(), primary_key=True, default=new_uuid)
    config_id: Mapped[str] = mapped_column(
        Str(), ForeignKey("sandbox_strategy_configs.id"), nullable=False
    )
    test_parameters: Mapped[Any] = mapped_column(LenientJSON, nullable=False)
    execution_time_ms: Mapped[int | None] = mapped_column(Integer)
    opportunities_found: Mapped[int | None] = mapped_column(Integer, default=0)
    test_results: Mapped[Any] = mapped_column(LenientJSON, nullable=False)
    cached_data_used: Mapped[Any | None] = mapped_column(LenientJSON)
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=func.now())

    config: Mapped[SandboxStrategyConfig] = relationship(back_populates="test_runs")


class SandboxAIConversation(Base):
    __tablename__ = "sandbox_ai_conversations"
    __table_args__ = (
        Index("idx_config_id_ai", "config_id"),
        Index("idx_created_at_ai", "created_at"),
    )

    id: Mapped[str] = mapped_column(Str(), primary_key=True, default=new_uuid)
    config_id: Mapped[str] = mapped_column(
        Str(), ForeignKey("sandbox_strategy_configs.id"), nullable=False
    )
    user_message: Mapped[str] = mapped_column(Text, nullable=False)
    ai_response: Mapped[str] = mapped_column(Text, nullable=False)
    context_data: Mapped[Any | None] = mapped_column(LenientJSON)
    model_used: Mapped[str | None] = mapped_column(Str(50), default="gpt-4o-mini")
    tokens_used: Mapped[int | None] = mapped_column(Integer, default=0)
    estimated_cost: Mapped[str | None] = mapped_column(Str(20), default="$0.00")
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=func.now())

    config: Mapped[SandboxStrategyConfig] = relationship(back_populates="ai_conversations")


class SandboxHistoricalCache(Base):
    __tablename__ = "sandbox_historical_cache"
    __table_args__ = (
        Index("idx_symbol_type", "symbol", "data_type"),
        Index("idx_expires_at", "expires_at"),
        Index("idx_cache_key", "cache_key"),
    )

    id: Mapped[str] = mapped_column(Str(), primary_key=True, default=new_uuid)
    cache_key: Mapped[str] = mapped_column(Str(200), nullable=False, unique=True)
    symbol: Mapped[str] = mapped_column(Str(10), nullable=False)
    data_type: Mapped[str] = mapped_column(Str(50), nullable=False)
    data: Mapped[Any] = mapped_column(LenientJSON, nullable=False)
    cached_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=func.now())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class SandboxStats(Base):
    __tablename__ = "sandbox_stats"
    __table_args__ = (Index("idx_user_date", "user_id", "date"),)

    id: Mapped[str] = mapped_column(Str(), primary_key=True, default=new_uuid)
    user_id: Mapped[str] = mapped_column(Str(50), nullable=False, default="default_user")
    date: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=func.now())
    strategies_created: Mapped[int | None] = mapped_column(Integer, default=0)
    test_runs_executed: Mapped[int | None] = mapped_column(Integer, default=0)
    ai_conversations: Mapped[int | None] = mapped_column(Integer, default=0)
    total_ai_cost: Mapped[str | None] = mapped_column(Str(20), default="$0.00")
    opportunities_generated: Mapped[int | None] = mapped_column(Integer, default=0)


BACKEND_TABLES: tuple[str, ...] = tuple(Base.metadata.tables)
