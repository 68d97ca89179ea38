"""The service timeline: health, errors, scans and config activations on one time axis, and
"what changed before this moment?". Reads several domains; cached as 'meta' (short TTL).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import CriticalErrorLog as E
from db.models import SandboxStrategyConfig as C
from db.models import ScanSession as S
from db.own_models import AuditLog
from db.queries import errors as eq
from db.queries import health as hq
from db.queries import scans as sq
from db.queries.common import frame, has_table
from db.sqlfuncs import exact, exact_eq
from db.types import naive_utc
from domain.fingerprint import fingerprint

MAX_EVENTS = 200
# An error group is "new" when none of its errors was logged in this long before the period
# (the Errors page reads the same 30 days of history for a group's first_seen).
NEW_GROUP_HORIZON = eq.HISTORY_MIN
# Distinct messages of one (type, service) read from the history when a window message has no exact
# earlier twin and its fingerprint must be compared with the history's.
MAX_HISTORY_MESSAGES = 5_000
NEW_GROUP_COLUMNS = {
    "fingerprint": "str",
    "error_type": "str",
    "service": "str",
    "message": "str",
    "first_seen": "utc",
}
ACTIVATION_ACTIONS = ("config.activate", "config.deactivate")
SCAN_COLUMNS = {"bucket": "utc", "failed": "Int64", "stalled": "Int64", "runs": "Int64"}
ACTIVATION_COLUMNS = {"at": "utc", "config_id": "str", "name": "str", "what": "str", "by": "str"}
CHANGE_COLUMNS = {"at": "utc", "kind": "str", "service": "str", "what": "str", "ref": "str"}


def scan_problems(
    session: Session, *, since: datetime, until: datetime, now: datetime, bucket_s: int
) -> pd.DataFrame:
    """FAILED and stalled scans (all strategies) per time bucket. Columns SCAN_COLUMNS."""
    per_strategy = sq.strategy_timeline(
        session, since=since, until=until, now=now, bucket_s=bucket_s
    )
    if per_strategy.empty:
        return frame([], SCAN_COLUMNS)
    summed = per_strategy.groupby("bucket", as_index=False)[["failed", "stalled", "runs"]].sum()
    return frame(summed.to_dict("records"), SCAN_COLUMNS)


def config_activations(session: Session, *, since: datetime, until: datetime) -> pd.DataFrame:
    """Sandbox config activations in the window: the backend's deployed_at, and the console's own
    activate/deactivate audit rows. Columns ACTIVATION_COLUMNS, oldest first."""
    s, u = naive_utc(since), naive_utc(until)
    rows: list[dict[str, Any]] = [
        {
            "at": r.deployed_at,
            "config_id": r.id,
            "name": r.name,
            "what": "deployed (backend)",
            "by": r.user_id,
        }
        for r in session.execute(
            select(C.id, C.name, C.user_id, C.deployed_at)
            .where(C.deployed_at >= s, C.deployed_at < u)
            .order_by(C.deployed_at)
            .limit(MAX_EVENTS)
        ).all()
    ]
    if has_table(session, AuditLog.__tablename__):
        names = {}
        audit = session.execute(
            select(AuditLog.at, AuditLog.action, AuditLog.target_id, AuditLog.actor)
            .where(AuditLog.action.in_(ACTIVATION_ACTIONS), AuditLog.at >= s, AuditLog.at < u)
            .order_by(AuditLog.at)
            .limit(MAX_EVENTS)
        ).all()
        ids = sorted({r.target_id for r in audit})
        if ids:
            names = dict(session.execute(select(C.id, C.name).where(C.id.in_(ids))).all())
        rows += [
            {
                "at": r.at,
                "config_id": r.target_id,
                "name": names.get(r.target_id),
                "what": "activated" if r.action == "config.activate" else "deactivated",
                "by": r.actor,
            }
            for r in audit
        ]
    df = frame(rows, ACTIVATION_COLUMNS)
    return df.sort_values("at", kind="stable").reset_index(drop=True)


def failed_scans(session: Session, *, since: datetime, until: datetime) -> pd.DataFrame:
    """FAILED scans started in the window, newest first. Columns: at, strategy, error_message, id."""
    stmt = (
        select(S.started_at.label("at"), S.strategy, S.error_message, S.id)
        .where(
            S.started_at >= naive_utc(since),
            S.started_at < naive_utc(until),
            func.upper(S.status) == "FAILED",
        )
        .order_by(S.started_at.desc())
        .limit(MAX_EVENTS)
    )
    return frame(
        session.execute(stmt).all(),
        {"at": "utc", "strategy": "str", "error_message": "str", "id": "str"},
    )


def new_error_groups(
    session: Session, *, since: datetime, until: datetime, service: str | None = None
) -> pd.DataFrame:
    """Error groups (fingerprints) with errors in [since, until) and none in the NEW_GROUP_HORIZON before
    `since`. Columns NEW_GROUP_COLUMNS (message: the group's most frequent message in the period),
    at most MAX_EVENTS groups (the newest first seen), newest first.

    Reads the period's distinct messages, then asks the history one cheap question per group: is
    there an earlier error with one of its exact messages (an index walk back from `since` that
    stops at the first hit, so recurring groups cost almost nothing)? Only a group without an exact
    earlier twin has its fingerprint compared with the history's messages of the same type and service.
    """
    s, u = naive_utc(since), naive_utc(until)
    horizon = s - NEW_GROUP_HORIZON
    t, sv, m = exact(E.error_type), exact(E.service), exact(E.message)
    where = [E.created_at >= s, E.created_at < u]
    if service is not None:
        where.append(exact_eq(E.service, service))
    window = session.execute(
        select(
            t.label("error_type"),
            sv.label("service"),
            m.label("message"),
            func.min(E.created_at).label("first"),
            func.count().label("n"),
        )
        .where(*where)
        .group_by(t, sv, m)
        .limit(eq.MAX_DISTINCT)
    ).all()
    groups: dict[str, dict[str, Any]] = {}
    for r in window:
        fp = fingerprint(r.error_type, r.service, r.message)
        g = groups.setdefault(
            fp,
            {
                "fingerprint": fp,
                "error_type": r.error_type,
                "service": r.service,
                "message": r.message,
                "first_seen": r.first,
                "n": 0,
                "messages": [],
            },
        )
        if r.n > g["n"]:
            g["message"], g["n"] = r.message, r.n
        g["first_seen"] = min(g["first_seen"], r.first)
        g["messages"].append(r.message)
    newest = sorted(groups.values(), key=lambda g: g["first_seen"], reverse=True)[:MAX_EVENTS]

    def pair_where(g: dict[str, Any]) -> list[Any]:
        svc = E.service.is_(None) if g["service"] is None else exact_eq(E.service, g["service"])
        return [
            exact_eq(E.error_type, g["error_type"]),
            svc,
            E.created_at >= horizon,
            E.created_at < s,
        ]

    out = []
    history_fps: dict[tuple[str, str | None], set[str]] = {}
    for g in newest:
        twin = session.execute(
            select(E.id)
            .where(
                *pair_where(g), E.message.in_(g["messages"]), exact(E.message).in_(g["messages"])
            )
            .order_by(E.created_at.desc())
            .limit(1)
        ).first()
        if twin is not None:
            continue
        pair = (g["error_type"], g["service"])
        if pair not in history_fps:
            earlier = session.scalars(
                select(m).where(*pair_where(g)).group_by(m).limit(MAX_HISTORY_MESSAGES)
            ).all()
            history_fps[pair] = {fingerprint(pair[0], pair[1], msg) for msg in earlier}
        if g["fingerprint"] not in history_fps[pair]:
            out.append(g)
    return frame(out, NEW_GROUP_COLUMNS)


def changes_before(
    session: Session, *, at: datetime, minutes: int, service: str | None = None
) -> pd.DataFrame:
    """What changed in the `minutes` before `at`: status transitions, error groups seen for the first
    time, failed scans and config activations, newest first. Columns CHANGE_COLUMNS."""
    since = at - timedelta(minutes=minutes)
    out: list[dict[str, Any]] = []
    runs = hq.state_runs(session, since=since, until=at, service=service)
    prev: dict[str, str] = {}
    for r in runs.itertuples():
        if not r.carried_in and r.service in prev:
            out.append(
                {
                    "at": r.start,
                    "kind": "status",
                    "service": r.service,
                    "what": f"{prev[r.service]} → {r.state}",
                    "ref": r.service,
                }
            )
        prev[r.service] = r.state
    for g in new_error_groups(session, since=since, until=at, service=service).itertuples():
        out.append(
            {
                "at": g.first_seen,
                "kind": "new error group",
                "service": g.service,
                "what": f"{g.error_type}: {g.message}",
                "ref": g.fingerprint,
            }
        )
    for sc in failed_scans(session, since=since, until=at).itertuples():
        out.append(
            {
                "at": sc.at,
                "kind": "failed scan",
                "service": None,
                "what": f"{sc.strategy}: {sc.error_message or '(no message)'}",
                "ref": sc.id,
            }
        )
    for a in config_activations(session, since=since, until=at).itertuples():
        out.append(
            {
                "at": a.at,
                "kind": "config " + a.what,
                "service": None,
                "what": f"{a.name or a.config_id} (by {a.by or 'unknown'})",
                "ref": a.config_id,
            }
        )
    df = frame(out, CHANGE_COLUMNS)
    return df.sort_values("at", ascending=False, kind="stable").reset_index(drop=True)
