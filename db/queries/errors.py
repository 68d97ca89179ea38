"""Questions about critical_error_logs: groups (fingerprints), facets, timelines, occurrences.

Grouping scales with the number of distinct messages, not rows: SQL groups by the exact
(error_type, service, message), then `db.fingerprint` merges the groups whose normalised
messages are equal (a window holds far fewer distinct messages than rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from db.fingerprint import fingerprint, normalise_message
from db.models import CriticalErrorLog as E
from db.queries.common import COUNT_CAP, PAGE_SIZE, capped_count, frame
from db.sqlfuncs import epoch_bucket, exact, exact_eq, exact_in

STATUSES = ("unresolved", "resolved", "all")
SEVERITIES = ("HIGH", "MEDIUM", "LOW")
NO_SERVICE = "(none)"  # how a NULL service is shown and filtered
# How many periods of the same length before the window form a group's trailing baseline.
BASELINE_PERIODS = 7
BASELINE_MAX = timedelta(days=28)
# "New" = first seen within this long before the window's end; history is read this far back.
NEW_WITHIN = timedelta(days=7)
HISTORY_MIN = timedelta(days=30)
# Escalating = at least this many events and this many times the baseline's expected count.
ESCALATING_MIN_EVENTS = 10
ESCALATING_FACTOR = 3.0
# Distinct (type, service, message) triples read per window at most (the grouping bound).
MAX_DISTINCT = 20_000
MAX_BUCKET_ROWS = 200_000
# Error ids a single resolve may touch (a bigger group is resolved in several steps).
MAX_IDS = 10_000

GROUP_COLUMNS: dict[str, str] = {
    "fingerprint": "str", "error_type": "str", "service": "str", "message": "str", "count": "Int64",
    "prior_count": "Int64", "change": "Int64", "unresolved": "Int64", "first_seen": "utc", "last_seen": "utc",
    "last_resolved_at": "utc", "high": "Int64", "medium": "Int64", "low": "Int64", "other_severity": "Int64",
    "new": "bool", "regressed": "bool", "escalating": "bool", "baseline_expected": "float",
    "messages": "object", "distinct_messages": "Int64",
}
OCCURRENCE_COLUMNS: dict[str, str] = {
    "id": "str", "created_at": "utc", "error_type": "str", "service": "str", "severity": "str",
    "message": "str", "resolved_at": "utc", "resolution_notes": "str",
}


def _service_filter(services: Sequence[str]) -> ColumnElement[bool]:
    named = [s for s in services if s != NO_SERVICE]
    parts: list[ColumnElement[bool]] = []
    if named:
        parts.append(exact_in(E.service, named))
    if NO_SERVICE in services:
        parts.append(E.service.is_(None))
    return or_(*parts)


def _severity_filter(severities: Sequence[str]) -> ColumnElement[bool]:
    upper = [s.upper() for s in severities]
    return func.upper(E.severity).in_(upper)


def _text_filter(text: str) -> ColumnElement[bool]:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(E.message).like(f"%{escaped}%", escape="\\")


def filters(
    *, services: Sequence[str] = (), severities: Sequence[str] = (), types: Sequence[str] = (), text: str = "",
    skip: str = "",
) -> list[ColumnElement[bool]]:
    """WHERE terms for the facet filters and free text (`skip` leaves one facet out, for its own counts)."""
    where: list[ColumnElement[bool]] = []
    if services and skip != "service":
        where.append(_service_filter(services))
    if severities and skip != "severity":
        where.append(_severity_filter(severities))
    if types and skip != "type":
        where.append(exact_in(E.error_type, list(types)))
    if text.strip():
        where.append(_text_filter(text.strip()))
    return where


def _window(since: datetime, until: datetime) -> tuple[datetime, datetime, datetime]:
    """(prior period start, baseline start, history start) for a window, naive UTC."""
    length = until - since
    baseline = min(length * BASELINE_PERIODS, BASELINE_MAX)
    history = min(since - baseline, until - HISTORY_MIN)
    return since - length, since - baseline, history


def _naive(ts: datetime) -> datetime:
    """Naive UTC, as the backend stores times."""
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo is not None else ts


def _triples_stmt(since: datetime, until: datetime, where: list[ColumnElement[bool]]) -> Select[Any]:
    s, u = _naive(since), _naive(until)
    prior, base, history = (_naive(t) for t in _window(since, until))
    in_range = and_(E.created_at >= s, E.created_at < u)
    sev = func.upper(E.severity)

    def n(cond: ColumnElement[bool]) -> Any:
        return func.sum(case((cond, 1), else_=0))

    t, sv, m = exact(E.error_type), exact(E.service), exact(E.message)
    return (
        select(
            t.label("error_type"), sv.label("service"), m.label("message"),
            n(in_range).label("count"),
            n(and_(E.created_at >= prior, E.created_at < s)).label("prior_count"),
            n(and_(E.created_at >= base, E.created_at < s)).label("baseline_count"),
            n(and_(in_range, E.resolved_at.is_(None))).label("unresolved"),
            func.min(E.created_at).label("first_seen"),
            func.max(case((in_range, E.created_at))).label("last_seen"),
            func.max(E.resolved_at).label("last_resolved_at"),
            func.max(case((E.resolved_at.is_(None), E.created_at))).label("last_unresolved_at"),
            n(and_(in_range, sev == "HIGH")).label("high"),
            n(and_(in_range, sev == "MEDIUM")).label("medium"),
            n(and_(in_range, sev == "LOW")).label("low"),
        )
        .where(E.created_at >= history, E.created_at < u, *where)
        .group_by(t, sv, m)
        .having(n(in_range) > 0)
        .limit(MAX_DISTINCT)
    )


TRIPLE_COLUMNS = {
    "error_type": "str", "service": "str", "message": "str", "count": "Int64", "prior_count": "Int64",
    "baseline_count": "Int64", "unresolved": "Int64", "first_seen": "utc", "last_seen": "utc",
    "last_resolved_at": "utc", "last_unresolved_at": "utc", "high": "Int64", "medium": "Int64", "low": "Int64",
}


def merge_groups(triples: pd.DataFrame, *, since: datetime, until: datetime) -> pd.DataFrame:
    """Exact (type, service, message) counts merged into fingerprint groups, with their badges."""
    if triples.empty:
        return frame([], GROUP_COLUMNS)
    t = triples.copy()
    t["fingerprint"] = [fingerprint(a, b, c) for a, b, c in zip(t.error_type, t.service, t.message, strict=True)]
    t = t.sort_values(["fingerprint", "count"], ascending=[True, False], kind="stable")
    sums = ["count", "prior_count", "baseline_count", "unresolved", "high", "medium", "low"]
    g = t.groupby("fingerprint", sort=False)
    out = g[sums].sum()
    out = out.join(g[["first_seen", "last_resolved_at", "last_unresolved_at"]].agg(
        {"first_seen": "min", "last_resolved_at": "max", "last_unresolved_at": "max"}))
    out["last_seen"] = g["last_seen"].max()
    first = t.drop_duplicates("fingerprint").set_index("fingerprint")  # keeps NULL services (g.first() skips them)
    out["error_type"], out["service"], out["message"] = first.error_type, first.service, first.message
    out["messages"] = g["message"].agg(tuple)
    out["distinct_messages"] = g.size()
    out = out.reset_index()
    return _badges(out, since=since, until=until)


def _badges(out: pd.DataFrame, *, since: datetime, until: datetime) -> pd.DataFrame:
    length = until - since
    _, base_start, _ = _window(since, until)
    periods = max((since - base_start) / length, 1e-9)
    out["other_severity"] = out["count"] - out["high"] - out["medium"] - out["low"]
    out["change"] = out["count"] - out["prior_count"]
    out["baseline_expected"] = out["baseline_count"].astype("float64") / periods
    until_ts = pd.Timestamp(_naive(until), tz="UTC")
    out["new"] = out["first_seen"] >= until_ts - NEW_WITHIN
    out["regressed"] = (out["last_unresolved_at"].notna() & out["last_resolved_at"].notna()
                        & (out["last_unresolved_at"] > out["last_resolved_at"]))
    out["escalating"] = ((out["count"] >= ESCALATING_MIN_EVENTS) & (out["baseline_count"] > 0)
                         & (out["count"] > ESCALATING_FACTOR * out["baseline_expected"]))
    out = out.sort_values(["last_seen", "count"], ascending=[False, False], kind="stable")
    for col in ("error_type", "service", "message"):  # keep NULL services None (pandas made them NaN)
        out[col] = out[col].map(lambda v: v if isinstance(v, str) else None)
    return frame(out[list(GROUP_COLUMNS)].to_dict("records"), GROUP_COLUMNS)


# --- one scan of the window, rolled up ----------------------------------------------------------
# The page reads the window once, grouped by (type, service, message, bucket, severity, resolved
# or not), and the history before it once, grouped by (type, service, message, severity). Groups,
# facets, the severity timeline and the sparklines are roll-ups of those aggregates, and the facet
# and text filters are applied to them (distinct messages, not rows), so changing a filter does
# not read the table again.

SUMMARY_COLUMNS = {"error_type": "str", "service": "str", "message": "str", "bucket": "utc", "severity": "str",
                   "unresolved": "bool", "count": "Int64", "first_at": "utc", "last_at": "utc",
                   "last_resolved_at": "utc"}
HISTORY_COLUMNS = {"error_type": "str", "service": "str", "message": "str", "severity": "str",
                   "prior_count": "Int64", "baseline_count": "Int64", "first_seen": "utc",
                   "last_resolved_at": "utc", "last_unresolved_at": "utc"}
MAX_SUMMARY_ROWS = 200_000
_KEY = ["error_type", "service", "message"]


def window_summary(session: Session, *, since: datetime, until: datetime, bucket_s: int) -> pd.DataFrame:
    """Events in [since, until) per (type, service, message, bucket, severity, unresolved).

    Columns SUMMARY_COLUMNS; attrs['truncated'] when MAX_SUMMARY_ROWS aggregate rows were reached.
    """
    t, sv, m = exact(E.error_type), exact(E.service), exact(E.message)
    b, sev = epoch_bucket(E.created_at, bucket_s), func.upper(E.severity)
    open_ = case((E.resolved_at.is_(None), 1), else_=0)
    stmt = (select(t.label("error_type"), sv.label("service"), m.label("message"), b.label("bucket"),
                   sev.label("severity"), open_.label("unresolved"), func.count().label("count"),
                   func.min(E.created_at).label("first_at"), func.max(E.created_at).label("last_at"), func.max(E.resolved_at).label("last_resolved_at"))
            .where(E.created_at >= _naive(since), E.created_at < _naive(until))
            .group_by(t, sv, m, b, sev, open_).limit(MAX_SUMMARY_ROWS))
    rows = session.execute(stmt).all()
    df = frame(rows, SUMMARY_COLUMNS)
    df.attrs["truncated"] = len(rows) >= MAX_SUMMARY_ROWS
    return df


def history_summary(session: Session, *, since: datetime, until: datetime) -> pd.DataFrame:
    """Events before the window per (type, service, message, severity): the prior period's and the
    baseline's counts, first seen, last resolution, last unresolved event. Columns HISTORY_COLUMNS."""
    s = _naive(since)
    prior, base, history = (_naive(x) for x in _window(since, until))
    t, sv, m, sev = exact(E.error_type), exact(E.service), exact(E.message), func.upper(E.severity)

    def n(cond: ColumnElement[bool]) -> Any:
        return func.sum(case((cond, 1), else_=0))

    stmt = (select(t.label("error_type"), sv.label("service"), m.label("message"), sev.label("severity"),
                   n(E.created_at >= prior).label("prior_count"), n(E.created_at >= base).label("baseline_count"),
                   func.min(E.created_at).label("first_seen"), func.max(E.resolved_at).label("last_resolved_at"),
                   func.max(case((E.resolved_at.is_(None), E.created_at))).label("last_unresolved_at"))
            .where(E.created_at >= history, E.created_at < s).group_by(t, sv, m, sev).limit(MAX_SUMMARY_ROWS))
    return frame(session.execute(stmt).all(), HISTORY_COLUMNS)


