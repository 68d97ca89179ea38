"""Questions about critical_error_logs: groups (fingerprints), facets, timelines, occurrences.

Grouping scales with the number of distinct messages, not rows: SQL groups by the exact
(error_type, service, message), then `domain.fingerprint` merges the groups whose normalised
messages are equal (a window holds far fewer distinct messages than rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from db.models import CriticalErrorLog as E
from db.own_models import ErrorResolution
from db.queries.common import COUNT_CAP, PAGE_SIZE, capped_count, frame, has_table
from db.sqlfuncs import epoch_bucket, exact, exact_eq, exact_in
from db.types import naive_utc
from domain.fingerprint import fingerprint, normalise_message

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
# Resolution history rows shown per event at most.
MAX_HISTORY_ROWS = 200

GROUP_COLUMNS: dict[str, str] = {
    "fingerprint": "str",
    "error_type": "str",
    "service": "str",
    "message": "str",
    "count": "Int64",
    "prior_count": "Int64",
    "change": "Int64",
    "unresolved": "Int64",
    "first_seen": "utc",
    "last_seen": "utc",
    "last_resolved_at": "utc",
    "high": "Int64",
    "medium": "Int64",
    "low": "Int64",
    "other_severity": "Int64",
    "new": "bool",
    "regressed": "bool",
    "escalating": "bool",
    "baseline_expected": "float",
    "messages": "object",
    "distinct_messages": "Int64",
}
OCCURRENCE_COLUMNS: dict[str, str] = {
    "id": "str",
    "created_at": "utc",
    "error_type": "str",
    "service": "str",
    "severity": "str",
    "message": "str",
    "resolved_at": "utc",
    "resolution_notes": "str",
}


def _service_filter(services: Sequence[str]) -> ColumnElement[bool]:
    named = [s for s in services if s != NO_SERVICE]
    parts: list[ColumnElement[bool]] = []
    if named:
        parts.append(exact_in(E.service, named))
    if NO_SERVICE in services:
        parts.append(E.service.is_(None))
    return or_(*parts)


def severity_key(value: str | None) -> str:
    """A severity as it is grouped and filtered: trimmed and upper-cased (' high' is HIGH)."""
    return (value or "").strip(" ").upper()


def _sev() -> ColumnElement[str]:
    """The severity column as `severity_key` reads it, in SQL (TRIM strips spaces on every engine)."""
    return func.upper(func.trim(E.severity))


def _severity_filter(severities: Sequence[str]) -> ColumnElement[bool]:
    return _sev().in_(sorted({severity_key(s) for s in severities}))


def _text_filter(text: str) -> ColumnElement[bool]:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(E.message).like(f"%{escaped}%", escape="\\")


def filters(
    *,
    services: Sequence[str] = (),
    severities: Sequence[str] = (),
    types: Sequence[str] = (),
    text: str = "",
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


def _triples_stmt(
    since: datetime, until: datetime, where: list[ColumnElement[bool]]
) -> Select[Any]:
    s, u = naive_utc(since), naive_utc(until)
    prior, base, history = (naive_utc(t) for t in _window(since, until))
    in_range = and_(E.created_at >= s, E.created_at < u)
    sev = _sev()

    def n(cond: ColumnElement[bool]) -> Any:
        return func.sum(case((cond, 1), else_=0))

    t, sv, m = exact(E.error_type), exact(E.service), exact(E.message)
    return (
        select(
            t.label("error_type"),
            sv.label("service"),
            m.label("message"),
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
    "error_type": "str",
    "service": "str",
    "message": "str",
    "count": "Int64",
    "prior_count": "Int64",
    "baseline_count": "Int64",
    "unresolved": "Int64",
    "first_seen": "utc",
    "last_seen": "utc",
    "last_resolved_at": "utc",
    "last_unresolved_at": "utc",
    "high": "Int64",
    "medium": "Int64",
    "low": "Int64",
}


def merge_groups(triples: pd.DataFrame, *, since: datetime, until: datetime) -> pd.DataFrame:
    """Exact (type, service, message) counts merged into fingerprint groups, with their badges."""
    if triples.empty:
        return frame([], GROUP_COLUMNS)
    t = triples.copy()
    t["fingerprint"] = [
        fingerprint(a, b, c) for a, b, c in zip(t.error_type, t.service, t.message, strict=True)
    ]
    t = t.sort_values(["fingerprint", "count"], ascending=[True, False], kind="stable")
    sums = ["count", "prior_count", "baseline_count", "unresolved", "high", "medium", "low"]
    g = t.groupby("fingerprint", sort=False)
    out = g[sums].sum()
    out = out.join(
        g[["first_seen", "last_resolved_at", "last_unresolved_at"]].agg(
            {"first_seen": "min", "last_resolved_at": "max", "last_unresolved_at": "max"}
        )
    )
    out["last_seen"] = g["last_seen"].max()
    first = t.drop_duplicates("fingerprint").set_index(
        "fingerprint"
    )  # keeps NULL services (g.first() skips them)
    out["error_type"], out["service"], out["message"] = (
        first.error_type,
        first.service,
        first.message,
    )
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
    until_ts = pd.Timestamp(naive_utc(until), tz="UTC")
    out["new"] = out["first_seen"] >= until_ts - NEW_WITHIN
    out["regressed"] = (
        out["last_unresolved_at"].notna()
        & out["last_resolved_at"].notna()
        & (out["last_unresolved_at"] > out["last_resolved_at"])
    )
    out["escalating"] = (
        (out["count"] >= ESCALATING_MIN_EVENTS)
        & (out["baseline_count"] > 0)
        & (out["count"] > ESCALATING_FACTOR * out["baseline_expected"])
    )
    out = out.sort_values(["last_seen", "count"], ascending=[False, False], kind="stable")
    for col in (
        "error_type",
        "service",
        "message",
    ):  # keep NULL services None (pandas made them NaN)
        out[col] = out[col].map(lambda v: v if isinstance(v, str) else None)
    return frame(out[list(GROUP_COLUMNS)].to_dict("records"), GROUP_COLUMNS)


# --- one read of the window and two of its history, rolled up -----------------------------------
# The page reads the window once, grouped by (type, service, message, bucket, severity, resolved
# or not), the baseline periods before it by (type, service, message, severity) for the counts,
# and the older days back to HISTORY_MIN by message for a group's life (first seen, resolutions).
# Groups, facets, the severity timeline and the sparklines are roll-ups of those aggregates in
# plain Python (distinct messages, not rows), all inside one cached call (`error_view`), so a rerun
# with the same window and filters only unpickles the small results.
# The worst case, a window holding a huge number of events, is bounded: only the newest
# MAX_WINDOW_EVENTS events of the window (and MAX_HISTORY_EVENTS before it) are grouped, and the
# result says from when on it counts (`capped_from`, `history_from`), so the page can say so plainly.

MAX_WINDOW_EVENTS = 50_000
MAX_HISTORY_EVENTS = 100_000
FACET_VALUES_MAX = 200
_Key = tuple[str, str | None, str]

FACET_COLUMNS = {"facet": "str", "value": "str", "count": "Int64"}
TIMELINE_COLUMNS = {"bucket": "utc", "severity": "str", "count": "Int64"}
SPARK_COLUMNS = {"fingerprint": "str", "bucket": "utc", "count": "Int64"}


@dataclass
class ErrorView:
    """Everything the Errors page shows for one window and one set of filters.

    `groups` holds the groups of every status (GROUP_COLUMNS; the page keeps one tab's with
    `by_status`); `facets` (facet, value, count), `timeline` (bucket, severity, count), `sparks`
    (fingerprint, bucket, count). `events`: the events grouped. `capped_from`: when the window held
    more than MAX_WINDOW_EVENTS events, the time from which on its newest ones were grouped (else
    None); `history_from` likewise for the history before the window. `truncated`: more than
    MAX_DISTINCT distinct messages (the rest were left out). `attrs` carries 'as_of' (db.data).
    """

    groups: pd.DataFrame
    facets: pd.DataFrame
    timeline: pd.DataFrame
    sparks: pd.DataFrame
    events: int = 0
    capped_from: datetime | None = None
    history_from: datetime | None = None
    truncated: bool = False
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Filter:
    """The facet filters and free text, applied to aggregate rows in Python (same rules as `filters()`)."""

    services: tuple[str, ...] = ()  # named services
    no_service: bool = False  # NO_SERVICE chosen: errors without a service
    severities: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    text: str = ""

    def key_ok(self, key: _Key, skip: str = "") -> bool:
        """Type, service and text filters (the parts of a message's key)."""
        error_type, service, message = key
        if (
            (self.services or self.no_service)
            and skip != "service"
            and not (self.no_service if service is None else service in self.services)
        ):
            return False
        if self.types and skip != "type" and error_type not in self.types:
            return False
        return not self.text or self.text in (message or "").lower()

    def severity_ok(self, severity: str | None, skip: str = "") -> bool:
        return (
            not self.severities or skip == "severity" or severity_key(severity) in self.severities
        )


def _filter(
    services: Sequence[str], severities: Sequence[str], types: Sequence[str], text: str
) -> _Filter:
    return _Filter(
        services=tuple(s for s in services if s != NO_SERVICE),
        no_service=NO_SERVICE in services,
        severities=tuple(severity_key(s) for s in severities),
        types=tuple(types),
        text=(text or "").strip().lower(),
    )


def _ts(value: Any) -> datetime | None:
    """A database time as naive UTC (drivers differ: datetime, aware datetime or ISO text)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return naive_utc(value)
    return None


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _cutoff(session: Session, lo: datetime, hi: datetime, limit: int) -> datetime | None:
    """created_at of the (limit+1)-th newest event in [lo, hi); None when the range holds at most `limit`."""
    stmt = (
        select(E.created_at)
        .where(E.created_at >= lo, E.created_at < hi)
        .order_by(E.created_at.desc())
        .offset(limit)
        .limit(1)
    )
    return _ts(session.execute(stmt).scalar())


def _window_rows(
    session: Session, *, lo: datetime, hi: datetime, bucket_s: int, above: datetime | None
) -> list[Any]:
    """Events in [lo, hi) (newer than `above` when capped) per (type, service, message, bucket,
    severity, unresolved): count, first, last, last resolution."""
    t, sv, m = exact(E.error_type), exact(E.service), exact(E.message)
    b, sev = epoch_bucket(E.created_at, bucket_s), _sev()
    open_ = case((E.resolved_at.is_(None), 1), else_=0)
    # One lower bound, so the index range starts at the cutoff (a second bound is only a filter).
    where = [E.created_at > above if above is not None else E.created_at >= lo, E.created_at < hi]
    stmt = (
        select(
            t,
            sv,
            m,
            b,
            sev,
            open_,
            func.count(),
            func.min(E.created_at),
            func.max(E.created_at),
            func.max(E.resolved_at),
        )
        .where(*where)
        .group_by(t, sv, m, b, sev, open_)
    )
    return list(session.execute(stmt).all())


def _history_rows(
    session: Session, *, since: datetime, until: datetime, above: datetime | None
) -> list[Any]:
    """The baseline before the window (BASELINE_PERIODS periods) per (type, service, message, severity):
    the prior period's and the baseline's counts, first seen, last resolution, last unresolved event."""
    s = naive_utc(since)
    prior, base, _ = (naive_utc(x) for x in _window(since, until))
    t, sv, m, sev = exact(E.error_type), exact(E.service), exact(E.message), _sev()

    def n(cond: ColumnElement[bool]) -> Any:
        return func.sum(case((cond, 1), else_=0))

    stmt = (
        select(
            t,
            sv,
            m,
            sev,
            n(E.created_at >= prior),
            func.count(),
            func.min(E.created_at),
            func.max(E.resolved_at),
            func.max(case((E.resolved_at.is_(None), E.created_at))),
        )
        .where(
            E.created_at > above if above is not None and above >= base else E.created_at >= base,
            E.created_at < s,
        )
        .group_by(t, sv, m, sev)
    )
    return list(session.execute(stmt).all())


def _older_rows(
    session: Session, *, since: datetime, until: datetime, above: datetime | None
) -> list[Any]:
    """Before the baseline, back to the history start: per (type, service, message) first seen, last
    resolution, last unresolved event (the group's life, for the New and Regressed badges).

    Grouped by the message alone (SQLite sorts every row of a GROUP BY, and a shorter key costs
    less), with the type and service checked to be one per message; the few messages logged under
    several types or services are grouped again by their whole key.
    """
    _, base, history = (naive_utc(x) for x in _window(since, until))
    t, sv, m = exact(E.error_type), exact(E.service), exact(E.message)
    where = [
        E.created_at > above if above is not None and above >= history else E.created_at >= history,
        E.created_at < base,
    ]
    life = (
        func.min(E.created_at),
        func.max(E.resolved_at),
        func.max(case((E.resolved_at.is_(None), E.created_at))),
    )
    rows = session.execute(
        select(
            m,
            func.min(t),
            func.max(t),
            func.min(sv),
            func.max(sv),
            func.count(E.service),
            func.count(),
            *life,
        )
        .where(*where)
        .group_by(m)
    ).all()
    out: list[Any] = []
    mixed: list[str] = []
    for msg, t_lo, t_hi, s_lo, s_hi, with_service, total, *rest in rows:
        if t_lo != t_hi or s_lo != s_hi or 0 < int(with_service) < int(total):
            mixed.append(msg)
        else:
            out.append((t_lo, s_lo, msg, *rest))
    for chunk in (mixed[i : i + 500] for i in range(0, len(mixed), 500)):
        out += session.execute(
            select(t, sv, m, *life).where(*where, exact_in(E.message, chunk)).group_by(t, sv, m)
        ).all()
    return out


# --- the history of the window's own messages, probed per message -------------------------------
# With the message indexes (SQLite: (error_type, service, message, created_at, severity) and
# (error_type, service, message, resolved_at, created_at); see MESSAGE_INDEXES) the history before
# the window is read only for the messages the window holds: per message one index range over the
# baseline periods (prior and baseline counts per severity) and three index probes over the whole
# history (first seen, last resolution, last unresolved event). That costs what the window holds,
# not what the history holds. Without those indexes, on a short history, with more than PROBE_MAX
# messages, or on PostgreSQL/MariaDB (faster reading it whole), the history is read and grouped as a
# whole; both give `_roll_up` the same rows, so the counts and badges are the same either way.

MESSAGE_INDEXES = ("ix_console_view_errors_message", "ix_console_view_errors_message_resolved")
PROBE_MAX = 400  # distinct (type, service, message) of a window probed at most
# A message's probes cost about what reading this many history events costs (SQLite, cProfile): a
# short history (a young database) is read whole, a long one probed.
PROBE_ROWS_PER_KEY = 300
# PostgreSQL and MariaDB hash-aggregate the whole history in one statement faster than they probe
# (measured at 100k rows: 0.25 vs 0.45 s and 1.0 vs 0.9 s); their probe forms stay tested.
PROBE_DIALECTS = ("sqlite",)
_INDEX_SQL = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'critical_error_logs' "
    "AND name IN (:a, :b)",
    "postgresql": "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() "
    "AND tablename = 'critical_error_logs' AND indexname IN (:a, :b)",
    "mysql": "SELECT count(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = DATABASE() "
    "AND table_name = 'critical_error_logs' AND index_name IN (:a, :b)",
}


def has_message_indexes(session: Session) -> bool:
    """Whether both message indexes of MESSAGE_INDEXES exist (the per-message history probes need them)."""
    name = session.get_bind().dialect.name
    sql = _INDEX_SQL.get("mysql" if name in ("mysql", "mariadb") else name)
    if sql is None:
        return False
    a, b = MESSAGE_INDEXES
    return int(session.execute(sql_text(sql), {"a": a, "b": b}).scalar() or 0) == len(
        MESSAGE_INDEXES
    )


def _probe_keys(
    session: Session, window: list[Any], flt: _Filter, *, history_events: int
) -> list[_Key] | None:
    """The window's (type, service, message) keys the filters keep, when probing them is cheaper than
    reading the `history_events` events before the window and the message indexes exist; None means:
    read the whole history."""
    keys = list(dict.fromkeys((r[0], r[1], r[2]) for r in window))
    keys = [k for k in keys if flt.key_ok(k)]
    if len(keys) > PROBE_MAX or len(keys) * PROBE_ROWS_PER_KEY > history_events:
        return None
    if session.get_bind().dialect.name not in PROBE_DIALECTS:
        return None
    return keys if has_message_indexes(session) else None


def _probe_stmt(
    *,
    dialect: str,
    null_service: bool,
    hist_lo: ColumnElement[bool],
    base_lo: ColumnElement[bool],
    s: datetime,
    prior: datetime,
) -> Executable:
    """One message's probes, bound to :t, :s and :m: a first row (0, NULL, NULL, NULL, first seen, last
    resolution, last unresolved event) over the history, then (1, severity, prior, baseline, NULL x3)
    per severity over the baseline periods."""
    svc = E.service.is_(None) if null_service else exact_eq(E.service, bindparam("s"))
    key = [exact_eq(E.error_type, bindparam("t")), svc, exact_eq(E.message, bindparam("m"))]
    if (
        dialect == "postgresql"
    ):  # its message indexes key on md5(message) (a btree refuses long text)
        key.append(func.md5(E.message) == func.md5(bindparam("m", type_=E.message.type)))
    sev = _sev()
    in_history = and_(hist_lo, E.created_at < s)
    first = select(func.min(E.created_at)).where(*key, in_history).scalar_subquery()
    if dialect == "sqlite":
        # Newest resolution first along the (message, resolved_at) index, the time bounds only a filter
        # there: inside a CASE, else SQLite takes the created_at range of the other index and sorts.
        last_res = (
            select(E.resolved_at)
            .where(*key, E.resolved_at.is_not(None), case((in_history, 1), else_=0) == 1)
            .order_by(E.resolved_at.desc())
            .limit(1)
            .scalar_subquery()
        )
    else:  # the planner's own max() rewrite walks (message, resolved_at) backwards, its estimates kept
        last_res = (
            select(func.max(E.resolved_at))
            .where(*key, E.resolved_at.is_not(None), in_history)
            .scalar_subquery()
        )
    last_open = (
        select(func.max(E.created_at))
        .where(*key, E.resolved_at.is_(None), in_history)
        .scalar_subquery()
    )
    life: Any = select(literal_column("0"), null(), null(), null(), first, last_res, last_open)
    counts: Any = (
        select(
            literal_column("1"),
            sev,
            func.sum(case((E.created_at >= prior, 1), else_=0)),
            func.count(),
            null(),
            null(),
            null(),
        )
        .where(*key, base_lo, E.created_at < s)
        .group_by(sev)
    )
    return union_all(life, counts)


def _probe_rows(
    session: Session, keys: list[_Key], *, since: datetime, until: datetime, above: datetime | None
) -> tuple[list[Any], list[Any]]:
    """The rows `_history_rows` and `_older_rows` would give for `keys`, through per-message index probes:
    (type, service, message, severity, prior, baseline, None x3) per severity seen in the baseline, and
    (type, service, message, first seen, last resolution, last unresolved event) over the whole history."""
    s = naive_utc(since)
    prior, base, history = (naive_utc(x) for x in _window(since, until))
    # The same bounds as the whole-history reads: the history cap moves their lower bound up.
    hist_lo = E.created_at > above if above is not None else E.created_at >= history
    base_lo = E.created_at > above if above is not None and above >= base else E.created_at >= base
    dialect = session.get_bind().dialect.name
    stmts = {
        none: _probe_stmt(
            dialect=dialect, null_service=none, hist_lo=hist_lo, base_lo=base_lo, s=s, prior=prior
        )
        for none in (False, True)
    }
    conn = session.connection()  # Core: one compiled statement, executed once per message
    counts: list[Any] = []
    life: list[Any] = []
    for key in keys:
        error_type, service, message = key
        params = {"t": error_type, "m": message, **({} if service is None else {"s": service})}
        for kind, severity, n_prior, n_base, first, last_res, last_open in conn.execute(
            stmts[service is None], params
        ):
            if int(kind):
                counts.append((*key, severity, n_prior, n_base, None, None, None))
            else:
                life.append((*key, first, last_res, last_open))
    return counts, life


class _Triple:
    """Running totals of one exact (type, service, message) over the window and its history."""

    __slots__ = (
        "count",
        "unresolved",
        "high",
        "medium",
        "low",
        "last_seen",
        "first_seen",
        "last_resolved_at",
        "last_unresolved_at",
        "prior_count",
        "baseline_count",
        "buckets",
    )

    def __init__(self) -> None:
        self.count = self.unresolved = self.high = self.medium = self.low = 0
        self.prior_count = self.baseline_count = 0
        self.last_seen: datetime | None = None
        self.first_seen: datetime | None = None
        self.last_resolved_at: datetime | None = None
        self.last_unresolved_at: datetime | None = None
        self.buckets: dict[int, int] = {}


def _roll_up(
    window: list[Any], recent: list[Any], older: list[Any], flt: _Filter
) -> tuple[dict[_Key, _Triple], dict[str, dict[str, int]], dict[tuple[int, str], int], bool]:
    """(triples passing the filters, facet counts, timeline counts, truncated) from the aggregate rows.

    Counts follow every filter; a group's life (first seen, last resolution, last unresolved event:
    the New and Regressed badges) is the group's own, whatever the severity filter.
    """
    triples: dict[_Key, _Triple] = {}
    facets: dict[str, dict[str, int]] = {"severity": {}, "service": {}, "type": {}}
    timeline: dict[tuple[int, str], int] = {}
    key_ok: dict[_Key, tuple[bool, bool, bool, bool]] = {}
    life: dict[_Key, list[datetime | None]] = {}
    truncated = False
    for (
        error_type,
        service,
        message,
        bucket,
        severity,
        open_,
        n,
        first_at,
        last_at,
        last_res,
    ) in window:
        key = (error_type, service, message)
        ok = key_ok.get(key)
        if ok is None:
            ok = key_ok[key] = (
                flt.key_ok(key),
                flt.key_ok(key, "severity"),
                flt.key_ok(key, "service"),
                flt.key_ok(key, "type"),
            )
        sev = severity or ""
        n = int(n)
        sev_ok = flt.severity_ok(sev)
        if ok[1]:
            facets["severity"][sev] = facets["severity"].get(sev, 0) + n
        if ok[2] and sev_ok:
            name = service if service is not None else NO_SERVICE
            facets["service"][name] = facets["service"].get(name, 0) + n
        if ok[3] and sev_ok:
            facets["type"][error_type] = facets["type"].get(error_type, 0) + n
        if not ok[0]:
            continue
        last = _ts(last_at)
        _live(life, key, _ts(first_at), _ts(last_res), last if open_ else None)
        if not sev_ok:
            continue
        b = int(bucket)
        timeline[(b, sev)] = timeline.get((b, sev), 0) + n
        tri = triples.get(key)
        if tri is None:
            if len(triples) >= MAX_DISTINCT:
                truncated = True
                continue
            tri = triples[key] = _Triple()
        tri.buckets[b] = tri.buckets.get(b, 0) + n
        tri.count += n
        if sev in SEVERITIES:
            setattr(tri, sev.lower(), getattr(tri, sev.lower()) + n)
        tri.last_seen = _max(tri.last_seen, last)
        if open_:
            tri.unresolved += n
    for (
        error_type,
        service,
        message,
        severity,
        prior,
        baseline,
        first,
        last_res,
        last_open,
    ) in recent:
        key = (error_type, service, message)
        if key not in triples:
            continue
        _live(life, key, _ts(first), _ts(last_res), _ts(last_open))
        if flt.severity_ok(severity):
            tri = triples[key]
            tri.prior_count += int(prior or 0)
            tri.baseline_count += int(baseline or 0)
    for error_type, service, message, first, last_res, last_open in older:
        key = (error_type, service, message)
        if key in triples:
            _live(life, key, _ts(first), _ts(last_res), _ts(last_open))
    for key, tri in triples.items():
        tri.first_seen, tri.last_resolved_at, tri.last_unresolved_at = life[key]
    return triples, facets, timeline, truncated


def _live(
    life: dict[_Key, list[datetime | None]],
    key: _Key,
    first: datetime | None,
    resolved: datetime | None,
    open_last: datetime | None,
) -> None:
    """Fold one row's first seen, last resolution and last unresolved event into a message's life."""
    cur = life.get(key)
    if cur is None:
        life[key] = [first, resolved, open_last]
    else:
        cur[0], cur[1], cur[2] = (
            _min(cur[0], first),
            _max(cur[1], resolved),
            _max(cur[2], open_last),
        )


def _group_records(
    triples: dict[_Key, _Triple], *, since: datetime, until: datetime
) -> tuple[list[dict[str, Any]], dict[str, dict[int, int]]]:
    """Fingerprint groups (GROUP_COLUMNS records, newest first) and their events per bucket."""
    by_fp: dict[str, list[tuple[_Key, _Triple]]] = {}
    for key, tri in triples.items():
        by_fp.setdefault(fingerprint(*key), []).append((key, tri))
    length = until - since
    _, base_start, _ = _window(since, until)
    periods = max((since - base_start) / length, 1e-9)
    new_after = naive_utc(until) - NEW_WITHIN
    records: list[dict[str, Any]] = []
    sparks: dict[str, dict[int, int]] = {}
    for fp, members in by_fp.items():
        members.sort(key=lambda kt: (-kt[1].count, kt[0][2]))  # most frequent message first
        (error_type, service, message), _ = members[0]
        tris = [t for _, t in members]
        r: dict[str, Any] = {
            "fingerprint": fp,
            "error_type": error_type,
            "service": service,
            "message": message,
        }
        for col in (
            "count",
            "prior_count",
            "baseline_count",
            "unresolved",
            "high",
            "medium",
            "low",
        ):
            r[col] = sum(getattr(t, col) for t in tris)
        r["last_seen"] = max((t.last_seen for t in tris if t.last_seen), default=None)
        r["first_seen"] = min((t.first_seen for t in tris if t.first_seen), default=None)
        r["last_resolved_at"] = max(
            (t.last_resolved_at for t in tris if t.last_resolved_at), default=None
        )
        last_open = max((t.last_unresolved_at for t in tris if t.last_unresolved_at), default=None)
        r["other_severity"] = r["count"] - r["high"] - r["medium"] - r["low"]
        r["change"] = r["count"] - r["prior_count"]
        r["baseline_expected"] = r["baseline_count"] / periods
        r["new"] = r["first_seen"] is not None and r["first_seen"] >= new_after
        r["regressed"] = bool(
            last_open and r["last_resolved_at"] and last_open > r["last_resolved_at"]
        )
        r["escalating"] = (
            r["count"] >= ESCALATING_MIN_EVENTS
            and r["baseline_count"] > 0
            and r["count"] > ESCALATING_FACTOR * r["baseline_expected"]
        )
        r["messages"] = tuple(k[2] for k, _ in members)
        r["distinct_messages"] = len(members)
        records.append(r)
        spark: dict[int, int] = {}
        for t in tris:
            for b, n in t.buckets.items():
                spark[b] = spark.get(b, 0) + n
        sparks[fp] = spark
    records.sort(key=lambda r: (r["last_seen"] or datetime.min, r["count"]), reverse=True)
    return records, sparks


def _columns(cols: dict[str, list[Any]], dtypes: dict[str, str]) -> pd.DataFrame:
    """The frame `frame()` would build, straight from column lists (no per-cell coercion: these values
    are already Python ints, floats, bools, str/None, naive-UTC datetimes/None or epoch seconds).
    The columns are built first and the frame once (inserting them one by one costs ~1 ms each)."""
    n = len(next(iter(cols.values()), []))
    index = pd.RangeIndex(n)
    arrays: dict[str, Any] = {}
    for col, dtype in dtypes.items():
        values = cols.get(col, [])
        if dtype == "utc":
            if values and all(isinstance(v, int) for v in values):
                stamps = pd.to_datetime(values, unit="s", utc=True).as_unit("us")
            else:  # naive UTC (or None)
                stamps = pd.DatetimeIndex(values, dtype="datetime64[us]").tz_localize("UTC")
            arrays[col] = stamps.array
        elif dtype in ("Int64", "float", "bool"):
            arrays[col] = pd.array(
                values, dtype={"Int64": "Int64", "float": "float64", "bool": "boolean"}[dtype]
            )
        else:  # object, as frame() keeps text (pandas 3 would infer its string dtype and turn None into NaN)
            arrays[col] = pd.Series(values, dtype=object, index=index)
    return pd.DataFrame(arrays, index=index)


def _facet_frame(facets: dict[str, dict[str, int]]) -> pd.DataFrame:
    cols: dict[str, list[Any]] = {"facet": [], "value": [], "count": []}
    for name, counts in facets.items():
        for value, n in sorted(counts.items(), key=lambda vc: -vc[1])[:FACET_VALUES_MAX]:
            cols["facet"].append(name)
            cols["value"].append(value)
            cols["count"].append(n)
    return _columns(cols, FACET_COLUMNS)


def error_view(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    bucket_s: int,
    services: Sequence[str] = (),
    severities: Sequence[str] = (),
    types: Sequence[str] = (),
    text: str = "",
) -> ErrorView:
    """The groups (every status), facet counts, severity timeline and sparklines of [since, until),
    filtered; one read of the window and one of the history before it."""
    lo, hi = naive_utc(since), naive_utc(until)
    capped = _cutoff(session, lo, hi, MAX_WINDOW_EVENTS)
    window = _window_rows(session, lo=lo, hi=hi, bucket_s=bucket_s, above=capped)
    history_lo = naive_utc(_window(since, until)[2])
    history_events = capped_count(
        session,
        select(E.created_at).where(E.created_at >= history_lo, E.created_at < lo),
        MAX_HISTORY_EVENTS + 1,
    )
    hist_capped = (
        _cutoff(session, history_lo, lo, MAX_HISTORY_EVENTS)
        if history_events > MAX_HISTORY_EVENTS
        else None
    )
    flt = _filter(services, severities, types, text)
    keys = _probe_keys(session, window, flt, history_events=history_events)
    if (
        keys is not None
    ):  # the history of the window's own messages only, through the message indexes
        recent, older = _probe_rows(session, keys, since=since, until=until, above=hist_capped)
    else:
        recent = _history_rows(session, since=since, until=until, above=hist_capped)
        older = _older_rows(session, since=since, until=until, above=hist_capped)
    triples, facets, timeline, truncated = _roll_up(window, recent, older, flt)
    records, sparks = _group_records(triples, since=since, until=until)
    groups = _columns({col: [r[col] for r in records] for col in GROUP_COLUMNS}, GROUP_COLUMNS)
    points = sorted(timeline.items())
    tl = _columns(
        {
            "bucket": [b for (b, _), _ in points],
            "severity": [s for (_, s), _ in points],
            "count": [n for _, n in points],
        },
        TIMELINE_COLUMNS,
    )
    cells = [(fp, b, n) for fp, sb in sparks.items() for b, n in sorted(sb.items())]
    sp = _columns(
        {
            "fingerprint": [c[0] for c in cells],
            "bucket": [c[1] for c in cells],
            "count": [c[2] for c in cells],
        },
        SPARK_COLUMNS,
    )
    return ErrorView(
        groups=groups,
        facets=_facet_frame(facets),
        timeline=tl,
        sparks=sp,
        events=sum(int(r[6]) for r in window),
        capped_from=capped,
        history_from=hist_capped,
        truncated=truncated,
    )


def by_status(groups: pd.DataFrame, status: str) -> pd.DataFrame:
    """The groups of one tab: with unresolved events ('unresolved'), without ('resolved'), or all."""
    if status == "unresolved":
        groups = groups[groups["unresolved"] > 0]
    elif status == "resolved":
        groups = groups[groups["unresolved"] == 0]
    return groups.reset_index(drop=True)


def error_groups(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    status: str = "unresolved",
    services: Sequence[str] = (),
    severities: Sequence[str] = (),
    types: Sequence[str] = (),
    text: str = "",
) -> pd.DataFrame:
    """Fingerprint groups seen in [since, until): counts, first/last seen, severity mix, badges.

    Columns GROUP_COLUMNS; `status` keeps groups with unresolved events ('unresolved'), without
    ('resolved') or all. attrs['truncated'] is True when the window had too many distinct messages.
    """
    view = error_view(
        session,
        since=since,
        until=until,
        bucket_s=_whole(since, until),
        services=services,
        severities=severities,
        types=types,
        text=text,
    )
    out = by_status(view.groups, status)
    out.attrs["truncated"] = view.truncated
    return out


def facet_counts(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    services: Sequence[str] = (),
    severities: Sequence[str] = (),
    types: Sequence[str] = (),
    text: str = "",
) -> pd.DataFrame:
    """Occurrences in the window per severity, service and type (each facet ignores its own filter).

    Columns: facet ('severity'|'service'|'type'), value, count.
    """
    return error_view(
        session,
        since=since,
        until=until,
        bucket_s=_whole(since, until),
        services=services,
        severities=severities,
        types=types,
        text=text,
    ).facets


def group_buckets(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    bucket_s: int,
    services: Sequence[str] = (),
    severities: Sequence[str] = (),
    types: Sequence[str] = (),
    text: str = "",
) -> pd.DataFrame:
    """Events per fingerprint per time bucket (for sparklines). Columns: fingerprint, bucket (utc), count."""
    return error_view(
        session,
        since=since,
        until=until,
        bucket_s=bucket_s,
        services=services,
        severities=severities,
        types=types,
        text=text,
    ).sparks


def error_timeline(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    bucket_s: int,
    services: Sequence[str] = (),
    severities: Sequence[str] = (),
    types: Sequence[str] = (),
    text: str = "",
) -> pd.DataFrame:
    """Events per time bucket and severity (the newest MAX_WINDOW_EVENTS at most). Columns: bucket (utc),
    severity, count."""
    lo, hi = naive_utc(since), naive_utc(until)
    capped = _cutoff(session, lo, hi, MAX_WINDOW_EVENTS)
    b, sev = epoch_bucket(E.created_at, bucket_s), _sev()
    where = [
        E.created_at > capped if capped is not None else E.created_at >= lo,
        E.created_at < hi,
        *filters(services=services, severities=severities, types=types, text=text),
    ]
    stmt = (
        select(b.label("bucket"), sev.label("severity"), func.count().label("count"))
        .where(*where)
        .group_by(b, sev)
    )
    rows = sorted(session.execute(stmt).all(), key=lambda r: (int(r[0]), r[1] or ""))
    return frame(
        [{"bucket": int(r[0]), "severity": r[1], "count": int(r[2])} for r in rows],
        TIMELINE_COLUMNS,
    )


def _whole(since: datetime, until: datetime) -> int:
    return max(int((until - since).total_seconds()) + 1, 1)


def _group_where(
    error_type: str, service: str | None, messages: Sequence[str], severities: Sequence[str] = ()
) -> list[ColumnElement[bool]]:
    svc = E.service.is_(None) if service is None else exact_eq(E.service, service)
    where = [exact_eq(E.error_type, error_type), svc, exact_in(E.message, list(messages))]
    return where + ([_severity_filter(severities)] if severities else [])


def _status_where(status: str) -> list[ColumnElement[bool]]:
    if status == "unresolved":
        return [E.resolved_at.is_(None)]
    if status == "resolved":
        return [E.resolved_at.is_not(None)]
    return []


def _in_window(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    """[since, until); None on a side leaves that side open (the group's whole history)."""
    return ([E.created_at >= naive_utc(since)] if since is not None else []) + (
        [E.created_at < naive_utc(until)] if until is not None else []
    )


# A table cell carries at most this many characters of a message or note; the database cuts them
# (substr), so a message of megabytes never leaves it for a table. The detail reads the whole.
CELL_CHARS = 500
ELLIPSIS = "…"


def _cell(col: Any, name: str) -> Any:
    # One character more than shown: a value that fills it was longer and gets the ellipsis.
    return func.substr(col, 1, CELL_CHARS + 1).label(name)


def cut_cell(value: Any) -> Any:
    """Text cut to CELL_CHARS with an ellipsis when longer (other values as they are)."""
    return (
        value[:CELL_CHARS] + ELLIPSIS
        if isinstance(value, str) and len(value) > CELL_CHARS
        else value
    )


def occurrences(
    session: Session,
    *,
    error_type: str,
    service: str | None,
    messages: Sequence[str],
    since: datetime,
    until: datetime,
    status: str = "all",
    before: tuple[datetime, str] | None = None,
    limit: int = PAGE_SIZE,
    severities: Sequence[str] = (),
) -> pd.DataFrame:
    """One page of a group's events, newest first (keyset on created_at, id). Columns OCCURRENCE_COLUMNS,
    message and resolution_notes cut to CELL_CHARS (with an ellipsis when longer).

    `before` = (created_at, id) of the last row of the previous page. attrs['total'] is the capped count.
    """
    where = [
        *_in_window(since, until),
        *_group_where(error_type, service, messages, severities),
        *_status_where(status),
    ]
    base = select(E.id).where(*where)
    page_where = list(where)
    if before is not None:
        ts, last_id = naive_utc(before[0]), before[1]
        page_where.append(or_(E.created_at < ts, and_(E.created_at == ts, E.id < last_id)))
    stmt = (
        select(
            E.id,
            E.created_at,
            E.error_type,
            E.service,
            E.severity,
            _cell(E.message, "message"),
            E.resolved_at,
            _cell(E.resolution_notes, "resolution_notes"),
        )
        .where(*page_where)
        .order_by(E.created_at.desc(), E.id.desc())
        .limit(limit)
    )
    rows = [
        {
            **r._mapping,
            "message": cut_cell(r.message),
            "resolution_notes": cut_cell(r.resolution_notes),
        }
        for r in session.execute(stmt)
    ]
    df = frame(rows, OCCURRENCE_COLUMNS)
    df.attrs["total"] = capped_count(session, base)
    return df


def occurrence_ids(
    session: Session,
    *,
    error_type: str,
    service: str | None,
    messages: Sequence[str],
    status: str = "unresolved",
    since: datetime | None = None,
    until: datetime | None = None,
    severities: Sequence[str] = (),
    limit: int = MAX_IDS,
) -> tuple[str, ...]:
    """Ids of a group's events in [since, until) (None: of any time) in one status, oldest first, at most
    `limit`: the exact rows a bulk action confirms and then writes."""
    stmt = (
        select(E.id)
        .where(
            *_in_window(since, until),
            *_group_where(error_type, service, messages, severities),
            *_status_where(status),
        )
        .order_by(E.created_at, E.id)
        .limit(limit)
    )
    return tuple(session.scalars(stmt).all())


@dataclass(frozen=True)
class GroupCounts:
    """A group's events by status, in the window (as its occurrences are shown) and in its whole history."""

    window_unresolved: int = 0
    window_resolved: int = 0
    history_unresolved: int = 0
    history_resolved: int = 0


def group_counts(
    session: Session,
    *,
    error_type: str,
    service: str | None,
    messages: Sequence[str],
    since: datetime,
    until: datetime,
    severities: Sequence[str] = (),
) -> GroupCounts:
    """How many of a group's events are unresolved / resolved in [since, until) and of any time (the
    counts the bulk actions state before they write)."""
    in_window = and_(*_in_window(since, until))
    open_, done = E.resolved_at.is_(None), E.resolved_at.is_not(None)

    def n(*cond: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((and_(*cond), 1), else_=0)), 0)

    stmt = select(n(in_window, open_), n(in_window, done), n(open_), n(done)).where(
        *_group_where(error_type, service, messages, severities)
    )
    row = session.execute(stmt).one()
    return GroupCounts(*(int(v or 0) for v in row))


