"""Questions about system_health_status: current state, uptime, history, state runs, latency.

Statuses are whatever the backend wrote: they are compared as UPPER(TRIM(status)); HEALTHY,
DEGRADED and DOWN are the backend's vocabulary, anything else (UNKNOWN, OFFLINE, ERROR, ...)
is the category OTHER, shown with its own text and counted neither up nor down.
Numbers come from text columns through `safe_number`: unparseable text is counted, never 0.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from db.models import SystemHealthStatus as H
from db.queries.common import COUNT_CAP, PAGE_SIZE, capped_count, frame
from db.sqlfuncs import epoch_bucket, epoch_seconds, exact, exact_eq, safe_number
from db.types import naive_utc
from perf import probes

KNOWN = ("HEALTHY", "DEGRADED", "DOWN")
OTHER = "OTHER"
# Worst first: how bad a state is, for an incident's "worst state".
SEVERITY_RANK = {"DOWN": 3, OTHER: 2, "DEGRADED": 1, "HEALTHY": 0}
UPTIME_WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
PERCENTILES = (0.5, 0.95, 0.99)
# Check intervals are learned from each service's last INTERVAL_SAMPLE checks (median gap), probed
# per service through the (service_name, check_timestamp) index; with more services than
# MAX_PROBED_SERVICES, from every check of the last INTERVAL_HISTORY instead.
INTERVAL_SAMPLE = 200
MAX_PROBED_SERVICES = 60
INTERVAL_HISTORY = timedelta(days=7)
STALE_FACTOR = 2.0
MAX_CHANGES = 50_000


def category(state: str | None) -> str:
    """HEALTHY, DEGRADED, DOWN, or OTHER for anything the backend's vocabulary does not have."""
    s = (state or "").strip().upper()
    return s if s in KNOWN else OTHER


def _state() -> ColumnElement[str]:
    return func.upper(func.trim(H.status))


def _service_where(service: str | None) -> list[ColumnElement[bool]]:
    return [] if service is None else [exact_eq(H.service_name, service)]


# --- percentiles -------------------------------------------------------------------------------


def percentile_stmt(
    value: ColumnElement[Any],
    keys: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]],
    dialect: str,
    ps: Sequence[float] = PERCENTILES,
) -> Select[Any]:
    """Continuous percentiles (linear interpolation, as PostgreSQL's percentile_cont) of `value` per key.

    Columns: k0..kn, p0..pm. PostgreSQL uses percentile_cont; SQLite and MariaDB rank the values
    with ROW_NUMBER/COUNT windows and interpolate between the two ranks around 1 + p*(n-1).
    """
    labelled = [k.label(f"k{i}") for i, k in enumerate(keys)]
    base = select(*labelled, value.label("v")).where(*where).subquery()
    return percentiles_of(base, [base.c[f"k{i}"] for i in range(len(keys))], base.c.v, dialect, ps)


def percentiles_of(
    source: Any,
    keys: Sequence[ColumnElement[Any]],
    v: ColumnElement[Any],
    dialect: str,
    ps: Sequence[float] = PERCENTILES,
) -> Select[Any]:
    """Percentiles of column `v` of a subquery/CTE per `keys` (see percentile_stmt). Columns: keys, p0..pm."""
    if dialect == "postgresql":
        cols = [func.percentile_cont(p).within_group(v).label(f"p{j}") for j, p in enumerate(ps)]
        return select(*keys, *cols).select_from(source).where(v.is_not(None)).group_by(*keys)
    inner = (
        select(
            *keys,
            v.label("v"),
            func.row_number().over(partition_by=list(keys), order_by=v).label("rn"),
            func.count().over(partition_by=list(keys)).label("n"),
        )
        .select_from(source)
        .where(v.is_not(None))
        .subquery()
    )
    cols = []
    for j, p in enumerate(ps):
        pos = literal(1.0) + literal(float(p)) * (inner.c.n - 1)
        weight = case(
            (
                and_(inner.c.rn <= pos, inner.c.rn + 1 > pos),
                inner.c.v * (literal(1.0) - (pos - inner.c.rn)),
            ),
            (and_(inner.c.rn > pos, inner.c.rn - 1 < pos), inner.c.v * (pos - (inner.c.rn - 1))),
            else_=literal(0.0),
        )
        cols.append(func.sum(weight).label(f"p{j}"))
    outer_keys = [inner.c[k.name] for k in keys]
    return select(*outer_keys, *cols).group_by(*outer_keys)