def _keep(df: pd.DataFrame, *, services: Sequence[str] = (), severities: Sequence[str] = (),
          types: Sequence[str] = (), text: str = "", skip: str = "") -> pd.Series[bool]:
    """Rows of a summary that pass the filters (the same rules as `filters()` in SQL)."""
    keep = pd.Series(True, index=df.index)
    if services and skip != "service":
        named = {x for x in services if x != NO_SERVICE}
        svc = df["service"]
        keep &= svc.map(lambda v: v in named if isinstance(v, str) else NO_SERVICE in services).astype(bool)
    if severities and skip != "severity":
        keep &= df["severity"].isin([x.upper() for x in severities])
    if types and skip != "type":
        keep &= df["error_type"].isin(list(types))
    needle = text.strip().lower()
    if needle:
        keep &= df["message"].map(lambda v: isinstance(v, str) and needle in v.lower()).astype(bool)
    return keep


def groups_from(summary: pd.DataFrame, history: pd.DataFrame, *, since: datetime, until: datetime,
                status: str = "unresolved", services: Sequence[str] = (), severities: Sequence[str] = (),
                types: Sequence[str] = (), text: str = "") -> pd.DataFrame:
    """Fingerprint groups (GROUP_COLUMNS) from a window summary and its history, filtered."""
    flt: dict[str, Any] = {"services": services, "severities": severities, "types": types, "text": text}
    w = summary[_keep(summary, **flt)]
    h = history[_keep(history, **flt)] if not history.empty else history
    if w.empty:
        out = frame([], GROUP_COLUMNS)
        out.attrs["truncated"] = bool(summary.attrs.get("truncated"))
        return out
    codes: dict[tuple[Any, Any, Any], int] = {}
    w = w.assign(_k=[codes.setdefault(k, len(codes)) for k in _keys(w)], _open=w["unresolved"].astype(bool))
    g = w.groupby("_k", sort=False)
    tri = pd.DataFrame({
        "count": g["count"].sum(),
        "unresolved": w[w["_open"]].groupby("_k")["count"].sum(),
        "last_seen": g["last_at"].max(),
        "w_first": g["first_at"].min(),
        "w_resolved": g["last_resolved_at"].max(),
        "w_open_last": w[w["_open"]].groupby("_k")["last_at"].max(),
        **{sev.lower(): w[w["severity"] == sev].groupby("_k")["count"].sum() for sev in SEVERITIES},
    })
    if not h.empty:
        h = h.assign(_k=[codes.get(k, -1) for k in _keys(h)])
        hk = h[h["_k"] >= 0].groupby("_k").agg(
            prior_count=("prior_count", "sum"), baseline_count=("baseline_count", "sum"),
            first_seen=("first_seen", "min"), h_resolved=("last_resolved_at", "max"),
            h_open_last=("last_unresolved_at", "max"))
        tri = tri.join(hk, how="left")
    for col in ("prior_count", "baseline_count", "first_seen", "h_resolved", "h_open_last"):
        if col not in tri:
            tri[col] = pd.NaT if col in ("first_seen", "h_resolved", "h_open_last") else 0
    for col in ("count", "unresolved", "high", "medium", "low", "prior_count", "baseline_count"):
        tri[col] = tri[col].fillna(0).astype("int64")
    tri["first_seen"] = tri[["first_seen", "w_first"]].min(axis=1)
    tri["last_resolved_at"] = tri[["h_resolved", "w_resolved"]].max(axis=1)
    tri["last_unresolved_at"] = tri[["h_open_last", "w_open_last"]].max(axis=1)
    by_code = {v: k for k, v in codes.items()}
    keys = pd.DataFrame([by_code[c] for c in tri.index], columns=_KEY, index=tri.index)
    triples = pd.concat([keys, tri], axis=1).reset_index(drop=True)
    triples = frame(triples[list(TRIPLE_COLUMNS)].to_dict("records"), TRIPLE_COLUMNS)
    groups = merge_groups(triples, since=since, until=until)
    if status == "unresolved":
        groups = groups[groups["unresolved"] > 0]
    elif status == "resolved":
        groups = groups[groups["unresolved"] == 0]
    groups = groups.reset_index(drop=True)
    groups.attrs["truncated"] = bool(summary.attrs.get("truncated"))
    return groups