def occurrence_export(
    session: Session,
    *,
    error_type: str,
    service: str | None,
    messages: Sequence[str],
    since: datetime,
    until: datetime,
    status: str = "all",
    limit: int = 100_000,
    severities: Sequence[str] = (),
) -> pd.DataFrame:
    """All of a group's events in the window (the export), newest first, with details."""
    stmt = (
        select(
            E.id,
            E.created_at,
            E.error_type,
            E.service,
            E.severity,
            E.message,
            E.details,
            E.resolved_at,
            E.resolution_notes,
        )
        .where(
            *_in_window(since, until),
            *_group_where(error_type, service, messages, severities),
            *_status_where(status),
        )
        .order_by(E.created_at.desc(), E.id.desc())
        .limit(limit)
    )
    return frame(session.execute(stmt).all(), {**OCCURRENCE_COLUMNS, "details": "object"})


def occurrence(session: Session, *, error_id: str) -> pd.DataFrame:
    """One event with its details (0 or 1 row). Columns OCCURRENCE_COLUMNS + details, user_id."""
    stmt = select(
        E.id,
        E.created_at,
        E.error_type,
        E.service,
        E.severity,
        E.message,
        E.resolved_at,
        E.resolution_notes,
        E.details,
        E.user_id,
    ).where(E.id == error_id)
    return frame(
        session.execute(stmt).all(), {**OCCURRENCE_COLUMNS, "details": "object", "user_id": "str"}
    )


