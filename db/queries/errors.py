"""Questions about critical_error_logs: groups (fingerprints), facets, timelines, occurrences.

Grouping scales with the number of distinct messages, not rows: SQL groups by the exact
(error_type, service, message), then `domain.fingerprint` merges the groups whose normalised
messages are equal (a window holds far fewer distinct messages than rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from db.models import CriticalErrorLog as E
from db.own_models import ErrorResolution
from db.queries.common import COUNT_CAP, PAGE_SIZE, capped_count, frame, has_table
from db.sqlfuncs import epoch_bucket, exact, exact_eq, exact_in
from db.types import naive_utc
from domain.fingerprint import fingerprint

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
# Health's incident groups (`groups_during`) are the same roll-up of one service's reads, uncapped.

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


class WindowRow(NamedTuple):
    """The window's events of one (type, service, message, bucket, severity, resolved or not)."""

    error_type: str
    service: str | None
    message: str
    bucket: int  # epoch seconds of the bucket's start
    severity: str | None
    unresolved: int  # 1: these events are unresolved; 0: resolved
    events: int
    first_at: Any  # database times: naive, aware or ISO text by driver (read through `_ts`)
    last_at: Any
    last_resolved_at: Any


class BaselineRow(NamedTuple):
    """The baseline periods' events of one (type, service, message, severity), before the window."""

    error_type: str
    service: str | None
    message: str
    severity: str | None
    prior_count: int | None  # of the period just before the window, as long as it
    baseline_count: int | None
    first_at: Any
    last_resolved_at: Any
    last_unresolved_at: Any


class LifeRow(NamedTuple):
    """One message's life in the older history: first seen, last resolution, last unresolved event."""

    error_type: str
    service: str | None
    message: str
    first_at: Any
    last_resolved_at: Any
    last_unresolved_at: Any


def _window_rows(
    session: Session,
    *,
    lo: datetime,
    hi: datetime,
    bucket_s: int,
    above: datetime | None,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[WindowRow]:
    """Events in [lo, hi) (newer than `above` when capped), per (type, service, message, bucket,
    severity, resolved or not); `where` narrows them in SQL."""
    t, sv, m = exact(E.error_type), exact(E.service), exact(E.message)
    b, sev = epoch_bucket(E.created_at, bucket_s), _sev()
    open_ = case((E.resolved_at.is_(None), 1), else_=0)
    # One lower bound, so the index range starts at the cutoff (a second bound is only a filter).
    lower = E.created_at > above if above is not None else E.created_at >= lo
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
        .where(lower, E.created_at < hi, *where)
        .group_by(t, sv, m, b, sev, open_)
    )
    return [WindowRow._make(r) for r in session.execute(stmt)]