def _keys(df: pd.DataFrame) -> list[tuple[Any, Any, Any]]:
    services = [v if isinstance(v, str) else None for v in df["service"]]  # pandas may hold NULL as NaN
    return list(zip(df["error_type"], services, df["message"], strict=True))


def facets_from(summary: pd.DataFrame, *, services: Sequence[str] = (), severities: Sequence[str] = (),
                types: Sequence[str] = (), text: str = "") -> pd.DataFrame:
    """Events per severity, service and type (each facet ignoring its own filter). Columns: facet, value, count."""
    flt: dict[str, Any] = {"services": services, "severities": severities, "types": types, "text": text}
    out: list[dict[str, Any]] = []
    for name, col in (("severity", "severity"), ("service", "service"), ("type", "error_type")):
        sub = summary[_keep(summary, **flt, skip=name)]
        values = sub[col].map(lambda v: v if isinstance(v, str) else NO_SERVICE)
        counts = sub.groupby(values)["count"].sum().sort_values(ascending=False, kind="stable").head(200)
        out += [{"facet": name, "value": v, "count": int(c)} for v, c in counts.items()]
    return frame(out, {"facet": "str", "value": "str", "count": "Int64"})


def timeline_from(summary: pd.DataFrame, *, services: Sequence[str] = (), severities: Sequence[str] = (),
                  types: Sequence[str] = (), text: str = "") -> pd.DataFrame:
    """Events per bucket and severity. Columns: bucket (utc), severity, count."""
    w = summary[_keep(summary, services=services, severities=severities, types=types, text=text)]
    df = w.groupby(["bucket", "severity"], as_index=False)["count"].sum().sort_values(["bucket", "severity"])
    return frame(df.to_dict("records"), {"bucket": "utc", "severity": "str", "count": "Int64"})


