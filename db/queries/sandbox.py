"""Questions about the sandbox: configs, their versions, test runs, outcomes, AI chats, cache, usage."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Text, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from db.models import (
    CriticalErrorLog,
    SandboxAIConversation,
    SandboxHistoricalCache,
    SandboxStats,
    SandboxStrategyConfig,
    SandboxTestRun,
)
from db.own_models import AuditLog, ConfigHistory
from db.queries.common import PAGE_SIZE, frame, has_table
from db.sqlfuncs import exact_eq, exact_in, json_text, safe_number, time_bucket
from db.types import InvalidJSON, naive_utc
from domain.config_schema import readable_version

C, R, A, H = SandboxStrategyConfig, SandboxTestRun, SandboxAIConversation, SandboxHistoricalCache
MAX_CONFIGS = 500  # configs are hand-made; a list this long is already more than anyone reads
MAX_RUNS = 500  # the backend purges runs older than 30 days
MAX_SEGMENTS = 60
BEFORE_CONSOLE = "(before the console)"

CONFIG_COLUMNS = {
    "id": "str",
    "name": "str",
    "strategy_id": "str",
    "user_id": "str",
    "version": "Int64",
    "is_active": "bool",
    "created_at": "utc",
    "updated_at": "utc",
    "deployed_at": "utc",
    "test_runs": "Int64",
    "ai_conversations": "Int64",
}
METRICS = (
    "total_opportunities",
    "avg_probability_profit",
    "avg_expected_value",
    "avg_premium",
    "avg_max_loss",
    "risk_reward_ratio",
    "symbols_with_opportunities",
)
RUN_COLUMNS = {
    "id": "str",
    "created_at": "utc",
    "execution_time_ms": "Int64",
    "opportunities_found": "Int64",
    **{m: "float" for m in METRICS},
    "shape": "str",
}


def _counts(column: Any) -> Any:
    return select(column.label("cid"), func.count().label("n")).group_by(column).subquery()


def configs(
    session: Session,
    *,
    strategy_ids: tuple[str, ...] = (),
    user_ids: tuple[str, ...] = (),
    active: str = "all",
) -> pd.DataFrame:
    """Configs with their test-run and conversation counts, newest change first (CONFIG_COLUMNS)."""
    runs, chats = _counts(R.config_id), _counts(A.config_id)
    stmt = (
        select(
            C.id,
            C.name,
            C.strategy_id,
            C.user_id,
            func.coalesce(C.version, 1).label("version"),
            C.is_active,
            C.created_at,
            C.updated_at,
            C.deployed_at,
            func.coalesce(runs.c.n, 0).label("test_runs"),
            func.coalesce(chats.c.n, 0).label("ai_conversations"),
        )
        .outerjoin(runs, runs.c.cid == C.id)
        .outerjoin(chats, chats.c.cid == C.id)
        .order_by(func.coalesce(C.updated_at, C.created_at).desc(), C.id)
        .limit(MAX_CONFIGS)
    )
    if strategy_ids:
        stmt = stmt.where(exact_in(C.strategy_id, list(strategy_ids)))
    if user_ids:
        stmt = stmt.where(exact_in(C.user_id, list(user_ids)))
    if active in ("active", "inactive"):
        stmt = stmt.where(
            C.is_active.is_(True)
            if active == "active"
            else or_(C.is_active.is_(False), C.is_active.is_(None))
        )
    return frame(session.execute(stmt).all(), CONFIG_COLUMNS)


def config_filter_values(session: Session) -> pd.DataFrame:
    """Strategy and user pairs with their number of configs (for the filters)."""
    stmt = (
        select(C.strategy_id, C.user_id, func.count().label("configs"))
        .group_by(C.strategy_id, C.user_id)
        .order_by(C.strategy_id, C.user_id)
        .limit(MAX_CONFIGS)
    )
    return frame(
        session.execute(stmt).all(), {"strategy_id": "str", "user_id": "str", "configs": "Int64"}
    )


def config_detail(session: Session, *, config_id: str) -> pd.DataFrame:
    """One config with its config_data (empty frame when it does not exist)."""
    stmt = select(
        C.id,
        C.name,
        C.strategy_id,
        C.user_id,
        func.coalesce(C.version, 1).label("version"),
        C.is_active,
        C.created_at,
        C.updated_at,
        C.deployed_at,
        C.config_data,
    ).where(C.id == config_id)
    cols = {k: v for k, v in CONFIG_COLUMNS.items() if k not in ("test_runs", "ai_conversations")}
    return frame(session.execute(stmt).all(), {**cols, "config_data": "object"})


HISTORY_COLUMNS = {
    "version": "Int64",
    "name": "str",
    "strategy_id": "str",
    "user_id": "str",
    "config_data": "object",
    "changed_by": "str",
    "changed_at": "utc",
    "note": "str",
}


def config_history(session: Session, *, config_id: str) -> pd.DataFrame:
    """Every version of a config, newest first; the backend's own current version included (HISTORY_COLUMNS).

    Without the console's migrations (no console_config_history) only the current version is known.
    A current version that is not a whole number (text stored by the backend on SQLite) has version NA.
    """
    hist = (
        []
        if not has_table(session, ConfigHistory.__tablename__)
        else [
            dict(r._mapping)
            for r in session.execute(
                select(
                    ConfigHistory.version,
                    ConfigHistory.name,
                    ConfigHistory.strategy_id,
                    ConfigHistory.user_id,
                    ConfigHistory.config_data,
                    ConfigHistory.changed_by,
                    ConfigHistory.changed_at,
                    ConfigHistory.note,
                )
                .where(ConfigHistory.config_id == config_id)
                .order_by(ConfigHistory.version.desc())
                .limit(MAX_RUNS)
            )
        ]
    )
    current = session.execute(select(C).where(C.id == config_id)).scalar_one_or_none()
    version = None if current is None else readable_version(current.version)
    if current is not None and (version is None or version not in {h["version"] for h in hist}):
        hist.insert(
            0,
            {
                "version": version,
                "name": current.name,
                "strategy_id": current.strategy_id,
                "user_id": current.user_id,
                "config_data": current.config_data,
                "changed_by": BEFORE_CONSOLE,
                "changed_at": current.updated_at or current.created_at,
                "note": "written by the backend",
            },
        )
    return frame(hist, HISTORY_COLUMNS)


def _metrics(raw: Any) -> dict[str, float | None]:
    data = raw if isinstance(raw, dict) else None
    if isinstance(raw, str) and not isinstance(raw, InvalidJSON):
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
    out: dict[str, float | None] = {}
    for key in METRICS:
        value = data.get(key) if isinstance(data, dict) else None
        out[key] = (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )
    return out


def config_runs(session: Session, *, config_id: str, limit: int = MAX_RUNS) -> pd.DataFrame:
    """A config's test runs, newest first, with performance metrics from either result shape (RUN_COLUMNS).

    Only `performance_metrics` leaves the database, not the opportunities of each run.
    """
    shape = case(
        (json_text(R.test_results, "strategy_type").is_not(None), literal("current")),
        (json_text(R.test_results, "market_data_used").is_not(None), literal("legacy")),
        else_=literal("other"),
    )
    stmt = (
        select(
            R.id,
            R.created_at,
            R.execution_time_ms,
            R.opportunities_found,
            json_text(R.test_results, "performance_metrics").label("pm"),
            shape.label("shape"),
        )
        .where(R.config_id == config_id)
        .order_by(R.created_at.desc(), R.id)
        .limit(min(limit, MAX_RUNS))
    )
    rows = [{**dict(r._mapping), **_metrics(r.pm)} for r in session.execute(stmt)]
    return frame(rows, RUN_COLUMNS)


def run_detail(session: Session, *, run_id: str) -> pd.DataFrame:
    """One test run with its parameters and results (empty frame when missing)."""
    stmt = select(
        R.id,
        R.config_id,
        R.created_at,
        R.execution_time_ms,
        R.opportunities_found,
        R.test_parameters,
        R.test_results,
    ).where(R.id == run_id)
    return frame(
        session.execute(stmt).all(),
        {
            "id": "str",
            "config_id": "str",
            "created_at": "utc",
            "execution_time_ms": "Int64",
            "opportunities_found": "Int64",
            "test_parameters": "object",
            "test_results": "object",
        },
    )


def _activation_events(session: Session, config_id: str) -> list[tuple[datetime, bool]]:
    if not has_table(session, AuditLog.__tablename__):
        return []
    stmt = (
        select(AuditLog.at, AuditLog.action)
        .where(
            AuditLog.target_type == "sandbox_config",
            AuditLog.target_id == config_id,
            AuditLog.action.in_(["config.activate", "config.deactivate"]),
        )
        .order_by(AuditLog.at)
        .limit(MAX_SEGMENTS)
    )
    return [(at, action == "config.activate") for at, action in session.execute(stmt)]


OUTCOME_COLUMNS = {
    "version": "Int64",
    "state": "str",
    "start": "utc",
    "end": "utc",
    "test_runs": "Int64",
    "opportunities": "Int64",
    "avg_expected_value": "float",
    "avg_probability_profit": "float",
    "errors_logged": "Int64",
}


def _segments(
    versions: list[tuple[int | None, datetime | None]],
    events: list[tuple[datetime, bool]],
    active_at_start: bool,
) -> list[dict[str, Any]]:
    """Cut time at every version change and activation change: (version, active, start, end); a
    version that is not a whole number is None."""
    cuts = sorted(
        [(at, "v", v) for v, at in versions if at is not None]
        + [(at, "a", on) for at, on in events],
        key=lambda c: c[0],
    )
    version: int | None = versions[0][0] if versions else 1
    active, start = active_at_start, None
    out: list[dict[str, Any]] = []
    for at, kind, value in cuts:
        if (kind == "v" and value == version) or (kind == "a" and value == active):
            continue
        if start is None or at > start:
            out.append({"version": version, "active": active, "start": start, "end": at})
        start = at
        if kind == "v":
            version = None if value is None else int(value)
        else:
            active = bool(value)
    out.append({"version": version, "active": active, "start": start, "end": None})
    return out[-MAX_SEGMENTS:]


def outcomes(session: Session, *, config_id: str) -> pd.DataFrame:
    """Per config version and activation window: runs, opportunities, mean EV and PoP, errors logged.

    `errors_logged` is NULL when the database has no critical_error_logs table.
    """
    history = config_history(session, config_id=config_id).sort_values("version")
    if history.empty:
        return frame([], OUTCOME_COLUMNS)
    versions = [
        (None if pd.isna(v) else int(v), None if pd.isna(t) else naive_utc(t.to_pydatetime()))
        for v, t in zip(history["version"], history["changed_at"], strict=True)
    ]
    versions[0] = (versions[0][0], None)  # runs before the first known version count for it
    events = _activation_events(session, config_id)
    current = session.execute(select(C.is_active, C.deployed_at).where(C.id == config_id)).first()
    if not events and current is not None and current.is_active and current.deployed_at is not None:
        events = [(current.deployed_at, True)]  # activated outside the console
    segments = _segments(versions, events, active_at_start=False)
    runs = config_runs(session, config_id=config_id)
    errors_table = has_table(session, CriticalErrorLog.__tablename__)
    rows = [_segment_row(session, seg, runs, errors_table) for seg in segments]
    return frame(rows, OUTCOME_COLUMNS)


def _segment_row(
    session: Session, seg: dict[str, Any], runs: pd.DataFrame, errors_table: bool
) -> dict[str, Any]:
    start = pd.Timestamp(seg["start"], tz="UTC") if seg["start"] else None
    end = pd.Timestamp(seg["end"], tz="UTC") if seg["end"] else None
    inside = runs
    if start is not None:
        inside = inside[inside["created_at"] >= start]
    if end is not None:
        inside = inside[inside["created_at"] < end]
    errors = None
    if errors_table:
        cond = [CriticalErrorLog.created_at >= seg["start"]] if seg["start"] else []
        cond += [CriticalErrorLog.created_at < seg["end"]] if seg["end"] else []
        errors = session.execute(
            select(func.count()).select_from(CriticalErrorLog).where(and_(True, *cond))
        ).scalar_one()
    return {
        "version": seg["version"],
        "state": "active" if seg["active"] else "inactive",
        "start": seg["start"],
        "end": seg["end"],
        "test_runs": len(inside),
        "opportunities": int(inside["opportunities_found"].sum()),
        "avg_expected_value": inside["avg_expected_value"].mean(),
        "avg_probability_profit": inside["avg_probability_profit"].mean(),
        "errors_logged": errors,
    }


CHAT_COLUMNS = {
    "id": "str",
    "created_at": "utc",
    "user_message": "str",
    "ai_response": "str",
    "model_used": "str",
    "tokens_used": "Int64",
    "estimated_cost": "str",
    "cost_usd": "float",
}


def ai_conversations(session: Session, *, config_id: str, limit: int = PAGE_SIZE) -> pd.DataFrame:
    """A config's latest AI conversations, oldest first (as a chat reads), cost parsed from '$0.0003'."""
    stmt = (
        select(
            A.id,
            A.created_at,
            A.user_message,
            A.ai_response,
            A.model_used,
            A.tokens_used,
            A.estimated_cost,
            safe_number(A.estimated_cost).label("cost_usd"),
        )
        .where(A.config_id == config_id)
        .order_by(A.created_at.desc(), A.id.desc())
        .limit(limit)
    )
    return frame(session.execute(stmt).all()[::-1], CHAT_COLUMNS)


