"""The service timeline: health, errors, scans and config activations on one time axis, and
"what changed before this moment?". Reads several domains; cached as 'meta' (short TTL).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import SandboxStrategyConfig as C
from db.models import ScanSession as S
from db.own_models import AuditLog
from db.queries import errors as eq
from db.queries import health as hq
from db.queries import scans as sq
from db.queries.common import frame, has_table

MAX_EVENTS = 200
ACTIVATION_ACTIONS = ("config.activate", "config.deactivate")
SCAN_COLUMNS = {"bucket": "utc", "failed": "Int64", "stalled": "Int64", "runs": "Int64"}
ACTIVATION_COLUMNS = {"at": "utc", "config_id": "str", "name": "str", "what": "str", "by": "str"}
CHANGE_COLUMNS = {"at": "utc", "kind": "str", "service": "str", "what": "str", "ref": "str"}


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo is not None else ts


def scan_problems(session: Session, *, since: datetime, until: datetime, now: datetime, bucket_s: int) -> pd.DataFrame:
    """FAILED and stalled scans (all strategies) per time bucket. Columns SCAN_COLUMNS."""
    per_strategy = sq.strategy_timeline(session, since=since, until=until, now=now, bucket_s=bucket_s)
    if per_strategy.empty:
        return frame([], SCAN_COLUMNS)
    summed = per_strategy.groupby("bucket", as_index=False)[["failed", "stalled", "runs"]].sum()
    return frame(summed.to_dict("records"), SCAN_COLUMNS)


def config_activations(session: Session, *, since: datetime, until: datetime) -> pd.DataFrame:
    """Sandbox config activations in the window: the backend's deployed_at, and the console's own
    activate/deactivate audit rows. Columns ACTIVATION_COLUMNS, oldest first."""
    s, u = _naive(since), _naive(until)
    rows: list[dict[str, Any]] = [
        {"at": r.deployed_at, "config_id": r.id, "name": r.name, "what": "deployed (backend)", "by": r.user_id}
        for r in session.execute(select(C.id, C.name, C.user_id, C.deployed_at)
                                 .where(C.deployed_at >= s, C.deployed_at < u)
                                 .order_by(C.deployed_at).limit(MAX_EVENTS)).all()]
    if has_table(session, AuditLog.__tablename__):
        names = {}
        audit = session.execute(select(AuditLog.at, AuditLog.action, AuditLog.target_id, AuditLog.actor)
                                .where(AuditLog.action.in_(ACTIVATION_ACTIONS), AuditLog.at >= s, AuditLog.at < u)
                                .order_by(AuditLog.at).limit(MAX_EVENTS)).all()
        ids = sorted({r.target_id for r in audit})
        if ids:
            names = dict(session.execute(select(C.id, C.name).where(C.id.in_(ids))).all())
        rows += [{"at": r.at, "config_id": r.target_id, "name": names.get(r.target_id),
                  "what": "activated" if r.action == "config.activate" else "deactivated", "by": r.actor}
                 for r in audit]
    df = frame(rows, ACTIVATION_COLUMNS)
    return df.sort_values("at", kind="stable").reset_index(drop=True)


def failed_scans(session: Session, *, since: datetime, until: datetime) -> pd.DataFrame:
    """FAILED scans started in the window, newest first. Columns: at, strategy, error_message, id."""
    stmt = (select(S.started_at.label("at"), S.strategy, S.error_message, S.id)
            .where(S.started_at >= _naive(since), S.started_at < _naive(until), func.upper(S.status) == "FAILED")
            .order_by(S.started_at.desc()).limit(MAX_EVENTS))
    return frame(session.execute(stmt).all(), {"at": "utc", "strategy": "str", "error_message": "str", "id": "str"})


def changes_before(session: Session, *, at: datetime, minutes: int, service: str | None = None) -> pd.DataFrame:
    """What changed in the `minutes` before `at`: status transitions, error groups seen for the first
    time, failed scans and config activations, newest first. Columns CHANGE_COLUMNS."""
    since = at - timedelta(minutes=minutes)
    out: list[dict[str, Any]] = []
    runs = hq.state_runs(session, since=since, until=at, service=service)
    prev: dict[str, str] = {}
    for r in runs.itertuples():
        if not r.carried_in and r.service in prev:
            out.append({"at": r.start, "kind": "status", "service": r.service,
                        "what": f"{prev[r.service]} → {r.state}", "ref": r.service})
        prev[r.service] = r.state
    services = (service,) if service is not None else ()
    groups = eq.error_groups(session, since=since, until=at, status="all", services=services)
    since_ts = pd.Timestamp(_naive(since), tz="UTC")
    for g in groups[groups["first_seen"] >= since_ts].itertuples():
        out.append({"at": g.first_seen, "kind": "new error group", "service": g.service,
                    "what": f"{g.error_type}: {g.message}", "ref": g.fingerprint})
    for sc in failed_scans(session, since=since, until=at).itertuples():
        out.append({"at": sc.at, "kind": "failed scan", "service": None,
                    "what": f"{sc.strategy}: {sc.error_message or '(no message)'}", "ref": sc.id})
    for a in config_activations(session, since=since, until=at).itertuples():
        out.append({"at": a.at, "kind": "config " + a.what, "service": None,
                    "what": f"{a.name or a.config_id} (by {a.by or 'unknown'})", "ref": a.config_id})
    df = frame(out, CHANGE_COLUMNS)
    return df.sort_values("at", ascending=False, kind="stable").reset_index(drop=True)