def sparks_from(summary: pd.DataFrame, *, services: Sequence[str] = (), severities: Sequence[str] = (),
                types: Sequence[str] = (), text: str = "") -> pd.DataFrame:
    """Events per fingerprint and bucket. Columns: fingerprint, bucket (utc), count."""
    w = summary[_keep(summary, services=services, severities=severities, types=types, text=text)]
    if w.empty:
        return frame([], {"fingerprint": "str", "bucket": "utc", "count": "Int64"})
    fps = {k: fingerprint(*k) for k in set(_keys(w))}
    w = w.assign(fingerprint=[fps[k] for k in _keys(w)])
    df = w.groupby(["fingerprint", "bucket"], as_index=False)["count"].sum()
    return frame(df.to_dict("records"), {"fingerprint": "str", "bucket": "utc", "count": "Int64"})


def _whole(since: datetime, until: datetime) -> int:
    return max(int((until - since).total_seconds()) + 1, 1)


def error_groups(
    session: Session, *, since: datetime, until: datetime, status: str = "unresolved",
    services: Sequence[str] = (), severities: Sequence[str] = (), types: Sequence[str] = (), text: str = "",
) -> pd.DataFrame:
    """Fingerprint groups seen in [since, until): counts, first/last seen, severity mix, badges.

    Columns GROUP_COLUMNS; `status` keeps groups with unresolved events ('unresolved'), without
    ('resolved') or all. attrs['truncated'] is True when the window had too many distinct messages.
    """
    summary = window_summary(session, since=since, until=until, bucket_s=_whole(since, until))
    history = history_summary(session, since=since, until=until)
    return groups_from(summary, history, since=since, until=until, status=status, services=services,
                       severities=severities, types=types, text=text)