def ai_totals(session: Session, *, config_id: str = "") -> pd.DataFrame:
    """Conversations, tokens and cost per config and model (all configs when config_id is empty)."""
    cost = safe_number(A.estimated_cost)
    stmt = (
        select(
            A.config_id,
            func.max(C.name).label("config_name"),
            A.model_used,
            func.count().label("conversations"),
            func.sum(A.tokens_used).label("tokens"),
            func.sum(cost).label("cost_usd"),
            func.sum(case((and_(cost.is_(None), A.estimated_cost.is_not(None)), 1), else_=0)).label(
                "unparsed_costs"
            ),
        )
        .outerjoin(C, C.id == A.config_id)
        .group_by(A.config_id, A.model_used)
        .order_by(A.config_id, A.model_used)
        .limit(MAX_CONFIGS)
    )
    if config_id:
        stmt = stmt.where(A.config_id == config_id)
    return frame(
        session.execute(stmt).all(),
        {
            "config_id": "str",
            "config_name": "str",
            "model_used": "str",
            "conversations": "Int64",
            "tokens": "Int64",
            "cost_usd": "float",
            "unparsed_costs": "Int64",
        },
    )


CACHE_COLUMNS = {
    "id": "str",
    "cache_key": "str",
    "symbol": "str",
    "data_type": "str",
    "size_bytes": "Int64",
    "cached_at": "utc",
    "expires_at": "utc",
    "expired": "bool",
}


