"""Questions about the console's audit trail (console_audit_log)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from db.own_models import AuditLog
from db.queries.common import COUNT_CAP, PAGE_SIZE, capped_count, frame
from db.sqlfuncs import exact_eq, exact_in
from db.types import naive_utc

L = AuditLog
AUDIT_COLUMNS = {
    "id": "str",
    "at": "utc",
    "actor": "str",
    "action": "str",
    "target_type": "str",
    "target_id": "str",
    "before": "object",
    "after": "object",
    "note": "str",
}


def _filtered(
    stmt: Select[Any],
    *,
    since: datetime,
    until: datetime,
    actors: tuple[str, ...],
    actions: tuple[str, ...],
    target_type: str,
    target_id: str,
) -> Select[Any]:
    stmt = stmt.where(L.at >= naive_utc(since), L.at < naive_utc(until))
    if actors:
        stmt = stmt.where(exact_in(L.actor, list(actors)))
    if actions:
        stmt = stmt.where(exact_in(L.action, list(actions)))
    if target_type:
        stmt = stmt.where(exact_eq(L.target_type, target_type))
    if target_id:
        stmt = stmt.where(exact_eq(L.target_id, target_id))
    return stmt


def audit_entries(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    actors: tuple[str, ...] = (),
    actions: tuple[str, ...] = (),
    target_type: str = "",
    target_id: str = "",
    before_at: datetime | None = None,
    before_id: str = "",
    limit: int = PAGE_SIZE,
) -> pd.DataFrame:
    """One page of audit rows, newest first; keyset: rows strictly older than (before_at, before_id)."""
    stmt = _filtered(
        select(
            L.id, L.at, L.actor, L.action, L.target_type, L.target_id, L.before, L.after, L.note
        ),
        since=since,
        until=until,
        actors=actors,
        actions=actions,
        target_type=target_type,
        target_id=target_id,
    )
    if before_at is not None:
        at = naive_utc(before_at)
        stmt = stmt.where(or_(L.at < at, and_(L.at == at, L.id < before_id)))
    stmt = stmt.order_by(L.at.desc(), L.id.desc()).limit(min(limit, COUNT_CAP))
    return frame(session.execute(stmt).all(), AUDIT_COLUMNS)


def audit_count(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    actors: tuple[str, ...] = (),
    actions: tuple[str, ...] = (),
    target_type: str = "",
    target_id: str = "",
) -> int:
    """How many audit rows match the filters (capped at COUNT_CAP)."""
    stmt = _filtered(
        select(L.id),
        since=since,
        until=until,
        actors=actors,
        actions=actions,
        target_type=target_type,
        target_id=target_id,
    )
    return capped_count(session, stmt, COUNT_CAP)


def audit_filter_values(session: Session, *, since: datetime, until: datetime) -> pd.DataFrame:
    """Actor, action and target type combinations in the window, with their row counts."""
    stmt = (
        select(L.actor, L.action, L.target_type, func.count().label("entries"))
        .where(L.at >= naive_utc(since), L.at < naive_utc(until))
        .group_by(L.actor, L.action, L.target_type)
        .order_by(L.actor, L.action)
        .limit(2000)
    )
    return frame(
        session.execute(stmt).all(),
        {"actor": "str", "action": "str", "target_type": "str", "entries": "Int64"},
    )