def facet_counts(
    session: Session, *, since: datetime, until: datetime,
    services: Sequence[str] = (), severities: Sequence[str] = (), types: Sequence[str] = (), text: str = "",
) -> pd.DataFrame:
    """Occurrences in the window per severity, service and type (each facet ignores its own filter).

    Columns: facet ('severity'|'service'|'type'), value, count.
    """
    summary = window_summary(session, since=since, until=until, bucket_s=_whole(since, until))
    return facets_from(summary, services=services, severities=severities, types=types, text=text)


def group_buckets(
    session: Session, *, since: datetime, until: datetime, bucket_s: int,
    services: Sequence[str] = (), severities: Sequence[str] = (), types: Sequence[str] = (), text: str = "",
) -> pd.DataFrame:
    """Events per fingerprint per time bucket (for sparklines). Columns: fingerprint, bucket (utc), count."""
    summary = window_summary(session, since=since, until=until, bucket_s=bucket_s)
    return sparks_from(summary, services=services, severities=severities, types=types, text=text)


def error_timeline(
    session: Session, *, since: datetime, until: datetime, bucket_s: int,
    services: Sequence[str] = (), severities: Sequence[str] = (), types: Sequence[str] = (), text: str = "",
) -> pd.DataFrame:
    """Events per time bucket and severity. Columns: bucket (utc), severity, count."""
    summary = window_summary(session, since=since, until=until, bucket_s=bucket_s)
    return timeline_from(summary, services=services, severities=severities, types=types, text=text)


def _group_where(error_type: str, service: str | None, messages: Sequence[str]) -> list[ColumnElement[bool]]:
    svc = E.service.is_(None) if service is None else exact_eq(E.service, service)
    return [exact_eq(E.error_type, error_type), svc, exact_in(E.message, list(messages))]