def cache_entries(
    session: Session,
    *,
    now: datetime,
    symbol: str = "",
    data_type: str = "",
    expired_only: bool = False,
    after_key: str = "",
    limit: int = PAGE_SIZE,
) -> pd.DataFrame:
    """One page of cache entries in key order (keyset after `after_key`), expired ones marked."""
    cutoff = naive_utc(now)
    stmt = (
        select(
            H.id,
            H.cache_key,
            H.symbol,
            H.data_type,
            func.length(cast(H.data, Text)).label("size_bytes"),
            H.cached_at,
            H.expires_at,
            (H.expires_at < cutoff).label("expired"),
        )
        .order_by(H.cache_key)
        .limit(limit)
    )
    if symbol:
        stmt = stmt.where(exact_eq(H.symbol, symbol))
    if data_type:
        stmt = stmt.where(exact_eq(H.data_type, data_type))
    if expired_only:
        stmt = stmt.where(H.expires_at < cutoff)
    if after_key:
        stmt = stmt.where(H.cache_key > after_key)
    return frame(session.execute(stmt).all(), CACHE_COLUMNS)


def cache_summary(session: Session, *, now: datetime) -> pd.DataFrame:
    """Entries, expired entries and stored bytes per symbol and data type."""
    cutoff = naive_utc(now)
    stmt = (
        select(
            H.symbol,
            H.data_type,
            func.count().label("entries"),
            func.sum(case((H.expires_at < cutoff, 1), else_=0)).label("expired"),
            func.sum(func.length(cast(H.data, Text))).label("size_bytes"),
            func.max(H.cached_at).label("last_cached_at"),
        )
        .group_by(H.symbol, H.data_type)
        .order_by(H.symbol, H.data_type)
        .limit(1000)
    )
    return frame(
        session.execute(stmt).all(),
        {
            "symbol": "str",
            "data_type": "str",
            "entries": "Int64",
            "expired": "Int64",
            "size_bytes": "Int64",
            "last_cached_at": "utc",
        },
    )