def _dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


# --- current state -----------------------------------------------------------------------------

STATUS_COLUMNS = {
    "service": "str",
    "status": "str",
    "category": "str",
    "checked_at": "utc",
    "response_time_ms": "str",
    "error_count_24h": "str",
    "interval_s": "float",
    "age_s": "float",
    "stale": "bool",
}


def _recent_checks(names: Sequence[str], until: datetime, limit: int) -> Any:
    """The last `limit` checks of each named service up to `until`: one index probe per service."""
    parts = [
        select(
            exact(H.service_name).label("service"), H.id.label("id"), H.check_timestamp.label("ts")
        )
        .where(exact_eq(H.service_name, name), H.check_timestamp <= until)
        .order_by(H.check_timestamp.desc())
        .limit(limit)
        .subquery()
        for name in names
    ]
    return union_all(*[select(p) for p in parts]).subquery()


def _all_checks(until: datetime) -> Any:
    """Every check of the last INTERVAL_HISTORY (the fallback when there are very many services)."""
    return (
        select(
            exact(H.service_name).label("service"), H.id.label("id"), H.check_timestamp.label("ts")
        )
        .where(H.check_timestamp >= until - INTERVAL_HISTORY, H.check_timestamp <= until)
        .subquery()
    )


def check_intervals(
    session: Session, *, until: datetime, names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Each service's usual check interval: the median gap between its last INTERVAL_SAMPLE checks.

    Columns: service, interval_s (services with fewer than two checks are left out).
    """
    u = naive_utc(until)
    names = services(session) if names is None else names
    if not names:
        return frame([], {"service": "str", "interval_s": "float"})
    if len(names) <= MAX_PROBED_SERVICES:
        # A few hundred times per service: the median of their gaps is worked out here.
        recent = _recent_checks(names, u, INTERVAL_SAMPLE + 1)
        seconds: dict[str, list[int]] = {}
        for r in session.execute(select(recent.c.service, recent.c.ts)).all():
            seconds.setdefault(r.service, []).append(int(r.ts.replace(tzinfo=UTC).timestamp()))
        rows = []
        for service, secs in sorted(seconds.items()):
            secs.sort()
            diffs = [b - a for a, b in zip(secs, secs[1:], strict=False)]
            if diffs:
                rows.append({"service": service, "interval_s": float(statistics.median(diffs))})
        return frame(rows, {"service": "str", "interval_s": "float"})
    recent = _all_checks(u)
    gaps = select(
        recent.c.service,
        recent.c.ts,
        func.lag(recent.c.ts)
        .over(partition_by=recent.c.service, order_by=(recent.c.ts, recent.c.id))
        .label("prev"),
    ).subquery()
    gap = epoch_seconds(gaps.c.ts) - epoch_seconds(gaps.c.prev)
    stmt = percentile_stmt(
        gap, [gaps.c.service], [gaps.c.prev.is_not(None)], _dialect(session), ps=(0.5,)
    )
    return frame(
        [{"service": r[0], "interval_s": r[1]} for r in session.execute(stmt).all()],
        {"service": "str", "interval_s": "float"},
    )


def _latest_rows(session: Session, names: Sequence[str], until: datetime) -> dict[str, Any]:
    if len(names) <= MAX_PROBED_SERVICES:
        latest = _recent_checks(names, until, 1)
    else:
        svc = exact(H.service_name)
        top = (
            select(svc.label("service"), func.max(H.check_timestamp).label("mx"))
            .where(H.check_timestamp <= until)
            .group_by(svc)
            .subquery()
        )
        latest = (
            select(top.c.service, H.id.label("id"), H.check_timestamp.label("ts"))
            .join(top, and_(exact_eq(H.service_name, top.c.service), H.check_timestamp == top.c.mx))
            .subquery()
        )
    stmt = (
        select(latest.c.service, H.status, H.check_timestamp, H.response_time_ms, H.error_count_24h)
        .join(latest, H.id == latest.c.id)
        .order_by(latest.c.service, H.id)
    )
    rows: dict[str, Any] = {}
    for r in session.execute(stmt).all():
        rows.setdefault(r.service, r)  # two checks with the same time: keep one
    return rows


def service_status(session: Session, *, until: datetime) -> pd.DataFrame:
    """Per service: the latest check at or before `until`, its age, the usual interval, and STALE.

    STALE = no check for more than STALE_FACTOR x the median interval. Columns STATUS_COLUMNS.
    """
    u = naive_utc(until)
    names = services(session)
    rows = _latest_rows(session, names, u) if names else {}
    intervals = (
        check_intervals(session, until=until, names=names)
        .set_index("service")["interval_s"]
        .to_dict()
    )
    until_ts = pd.Timestamp(u, tz="UTC")
    out = []
    for service, r in sorted(rows.items()):
        checked = pd.Timestamp(r.check_timestamp, tz="UTC")
        interval = intervals.get(service)
        age = (until_ts - checked).total_seconds()
        stale = (
            interval is not None
            and not pd.isna(interval)
            and interval > 0
            and age > STALE_FACTOR * interval
        )
        out.append(
            {
                "service": service,
                "status": r.status,
                "category": category(r.status),
                "checked_at": checked,
                "response_time_ms": r.response_time_ms,
                "error_count_24h": r.error_count_24h,
                "interval_s": interval,
                "age_s": age,
                "stale": stale,
            }
        )
    return frame(out, STATUS_COLUMNS)


def latest_check(session: Session, *, service: str, until: datetime) -> pd.DataFrame:
    """The latest check of one service with its details (0 or 1 row)."""
    stmt = (
        select(
            H.id,
            exact(H.service_name).label("service"),
            H.status,
            H.check_timestamp.label("checked_at"),
            H.response_time_ms,
            H.error_count_24h,
            H.details,
        )
        .where(exact_eq(H.service_name, service), H.check_timestamp <= naive_utc(until))
        .order_by(H.check_timestamp.desc(), H.id.desc())
        .limit(1)
    )
    return frame(
        session.execute(stmt).all(),
        {
            "id": "str",
            "service": "str",
            "status": "str",
            "checked_at": "utc",
            "response_time_ms": "str",
            "error_count_24h": "str",
            "details": "object",
        },
    )


FUTURE_COLUMNS = {
    "id": "str",
    "service": "str",
    "status": "str",
    "checked_at": "utc",
    "response_time_ms": "str",
    "error_count_24h": "str",
}


def future_count(session: Session, *, now: datetime) -> int:
    """Checks dated after `now` (no window ending now shows them), counting at most COUNT_CAP."""
    return capped_count(session, select(H.id).where(H.check_timestamp > naive_utc(now)), COUNT_CAP)


def future_checks(session: Session, *, now: datetime, limit: int = PAGE_SIZE) -> pd.DataFrame:
    """The checks dated after `now`, the soonest first (at most `limit`); `attrs["total"]` is their
    capped count. Columns FUTURE_COLUMNS."""
    stmt = (
        select(
            H.id,
            exact(H.service_name).label("service"),
            H.status,
            H.check_timestamp.label("checked_at"),
            H.response_time_ms,
            H.error_count_24h,
        )
        .where(H.check_timestamp > naive_utc(now))
        .order_by(H.check_timestamp, H.id)
        .limit(limit)
    )
    df = frame(session.execute(stmt).all(), FUTURE_COLUMNS)
    df.attrs["total"] = len(df) if len(df) < limit else future_count(session, now=now)
    return df


# --- uptime and history ------------------------------------------------------------------------


def _up_down(degraded_down: bool) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    st = _state()
    up_states = ["HEALTHY"] if degraded_down else ["HEALTHY", "DEGRADED"]
    down_states = ["DOWN", "DEGRADED"] if degraded_down else ["DOWN"]
    return st.in_(up_states), st.in_(down_states)


UPTIME_COLUMNS = {
    "service": "str",
    "window": "str",
    "up": "Int64",
    "down": "Int64",
    "other": "Int64",
    "checks": "Int64",
    "uptime": "float",
}


SHORT_WINDOWS = ("24h", "7d")  # what the Overview shows by default; 30d/90d read on request


def _tier(u: datetime, spans: Sequence[timedelta]) -> ColumnElement[int]:
    """0 for the first (shortest) window, 1 for the rest of the second, ... (cumulative tiers)."""
    return case(
        *[(H.check_timestamp > u - span, i) for i, span in enumerate(spans[:-1])],
        else_=len(spans) - 1,
    )


def uptime(
    session: Session,
    *,
    until: datetime,
    degraded_down: bool = False,
    windows: Sequence[str] = tuple(UPTIME_WINDOWS),
) -> pd.DataFrame:
    """Share of checks that were up per service and window (keys of UPTIME_WINDOWS), plus an 'overall'
    row per window.

    uptime = up / (up + down); checks of OTHER statuses are counted apart and left out (NaN without
    any up or down check). Columns UPTIME_COLUMNS; service None is the overall row.
    SQL counts checks per (service, status as written, age tier) over the longest window asked for
    only (on SQLite by one index range probe per service and tier; else, or with very many services,
    one grouped statement); the windows are the cumulative tiers (a few dozen numbers) added up here.
    """
    keys = [k for k in UPTIME_WINDOWS if k in set(windows)]
    if not keys:
        raise ValueError(f"windows must name some of {list(UPTIME_WINDOWS)}")
    u = naive_utc(until)
    spans = [UPTIME_WINDOWS[k] for k in keys]
    ranges = [(u - span, u - (spans[i - 1] if i else timedelta(0))) for i, span in enumerate(spans)]
    names = services(session) if probes.probing(session) else ()
    if (
        names and len(names) * len(ranges) <= probes.MAX_PROBES
    ):  # a few probes per service: cheaper at any size
        found = probes.probe_counts(session, names, ranges, left_open=True)
    else:
        svc, tier = exact(H.service_name), _tier(u, spans)
        stmt = (
            select(svc.label("service"), H.status, tier.label("tier"), func.count().label("n"))
            .where(H.check_timestamp > u - spans[-1], H.check_timestamp <= u)
            .group_by(svc, H.status, tier)
        )
        found = [(r.service, r.tier, r.status, r.n) for r in session.execute(stmt).all()]
    up_cats = {"HEALTHY"} if degraded_down else {"HEALTHY", "DEGRADED"}
    down_cats = {"DOWN", "DEGRADED"} if degraded_down else {"DOWN"}
    counts: dict[tuple[str | None, str], dict[str, int]] = {}
    for service, r_tier, status, n in found:
        cat = category(status)
        for i, key in enumerate(keys):
            if r_tier > i:
                continue
            for who in (service, None):
                c = counts.setdefault((who, key), {"up": 0, "down": 0, "checks": 0})
                c["up"] += n if cat in up_cats else 0
                c["down"] += n if cat in down_cats else 0
                c["checks"] += n
    order = {k: i for i, k in enumerate(keys)}
    rows = []
    for (who, key), c in sorted(
        counts.items(), key=lambda kv: (kv[0][0] is None, kv[0][0] or "", order[kv[0][1]])
    ):
        known = c["up"] + c["down"]
        rows.append(
            {
                "service": who,
                "window": key,
                **c,
                "other": c["checks"] - known,
                "uptime": c["up"] / known if known else None,
            }
        )
    return frame(rows, UPTIME_COLUMNS)


HISTORY_COLUMNS = {
    "service": "str",
    "bucket": "utc",
    "up": "Int64",
    "degraded": "Int64",
    "down": "Int64",
    "other": "Int64",
    "checks": "Int64",
    "uptime": "float",
    "worst": "str",
}


def status_history(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    bucket_s: int,
    degraded_down: bool = False,
    service: str | None = None,
) -> pd.DataFrame:
    """Checks per service and time bucket by state, the bucket's uptime and worst state. Columns HISTORY_COLUMNS.

    SQL counts per (service, bucket, status as written): one grouped statement, or on SQLite, for a
    window of more than perf.probes.PROBE_ABOVE checks, one index range probe per service and bucket. The few
    status spellings per cell are folded into categories here.
    """
    s, u = naive_utc(since), naive_utc(until)
    first = int(s.replace(tzinfo=UTC).timestamp()) // bucket_s * bucket_s
    starts = list(range(first, int(u.replace(tzinfo=UTC).timestamp()) + 1, bucket_s))
    found: list[tuple[str, int, str, int]]
    names: Sequence[str] = ()
    if (
        probes.probing(session)
        and len(starts) <= probes.MAX_PROBES
        and probes.more_checks_than(session, s, u, probes.PROBE_ABOVE, service=service)
    ):
        names = [service] if service is not None else services(session)
    if names and len(names) * len(starts) <= probes.MAX_PROBES:

        def at(epoch: int) -> datetime:
            return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)

        ranges = [(max(at(b), s), min(at(b + bucket_s), u)) for b in starts]
        found = [
            (svc_, starts[i], status, n)
            for svc_, i, status, n in probes.probe_counts(session, names, ranges, left_open=False)
        ]
    else:
        b = epoch_bucket(H.check_timestamp, bucket_s)
        svc = exact(H.service_name)
        stmt = (
            select(svc.label("service"), b.label("bucket"), H.status, func.count().label("n"))
            .where(H.check_timestamp >= s, H.check_timestamp < u, *_service_where(service))
            .group_by(svc, b, H.status)
        )
        found = [(r.service, int(r.bucket), r.status, r.n) for r in session.execute(stmt).all()]
    cells: dict[tuple[str, int], dict[str, Any]] = {}
    for svc_name, bucket, status, n in found:
        c = cells.setdefault(
            (svc_name, bucket),
            {
                "service": svc_name,
                "bucket": bucket,
                "up": 0,
                "degraded": 0,
                "down": 0,
                "other": 0,
                "checks": 0,
            },
        )
        key = {"HEALTHY": "up", "DEGRADED": "degraded", "DOWN": "down"}.get(
            category(status), "other"
        )
        c[key] += n
        c["checks"] += n
    rows = [cells[k] for k in sorted(cells)]
    for cell in rows:
        good = cell["up"] + (0 if degraded_down else cell["degraded"])
        bad = cell["down"] + (cell["degraded"] if degraded_down else 0)
        cell["uptime"] = good / (good + bad) if good + bad else None
        cell["worst"] = (
            "DOWN"
            if cell["down"]
            else OTHER
            if cell["other"]
            else "DEGRADED"
            if cell["degraded"]
            else "HEALTHY"
        )
    return frame(rows, HISTORY_COLUMNS)


# --- state runs and incidents ------------------------------------------------------------------

RUN_COLUMNS = {
    "service": "str",
    "state": "str",
    "category": "str",
    "start": "utc",
    "end": "utc",
    "duration_s": "float",
    "carried_in": "bool",
}


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _change_rows(
    session: Session, *, since: datetime, until: datetime, service: str | None
) -> list[tuple[str, datetime, str, bool]]:
    """(service, at (UTC), normalised state, carried in) of the state changes; see state_changes."""
    s, u = naive_utc(since), naive_utc(until)
    svc = exact(H.service_name)
    # The raw status is compared (cheap per row); spellings of one state ('down', 'DOWN ') that
    # differ are merged again by the runs after normalising.
    lagged = (
        select(
            svc.label("service"),
            H.check_timestamp.label("at"),
            H.status.label("state"),
            func.lag(H.status).over(partition_by=svc, order_by=H.check_timestamp).label("prev"),
        )
        .where(H.check_timestamp >= s, H.check_timestamp < u, *_service_where(service))
        .subquery()
    )
    changes = (
        select(lagged.c.service, lagged.c.at, lagged.c.state)
        .where((lagged.c.prev.is_(None)) | (lagged.c.prev != lagged.c.state))
        .order_by(lagged.c.service, lagged.c.at)
        .limit(MAX_CHANGES)
    )
    names = [service] if service is not None else list(services(session))
    start = _utc(since)
    rows = (
        [
            (name, start, (r.status or "").strip().upper(), True)
            for name, r in _latest_rows(session, names, s - timedelta(microseconds=1)).items()
        ]
        if names
        else []
    )
    rows += [
        (r.service, _utc(r.at), (r.state or "").strip().upper(), False)
        for r in session.execute(changes)
    ]
    return rows


def state_changes(
    session: Session, *, since: datetime, until: datetime, service: str | None = None
) -> pd.DataFrame:
    """The checks in the window whose state differs from the service's previous check, plus the
    state each service had before the window (carried in at `since`). Columns: service, at, state, prior.
    """
    rows = _change_rows(session, since=since, until=until, service=service)
    return frame(
        [{"service": a, "at": b, "state": c, "prior": d} for a, b, c, d in rows],
        {"service": "str", "at": "utc", "state": "str", "prior": "bool"},
    )


def _runs(changes: list[tuple[str, Any, str, bool]], *, until: datetime) -> pd.DataFrame:
    """Runs from (service, at, state, carried in) changes; plain Python (pandas costs ms per group)."""
    end_ts = pd.Timestamp(naive_utc(until), tz="UTC")
    out: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None
    for service, at, state, prior in sorted(changes, key=lambda c: (c[0], c[1], not c[3])):
        if last is not None and last["service"] == service and last["state"] == state:
            continue
        if last is not None and last["service"] == service:
            last["end"] = at
        elif last is not None:
            last["end"] = end_ts
        last = {
            "service": service,
            "state": state,
            "category": category(state),
            "start": at,
            "end": None,
            "carried_in": bool(prior),
        }
        out.append(last)
    if last is not None:
        last["end"] = end_ts
    for run in out:
        run["duration_s"] = (pd.Timestamp(run["end"]) - pd.Timestamp(run["start"])).total_seconds()
    return frame(out, RUN_COLUMNS)


def runs_from_changes(changes: pd.DataFrame, *, until: datetime) -> pd.DataFrame:
    """Consecutive equal states merged into runs; the last run of each service lasts until `until`."""
    return _runs(
        list(
            zip(changes["service"], changes["at"], changes["state"], changes["prior"], strict=True)
        ),
        until=until,
    )


def state_runs(
    session: Session, *, since: datetime, until: datetime, service: str | None = None
) -> pd.DataFrame:
    """The state timeline: runs of equal state per service, the state before the window carried in,
    the current state drawn up to `until`. Columns RUN_COLUMNS.
    """
    return _runs(_change_rows(session, since=since, until=until, service=service), until=until)


def band_from_history(history: pd.DataFrame, *, bucket_s: int, until: datetime) -> pd.DataFrame:
    """A coarse state band from status-history cells: each cell's worst state, consecutive equal
    cells merged (for drawing when the exact runs are too many to draw). Columns RUN_COLUMNS."""
    out: list[dict[str, Any]] = []
    end_cap = pd.Timestamp(naive_utc(until), tz="UTC")
    width = pd.Timedelta(seconds=bucket_s)
    for service, g in history.sort_values(["service", "bucket"]).groupby("service", sort=True):
        for bucket, worst in zip(g["bucket"], g["worst"], strict=True):
            end = min(bucket + width, end_cap)
            if (
                out
                and out[-1]["service"] == service
                and out[-1]["state"] == worst
                and out[-1]["end"] == bucket
            ):
                out[-1]["end"] = end
                continue
            out.append(
                {
                    "service": service,
                    "state": worst,
                    "category": category(worst),
                    "start": bucket,
                    "end": end,
                    "carried_in": False,
                }
            )
    for r in out:
        r["duration_s"] = (r["end"] - r["start"]).total_seconds()
    return frame(out, RUN_COLUMNS)


INCIDENT_COLUMNS = {
    "service": "str",
    "start": "utc",
    "end": "utc",
    "ongoing": "bool",
    "duration_s": "float",
    "worst": "str",
    "states": "str",
}


def incidents_from_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs of non-HEALTHY states per service merged into incidents (worst state, ongoing or ended)."""
    out: list[dict[str, Any]] = []
    if runs.empty:
        return frame(out, INCIDENT_COLUMNS)
    last_end = runs.groupby("service")["end"].transform("max")
    for service, r, is_last in zip(
        runs["service"], runs.to_dict("records"), runs["end"] == last_end, strict=True
    ):
        if r["category"] == "HEALTHY":
            continue
        cur = (
            out[-1]
            if out and out[-1]["service"] == service and out[-1]["end"] == r["start"]
            else None
        )
        if cur is None:
            cur = {"service": service, "start": r["start"], "worst": r["state"], "states": []}
            out.append(cur)
        cur["end"] = r["end"]
        cur["ongoing"] = bool(is_last)
        if r["state"] not in cur["states"]:
            cur["states"].append(r["state"])
        if SEVERITY_RANK[category(r["state"])] > SEVERITY_RANK[category(cur["worst"])]:
            cur["worst"] = r["state"]
    for inc in out:
        inc["duration_s"] = (inc["end"] - inc["start"]).total_seconds()
        inc["states"] = ", ".join(inc["states"])
    df = frame(out, INCIDENT_COLUMNS)
    return df.sort_values("start", ascending=False, kind="stable").reset_index(drop=True)


def incidents(
    session: Session, *, since: datetime, until: datetime, service: str | None = None
) -> pd.DataFrame:
    """Derived incidents (runs of non-HEALTHY status), newest first. Columns INCIDENT_COLUMNS."""
    return incidents_from_runs(state_runs(session, since=since, until=until, service=service))


# --- latency and error counts ------------------------------------------------------------------

LATENCY_COLUMNS = {
    "service": "str",
    "bucket": "utc",
    "p50": "float",
    "p95": "float",
    "p99": "float",
    "avg_ms": "float",
    "parsed": "Int64",
    "unparseable": "Int64",
    "missing": "Int64",
    "errors_avg": "float",
    "errors_max": "float",
    "errors_unparseable": "Int64",
}


def _weighted_percentile(values: Sequence[tuple[float, int]], total: int, p: float) -> float:
    """The p-th percentile (linear interpolation between the ranks around 1 + p*(n-1), as
    percentile_cont) of sorted (value, how many times) pairs holding `total` values."""
    pos = 1 + p * (total - 1)
    lower = int(pos)
    frac = pos - lower
    seen, low_v, high_v = 0, None, None
    for v, n in values:
        if low_v is None and seen + n >= lower:
            low_v = v
        if seen + n >= lower + 1:
            high_v = v
            break
        seen += n
    assert low_v is not None
    return low_v if high_v is None or frac == 0 else low_v + frac * (high_v - low_v)


def _distinct_texts(
    session: Session, col: Any, where: Sequence[ColumnElement[bool]], bucket_s: int
) -> list[Any]:
    """(service, bucket, text as written, its number or NULL, checks) per distinct text of `col`."""
    svc, b, raw = exact(H.service_name), epoch_bucket(H.check_timestamp, bucket_s), exact(col)
    grouped = (
        select(svc.label("service"), b.label("bucket"), raw.label("raw"), func.count().label("n"))
        .where(*where)
        .group_by(svc, b, raw)
        .subquery()
    )
    return list(
        session.execute(
            select(
                grouped.c.service,
                grouped.c.bucket,
                grouped.c.raw,
                safe_number(grouped.c.raw).label("v"),
                grouped.c.n,
            )
        ).all()
    )


def latency(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    bucket_s: int,
    service: str | None = None,
) -> pd.DataFrame:
    """response_time_ms per service and bucket: p50/p95/p99 and average of the values that parse,
    how many parsed, were not numbers ('unparseable') or NULL ('missing'); error_count_24h likewise.
    Columns LATENCY_COLUMNS.

    SQL counts the checks per distinct text (a window holds far fewer distinct texts than checks) and
    parses each distinct text once; the percentiles (as percentile_cont) and averages come from those
    (value, count) pairs here.
    """
    where = [
        H.check_timestamp >= naive_utc(since),
        H.check_timestamp < naive_utc(until),
        *_service_where(service),
    ]
    cells: dict[tuple[str, int], dict[str, Any]] = {}

    def cell(svc: str, bucket: int) -> dict[str, Any]:
        return cells.setdefault(
            (svc, int(bucket)),
            {
                "service": svc,
                "bucket": int(bucket),
                "ms": [],
                "errs": [],
                "unparseable": 0,
                "missing": 0,
                "errors_unparseable": 0,
            },
        )

    for r in _distinct_texts(session, H.response_time_ms, where, bucket_s):
        c = cell(r.service, r.bucket)
        if r.v is not None:
            c["ms"].append((float(r.v), int(r.n)))
        elif r.raw is None:
            c["missing"] += r.n
        else:
            c["unparseable"] += r.n
    for r in _distinct_texts(session, H.error_count_24h, where, bucket_s):
        c = cell(r.service, r.bucket)
        if r.v is not None:
            c["errs"].append((float(r.v), int(r.n)))
        elif r.raw is not None:
            c["errors_unparseable"] += r.n
    rows = []
    for key in sorted(cells):
        c = cells[key]
        ms, errs = sorted(c.pop("ms")), c.pop("errs")
        parsed = sum(n for _, n in ms)
        n_errs = sum(n for _, n in errs)
        pct = {
            name: _weighted_percentile(ms, parsed, p) if parsed else None
            for name, p in zip(("p50", "p95", "p99"), PERCENTILES, strict=True)
        }
        rows.append(
            {
                **c,
                **pct,
                "parsed": parsed,
                "avg_ms": sum(v * n for v, n in ms) / parsed if parsed else None,
                "errors_avg": sum(v * n for v, n in errs) / n_errs if n_errs else None,
                "errors_max": max(v for v, _ in errs) if errs else None,
            }
        )
    return frame(rows, LATENCY_COLUMNS)


# A loose index scan: one index probe per distinct name instead of reading every check.
# (SQLite and PostgreSQL compare names byte-exact here; MariaDB's collation would merge
# 'Cache' and 'cache', so it groups with exact() instead.)
_DISTINCT_SERVICES = text("""
WITH RECURSIVE names(name) AS (
    SELECT MIN(service_name) FROM system_health_status
    UNION ALL
    SELECT (SELECT MIN(service_name) FROM system_health_status WHERE service_name > names.name)
    FROM names WHERE names.name IS NOT NULL
)
SELECT name FROM names WHERE name IS NOT NULL
""")


def services(session: Session) -> tuple[str, ...]:
    """Every service name that has a check (exact spelling), sorted."""
    if _dialect(session) in ("sqlite", "postgresql"):
        found = session.scalars(_DISTINCT_SERVICES).all()
    else:
        svc = exact(H.service_name)
        found = session.scalars(select(svc).group_by(svc)).all()
    return tuple(sorted(v for v in found if v is not None))