def _history_rows(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    above: datetime | None,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[BaselineRow]:
    """The baseline periods before the window (BASELINE_PERIODS of them) per (type, service,
    message, severity); `where` narrows them in SQL."""
    s = naive_utc(since)
    prior, base, _ = (naive_utc(x) for x in _window(since, until))
    t, sv, m, sev = exact(E.error_type), exact(E.service), exact(E.message), _sev()
    lower = E.created_at > above if above is not None and above >= base else E.created_at >= base
    stmt = (
        select(
            t,
            sv,
            m,
            sev,
            func.sum(case((E.created_at >= prior, 1), else_=0)),
            func.count(),
            func.min(E.created_at),
            func.max(E.resolved_at),
            func.max(case((E.resolved_at.is_(None), E.created_at))),
        )
        .where(lower, E.created_at < s, *where)
        .group_by(t, sv, m, sev)
    )
    return [BaselineRow._make(r) for r in session.execute(stmt)]


def _older_rows(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    above: datetime | None,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[LifeRow]:
    """Before the baseline, back to the history start: each message's life (for the New and
    Regressed badges); `where` narrows them in SQL.

    Grouped by the message alone (SQLite sorts every row of a GROUP BY, and a shorter key costs
    less), with the type and service checked to be one per message; the few messages logged under
    several types or services are grouped again by their whole key.
    """
    _, base, history = (naive_utc(x) for x in _window(since, until))
    t, sv, m = exact(E.error_type), exact(E.service), exact(E.message)
    lower = (
        E.created_at > above if above is not None and above >= history else E.created_at >= history
    )
    bounds = [lower, E.created_at < base, *where]
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
        .where(*bounds)
        .group_by(m)
    ).all()
    out: list[LifeRow] = []
    mixed: list[str] = []
    for msg, t_lo, t_hi, s_lo, s_hi, with_service, total, first, last_res, last_open in rows:
        if t_lo != t_hi or s_lo != s_hi or 0 < int(with_service) < int(total):
            mixed.append(msg)
        else:
            out.append(LifeRow(t_lo, s_lo, msg, first, last_res, last_open))
    for chunk in (mixed[i : i + 500] for i in range(0, len(mixed), 500)):
        stmt = select(t, sv, m, *life).where(*bounds, exact_in(E.message, chunk)).group_by(t, sv, m)
        out += [LifeRow._make(r) for r in session.execute(stmt)]
    return out


# --- the roll-up: aggregate rows -> facets, timeline, totals per message -> fingerprint groups --


@dataclass(slots=True)
class _Life:
    """A message's (or group's) life: first seen, last resolution, last unresolved event."""

    first_seen: datetime | None = None
    last_resolved_at: datetime | None = None
    last_unresolved_at: datetime | None = None

    def fold(
        self, first: datetime | None, resolved: datetime | None, unresolved: datetime | None
    ) -> None:
        self.first_seen = _min(self.first_seen, first)
        self.last_resolved_at = _max(self.last_resolved_at, resolved)
        self.last_unresolved_at = _max(self.last_unresolved_at, unresolved)


@dataclass(slots=True)
class _Totals:
    """Running totals of one exact (type, service, message) over the window and its baseline."""

    count: int = 0
    unresolved: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    prior_count: int = 0
    baseline_count: int = 0
    last_seen: datetime | None = None
    life: _Life = field(default_factory=_Life)
    buckets: dict[int, int] = field(default_factory=dict)

    def add(self, row: WindowRow, bucket: int, n: int, last: datetime | None) -> None:
        """One window row (already filtered) into the totals."""
        self.buckets[bucket] = self.buckets.get(bucket, 0) + n
        self.count += n
        sev = row.severity or ""
        if sev in SEVERITIES:
            setattr(self, sev.lower(), getattr(self, sev.lower()) + n)
        self.last_seen = _max(self.last_seen, last)
        if row.unresolved:
            self.unresolved += n


@dataclass
class _RollUp:
    """What the aggregate rows give once the filters are applied."""

    totals: dict[_Key, _Totals] = field(default_factory=dict)
    facets: dict[str, dict[str, int]] = field(
        default_factory=lambda: {"severity": {}, "service": {}, "type": {}}
    )
    timeline: dict[tuple[int, str], int] = field(default_factory=dict)
    truncated: bool = False


@dataclass(frozen=True)
class _KeyOk:
    """Which filters one message's key passes: all, and all but each facet's own (for its counts)."""

    all: bool
    but_severity: bool
    but_service: bool
    but_type: bool


def _key_ok(flt: _Filter, key: _Key) -> _KeyOk:
    return _KeyOk(
        flt.key_ok(key),
        flt.key_ok(key, "severity"),
        flt.key_ok(key, "service"),
        flt.key_ok(key, "type"),
    )


def _count(counts: dict[Any, int], value: Any, n: int) -> None:
    counts[value] = counts.get(value, 0) + n


def _roll_up(
    window: list[WindowRow], recent: list[BaselineRow], older: list[LifeRow], flt: _Filter
) -> _RollUp:
    """Facet counts, timeline counts and the totals of each message passing the filters.

    Counts follow every filter; a message's life (first seen, last resolution, last unresolved
    event: the New and Regressed badges) is its own, whatever the severity filter.
    """
    out = _RollUp()
    oks: dict[_Key, _KeyOk] = {}
    life: dict[_Key, _Life] = {}
    for row in window:
        key = (row.error_type, row.service, row.message)
        ok = oks.get(key) or oks.setdefault(key, _key_ok(flt, key))
        sev, n = row.severity or "", int(row.events)
        sev_ok = flt.severity_ok(sev)
        if ok.but_severity:
            _count(out.facets["severity"], sev, n)
        if ok.but_service and sev_ok:
            _count(out.facets["service"], NO_SERVICE if row.service is None else row.service, n)
        if ok.but_type and sev_ok:
            _count(out.facets["type"], row.error_type, n)
        if not ok.all:
            continue
        last = _ts(row.last_at)
        life.setdefault(key, _Life()).fold(
            _ts(row.first_at), _ts(row.last_resolved_at), last if row.unresolved else None
        )
        if not sev_ok:
            continue
        bucket = int(row.bucket)
        _count(out.timeline, (bucket, sev), n)
        totals = out.totals.get(key)
        if totals is None:
            if len(out.totals) >= MAX_DISTINCT:
                out.truncated = True
                continue
            totals = out.totals[key] = _Totals()
        totals.add(row, bucket, n, last)
    for b in recent:
        key = (b.error_type, b.service, b.message)
        if key in out.totals:
            life[key].fold(_ts(b.first_at), _ts(b.last_resolved_at), _ts(b.last_unresolved_at))
            if flt.severity_ok(b.severity):
                out.totals[key].prior_count += int(b.prior_count or 0)
                out.totals[key].baseline_count += int(b.baseline_count or 0)
    for o in older:
        key = (o.error_type, o.service, o.message)
        if key in out.totals:
            life[key].fold(_ts(o.first_at), _ts(o.last_resolved_at), _ts(o.last_unresolved_at))
    for key, totals in out.totals.items():
        totals.life = life[key]
    return out


class Group(NamedTuple):
    """One fingerprint group as the page shows it (a row of GROUP_COLUMNS)."""

    fingerprint: str
    error_type: str
    service: str | None
    message: str  # the most frequent of its messages
    count: int  # type: ignore[assignment]  # the column's name; shadows tuple.count, unused here
    prior_count: int
    change: int
    unresolved: int
    first_seen: datetime | None
    last_seen: datetime | None
    last_resolved_at: datetime | None
    high: int
    medium: int
    low: int
    other_severity: int
    new: bool
    regressed: bool
    escalating: bool
    baseline_expected: float
    messages: tuple[str, ...]
    distinct_messages: int


@dataclass(frozen=True)
class _Badges:
    new: bool
    regressed: bool
    escalating: bool
    baseline_expected: float


def _badges(
    count: int, baseline_count: int, life: _Life, *, since: datetime, until: datetime
) -> _Badges:
    """The badge rule: New (first seen within NEW_WITHIN of the window's end), Regressed (an
    unresolved event after the last resolution), Escalating (at least ESCALATING_MIN_EVENTS events
    and more than ESCALATING_FACTOR times the baseline periods' mean)."""
    _, base_start, _ = _window(since, until)
    periods = max((since - base_start) / (until - since), 1e-9)
    expected = baseline_count / periods
    first, resolved, unresolved = life.first_seen, life.last_resolved_at, life.last_unresolved_at
    return _Badges(
        new=first is not None and first >= naive_utc(until) - NEW_WITHIN,
        regressed=bool(unresolved and resolved and unresolved > resolved),
        escalating=count >= ESCALATING_MIN_EVENTS
        and baseline_count > 0
        and count > ESCALATING_FACTOR * expected,
        baseline_expected=expected,
    )


def _group(
    fp: str, members: list[tuple[_Key, _Totals]], *, since: datetime, until: datetime
) -> Group:
    """The group of one fingerprint from its messages' totals (the most frequent message first)."""
    (error_type, service, message), _ = members[0]
    totals = [t for _, t in members]
    life = _Life()
    for t in totals:
        life.fold(t.life.first_seen, t.life.last_resolved_at, t.life.last_unresolved_at)
    count, prior = sum(t.count for t in totals), sum(t.prior_count for t in totals)
    high, medium, low = (sum(getattr(t, s) for t in totals) for s in ("high", "medium", "low"))
    badges = _badges(count, sum(t.baseline_count for t in totals), life, since=since, until=until)
    return Group(
        fingerprint=fp,
        error_type=error_type,
        service=service,
        message=message,
        count=count,
        prior_count=prior,
        change=count - prior,
        unresolved=sum(t.unresolved for t in totals),
        first_seen=life.first_seen,
        last_seen=max((t.last_seen for t in totals if t.last_seen), default=None),
        last_resolved_at=life.last_resolved_at,
        high=high,
        medium=medium,
        low=low,
        other_severity=count - high - medium - low,
        new=badges.new,
        regressed=badges.regressed,
        escalating=badges.escalating,
        baseline_expected=badges.baseline_expected,
        messages=tuple(k[2] for k, _ in members),
        distinct_messages=len(members),
    )


def _groups(
    totals: dict[_Key, _Totals], *, since: datetime, until: datetime
) -> tuple[list[Group], dict[str, dict[int, int]]]:
    """Fingerprint groups (newest first) and their events per bucket, from each message's totals."""
    by_fp: dict[str, list[tuple[_Key, _Totals]]] = {}
    for key, t in totals.items():
        by_fp.setdefault(fingerprint(*key), []).append((key, t))
    groups: list[Group] = []
    sparks: dict[str, dict[int, int]] = {}
    for fp, members in by_fp.items():
        members.sort(key=lambda kt: (-kt[1].count, kt[0][2]))
        groups.append(_group(fp, members, since=since, until=until))
        spark = sparks[fp] = {}
        for _, t in members:
            for b, n in t.buckets.items():
                _count(spark, b, n)
    groups.sort(key=lambda g: (g.last_seen or datetime.min, g.count), reverse=True)
    return groups, sparks


def _view(
    window: list[WindowRow],
    recent: list[BaselineRow],
    older: list[LifeRow],
    flt: _Filter,
    *,
    since: datetime,
    until: datetime,
) -> ErrorView:
    """The groups, facets, timeline and sparklines from the aggregate rows of one window."""
    rolled = _roll_up(window, recent, older, flt)
    groups, sparks = _groups(rolled.totals, since=since, until=until)
    facets = [
        {"facet": name, "value": value, "count": n}
        for name, counts in rolled.facets.items()
        for value, n in sorted(counts.items(), key=lambda vc: -vc[1])[:FACET_VALUES_MAX]
    ]
    timeline = [
        {"bucket": b, "severity": sev, "count": n}
        for (b, sev), n in sorted(rolled.timeline.items())
    ]
    cells = [
        {"fingerprint": fp, "bucket": b, "count": n}
        for fp, by_bucket in sparks.items()
        for b, n in sorted(by_bucket.items())
    ]
    return ErrorView(
        groups=frame(groups, GROUP_COLUMNS),
        facets=frame(facets, FACET_COLUMNS),
        timeline=frame(timeline, TIMELINE_COLUMNS),
        sparks=frame(cells, SPARK_COLUMNS),
        events=sum(int(r.events) for r in window),
        truncated=rolled.truncated,
    )


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
    hist_capped = _cutoff(session, history_lo, lo, MAX_HISTORY_EVENTS)
    flt = _filter(services, severities, types, text)
    recent = _history_rows(session, since=since, until=until, above=hist_capped)
    older = _older_rows(session, since=since, until=until, above=hist_capped)
    view = _view(window, recent, older, flt, since=since, until=until)
    view.capped_from, view.history_from = capped, hist_capped
    return view


def by_status(groups: pd.DataFrame, status: str) -> pd.DataFrame:
    """The groups of one tab: with unresolved events ('unresolved'), without ('resolved'), or all."""
    if status == "unresolved":
        groups = groups[groups["unresolved"] > 0]
    elif status == "resolved":
        groups = groups[groups["unresolved"] == 0]
    return groups.reset_index(drop=True)


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
    """The error groups of one service logged in [start, end) (an incident), counted whole (no
    event caps). Columns GROUP_COLUMNS."""
    svc = [E.service.is_(None)] if service is None else [exact_eq(E.service, service)]
    lo, hi = naive_utc(start), naive_utc(end)
    whole = _whole(start, end)
    window = _window_rows(session, lo=lo, hi=hi, bucket_s=whole, above=None, where=svc)
    recent = _history_rows(session, since=start, until=end, above=None, where=svc)
    older = _older_rows(session, since=start, until=end, above=None, where=svc)
    return _view(window, recent, older, _Filter(), since=start, until=end).groups


__all__ = [
    "NO_SERVICE",
    "ErrorView",
    "GroupCounts",
    "by_status",
    "error_timeline",
    "cut_cell",
    "error_view",
    "future_count",
    "group_counts",
    "groups_during",
    "occurrence",
    "occurrence_export",
    "occurrence_ids",
    "occurrences",
    "resolution_history",
    "severity_key",
]