def cache_entry(session: Session, *, entry_id: str) -> pd.DataFrame:
    """One cache entry with its JSON data (empty frame when missing)."""
    stmt = select(
        H.id, H.cache_key, H.symbol, H.data_type, H.cached_at, H.expires_at, H.data
    ).where(H.id == entry_id)
    return frame(
        session.execute(stmt).all(),
        {
            "id": "str",
            "cache_key": "str",
            "symbol": "str",
            "data_type": "str",
            "cached_at": "utc",
            "expires_at": "utc",
            "data": "object",
        },
    )


USAGE_COLUMNS = {
    "day": "utc",
    "user_id": "str",
    "strategies_created": "Int64",
    "test_runs_executed": "Int64",
    "ai_conversations": "Int64",
    "opportunities_generated": "Int64",
    "total_ai_cost_usd": "float",
    "source": "str",
}
_COUNTERS = (
    "strategies_created",
    "test_runs_executed",
    "ai_conversations",
    "opportunities_generated",
    "total_ai_cost_usd",
)


def usage_stats(session: Session, *, since: datetime, until: datetime) -> pd.DataFrame:
    """Usage per user and day: from sandbox_stats when it has rows, else computed live like the backend's API."""
    lo, hi = naive_utc(since), naive_utc(until)
    S = SandboxStats  # noqa: N806 - table alias, as C, R, A, H above
    day = time_bucket(S.date, "day")
    stmt = (
        select(
            day.label("day"),
            S.user_id,
            func.sum(S.strategies_created).label("strategies_created"),
            func.sum(S.test_runs_executed).label("test_runs_executed"),
            func.sum(S.ai_conversations).label("ai_conversations"),
            func.sum(S.opportunities_generated).label("opportunities_generated"),
            func.sum(safe_number(S.total_ai_cost)).label("total_ai_cost_usd"),
        )
        .where(S.date >= lo, S.date < hi)
        .group_by(day, S.user_id)
        .order_by(day.desc(), S.user_id)
        .limit(5000)
    )
    stored = [{**dict(r._mapping), "source": "sandbox_stats"} for r in session.execute(stmt)]
    if stored:
        return frame(stored, USAGE_COLUMNS)
    return frame(_live_usage(session, lo, hi), USAGE_COLUMNS)


def _live_usage(session: Session, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    parts: list[tuple[str, Any, Any, Any]] = [
        ("strategies_created", C.created_at, func.count(), None),
        ("test_runs_executed", R.created_at, func.count(), R),
        ("opportunities_generated", R.created_at, func.sum(R.opportunities_found), R),
        ("ai_conversations", A.created_at, func.count(), A),
        ("total_ai_cost_usd", A.created_at, func.sum(safe_number(A.estimated_cost)), A),
    ]
    table: dict[tuple[int, str], dict[str, Any]] = {}
    for name, col, agg, child in parts:
        day = time_bucket(col, "day")
        stmt = select(day.label("day"), C.user_id, agg.label("v")).where(col >= lo, col < hi)
        stmt = (
            stmt.select_from(child).join(C, C.id == child.config_id) if child is not None else stmt
        )
        for d, user, v in session.execute(stmt.group_by(day, C.user_id).limit(5000)):
            row = table.setdefault(
                (int(d), user), {"day": int(d), "user_id": user, **{k: 0 for k in _COUNTERS}}
            )
            row[name] = v or 0
    return [
        {**row, "source": "live"}
        for _, row in sorted(table.items(), key=lambda kv: (-kv[0][0], kv[0][1]))
    ]