def _status_where(status: str) -> list[ColumnElement[bool]]:
    if status == "unresolved":
        return [E.resolved_at.is_(None)]
    if status == "resolved":
        return [E.resolved_at.is_not(None)]
    return []


def occurrences(
    session: Session, *, error_type: str, service: str | None, messages: Sequence[str], since: datetime,
    until: datetime, status: str = "all", before: tuple[datetime, str] | None = None, limit: int = PAGE_SIZE,
) -> pd.DataFrame:
    """One page of a group's events, newest first (keyset on created_at, id). Columns OCCURRENCE_COLUMNS.

    `before` = (created_at, id) of the last row of the previous page. attrs['total'] is the capped count.
    """
    where = [E.created_at >= _naive(since), E.created_at < _naive(until),
             *_group_where(error_type, service, messages), *_status_where(status)]
    base = select(E.id).where(*where)
    page_where = list(where)
    if before is not None:
        ts, last_id = _naive(before[0]), before[1]
        page_where.append(or_(E.created_at < ts, and_(E.created_at == ts, E.id < last_id)))
    stmt = (select(E.id, E.created_at, E.error_type, E.service, E.severity, E.message, E.resolved_at,
                   E.resolution_notes)
            .where(*page_where).order_by(E.created_at.desc(), E.id.desc()).limit(limit))
    df = frame(session.execute(stmt).all(), OCCURRENCE_COLUMNS)
    df.attrs["total"] = capped_count(session, base)
    return df


def occurrence_ids(
    session: Session, *, error_type: str, service: str | None, messages: Sequence[str], status: str = "unresolved",
    limit: int = MAX_IDS,
) -> tuple[str, ...]:
    """Ids of a group's events of any time (for resolving the whole group), at most `limit`."""
    stmt = (select(E.id).where(*_group_where(error_type, service, messages), *_status_where(status))
            .order_by(E.created_at).limit(limit))
    return tuple(session.scalars(stmt).all())


def occurrence_export(
    session: Session, *, error_type: str, service: str | None, messages: Sequence[str], since: datetime,
    until: datetime, status: str = "all", limit: int = 100_000,
) -> pd.DataFrame:
    """All of a group's events in the window (the export), newest first, with details."""
    stmt = (select(E.id, E.created_at, E.error_type, E.service, E.severity, E.message, E.details,
                   E.resolved_at, E.resolution_notes)
            .where(E.created_at >= _naive(since), E.created_at < _naive(until),
                   *_group_where(error_type, service, messages), *_status_where(status))
            .order_by(E.created_at.desc(), E.id.desc()).limit(limit))
    return frame(session.execute(stmt).all(), {**OCCURRENCE_COLUMNS, "details": "object"})


def occurrence(session: Session, *, error_id: str) -> pd.DataFrame:
    """One event with its details (0 or 1 row). Columns OCCURRENCE_COLUMNS + details, user_id."""
    stmt = select(E.id, E.created_at, E.error_type, E.service, E.severity, E.message, E.resolved_at,
                  E.resolution_notes, E.details, E.user_id).where(E.id == error_id)
    return frame(session.execute(stmt).all(), {**OCCURRENCE_COLUMNS, "details": "object", "user_id": "str"})


def groups_during(session: Session, *, service: str | None, start: datetime, end: datetime) -> pd.DataFrame:
    """The error groups of one service logged in [start, end) (an incident). Columns GROUP_COLUMNS."""
    svc: list[ColumnElement[bool]] = [E.service.is_(None)] if service is None else [exact_eq(E.service, service)]
    rows = session.execute(_triples_stmt(start, end, svc)).all()
    return merge_groups(frame(rows, TRIPLE_COLUMNS), since=start, until=end)


def distinct_count(session: Session, *, since: datetime, until: datetime) -> int:
    """Events in the window (capped at COUNT_CAP)."""
    return capped_count(session, select(E.id).where(E.created_at >= _naive(since), E.created_at < _naive(until)),
                        COUNT_CAP)


__all__ = ["NO_SERVICE", "STATUSES", "error_groups", "error_timeline", "facet_counts", "group_buckets",
           "groups_during", "merge_groups", "normalise_message", "occurrence", "occurrence_export",
           "occurrence_ids", "occurrences"]