HISTORY_COLUMNS = {"at": "utc", "action": "str", "actor": "str", "note": "str"}


def resolution_history(session: Session, *, error_id: str) -> pd.DataFrame:
    """Every resolve and unresolve of one event, newest first. Columns HISTORY_COLUMNS.

    attrs['missing_table'] is True when the console's history table does not exist yet (not migrated).
    """
    if not has_table(session, ErrorResolution.__tablename__):
        df = frame([], HISTORY_COLUMNS)
        df.attrs["missing_table"] = True
        return df
    H = ErrorResolution  # noqa: N806
    stmt = (
        select(H.at, H.action, H.actor, H.note)
        .where(H.error_id == error_id)
        .order_by(H.at.desc(), H.id.desc())
        .limit(MAX_HISTORY_ROWS)
    )
    df = frame(session.execute(stmt).all(), HISTORY_COLUMNS)
    df.attrs["missing_table"] = False
    return df


def future_count(session: Session, *, after: datetime) -> int:
    """Events dated at or after `after` (the window's end: "in the future"), capped at COUNT_CAP."""
    return capped_count(session, select(E.id).where(E.created_at >= naive_utc(after)), COUNT_CAP)


def groups_during(
    session: Session, *, service: str | None, start: datetime, end: datetime
) -> pd.DataFrame:
    """The error groups of one service logged in [start, end) (an incident). Columns GROUP_COLUMNS."""
    svc: list[ColumnElement[bool]] = (
        [E.service.is_(None)] if service is None else [exact_eq(E.service, service)]
    )
    rows = session.execute(_triples_stmt(start, end, svc)).all()
    return merge_groups(frame(rows, TRIPLE_COLUMNS), since=start, until=end)


def distinct_count(session: Session, *, since: datetime, until: datetime) -> int:
    """Events in the window (capped at COUNT_CAP)."""
    return capped_count(
        session,
        select(E.id).where(E.created_at >= naive_utc(since), E.created_at < naive_utc(until)),
        COUNT_CAP,
    )


__all__ = [
    "NO_SERVICE",
    "STATUSES",
    "ErrorView",
    "GroupCounts",
    "by_status",
    "error_groups",
    "error_timeline",
    "cut_cell",
    "error_view",
    "facet_counts",
    "future_count",
    "group_buckets",
    "group_counts",
    "groups_during",
    "merge_groups",
    "normalise_message",
    "occurrence",
    "occurrence_export",
    "occurrence_ids",
    "occurrences",
    "resolution_history",
    "severity_key",
]
