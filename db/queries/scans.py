"""Questions about scan runs (`scan_sessions`): the run list, derived STALLED state, per-strategy
statistics, the strategies x time grid, one scan's detail, its opportunities and errors.

STALLED: a RUNNING scan that has been running longer than the larger of STALL_FLOOR_S and twice
its strategy's p95 duration (nearest rank, over its newest STALL_SAMPLE completed scans of the
last STALL_LOOKBACK_S). Only strategies with a RUNNING scan older than the floor can have a
stalled scan, so `stall_thresholds` probes just those (one index walk each) and the run-list
queries take its small result as an argument (`thresholds`) instead of recomputing it.

RUNNING and STALLED scans are the present, not the past: the run list, its counts and the
per-strategy figures show them whatever the window (`_parts`: the window and the unfinished scans
outside it, each one index range). Every filter is a plain predicate on the stored columns (status,
strategy, started_at), so the engines answer from the indexes in `db/schema/indexes.py`; counts and
per-strategy aggregates read at most a capped number of the newest runs of the range and say when
they hit the cap.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, Float, String

from db.models import CriticalErrorLog as E  # noqa: N817
from db.models import OpportunitySnapshot as O  # noqa: N817
from db.models import ScanSession as S  # noqa: N817
from db.queries import common
from db.queries.common import COUNT_CAP, PAGE_SIZE, capped_count, frame, read_time_cursor
from db.sqlfuncs import epoch_bucket, exact, exact_eq, exact_in, json_text
from db.types import UtcDateTime, naive_utc
from domain.jsondiff import flatten

STALL_FLOOR_S = 600  # a scan may always run this long before it counts as stalled
STALL_FACTOR = 2.0
STALL_LOOKBACK_S = 7 * 86400
STALL_SAMPLE = 500  # newest completed scans per strategy behind its p95
STALL_MAX_STRATEGIES = 500  # strategies probed for a threshold (others get the floor)
STATES = ("RUNNING", "STALLED", "COMPLETED", "FAILED", "CANCELLED")
UNFINISHED = ("RUNNING", "STALLED")  # the present: listed whatever the window
# Services whose critical errors belong to any scan (the backend's scanning code paths).
SCANNER_SERVICES = ("opportunity_cache", "strategy_specific_scanner")
GRID_MAX_BUCKETS = 60
BUCKET_CHOICES_S = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
DETAIL_LIMIT = 200
# Per-strategy statistics and the timeline read at most this many of the range's newest runs.
AGG_CAP = 25_000

Thresholds = tuple[tuple[str, float], ...]


class duration_s(FunctionElement[float]):  # noqa: N801 - SQL function naming
    """`duration_s(start, end)`: seconds from start to end with sub-second precision."""

    type = Float()
    inherit_cache = True


@compiles(duration_s, "sqlite")
def _dur_sqlite(element: duration_s, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({b}) - julianday({a})) * 86400.0)"


@compiles(duration_s, "postgresql")
def _dur_pg(element: duration_s, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({b} - {a})) AS DOUBLE PRECISION)"


@compiles(duration_s, "mysql")
def _dur_mysql(element: duration_s, compiler: SQLCompiler, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(TIMESTAMPDIFF(MICROSECOND, {a}, {b}) / 1000000.0)"


class _rare(FunctionElement[bool]):  # noqa: N801 - SQL function naming
    """A condition few rows meet (a RUNNING status). SQLite's planner knows only average rows per
    status (no histograms), so it is told, and walks the status index instead of the whole window."""

    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a condition already: no "= 1" around it on SQLite


@compiles(_rare)
def _rare_default(element: _rare, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(_rare, "sqlite")
def _rare_sqlite(element: _rare, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.clauses, **kw)}, 0.001)"


def _at(value: datetime) -> ColumnElement[Any]:
    return literal(naive_utc(value), UtcDateTime())


# ---- derived state -------------------------------------------------------------------------


def _nearest_rank(values: list[float], p: int) -> float | None:
    """The p-th percentile by nearest rank (the value at rank ceil(p/100 x n))."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p * len(ordered) / 100), 1) - 1]


def threshold_for(p95: float | None) -> float:
    """max(STALL_FLOOR_S, STALL_FACTOR x p95), the floor alone when p95 is unknown."""
    if p95 is None or p95 * STALL_FACTOR <= STALL_FLOOR_S:
        return float(STALL_FLOOR_S)
    return p95 * STALL_FACTOR


def stall_thresholds(session: Session, *, now: datetime) -> Thresholds:
    """(strategy, threshold_s) for each strategy that has a RUNNING scan older than the floor and
    a threshold above it; every other strategy's threshold is the floor."""
    cutoff = naive_utc(now) - timedelta(seconds=STALL_FLOOR_S)
    key = exact(S.strategy)
    candidates = (
        session.execute(
            select(key)
            .where(_rare(S.status == "RUNNING"), S.completed_at.is_(None), S.started_at < cutoff)
            .group_by(key)
            .limit(STALL_MAX_STRATEGIES)
        )
        .scalars()
        .all()
    )
    durations: dict[str, list[float]] = {str(s): [] for s in candidates}
    names = list(durations)
    for i in range(0, len(names), 50):  # one statement per 50 strategies
        parts = [_newest_durations(name, now) for name in names[i : i + 50]]
        for strategy, d in session.execute(union_all(*parts)).all():
            if d is not None:
                durations[str(strategy)].append(float(d))
    out = ((s, threshold_for(_nearest_rank(d, 95))) for s, d in durations.items())
    return tuple(sorted((s, t) for s, t in out if t > STALL_FLOOR_S))


def _newest_durations(strategy: str, now: datetime) -> Select[Any]:
    """Durations of one strategy's newest STALL_SAMPLE completed scans in the lookback."""
    newest = (
        select(duration_s(S.started_at, S.completed_at).label("d"))
        .where(
            exact_eq(S.strategy, strategy),
            S.status == "COMPLETED",
            S.completed_at.is_not(None),
            S.completed_at >= S.started_at,
            S.started_at >= naive_utc(now) - timedelta(seconds=STALL_LOOKBACK_S),
            S.started_at <= naive_utc(now),
        )
        .order_by(S.started_at.desc())
        .limit(STALL_SAMPLE)
        .subquery()
    )
    return select(literal(strategy, String()).label("strategy"), newest.c.d)


class _Derived:
    """The derived columns of a scan row, for one `now` and one set of thresholds."""

    def __init__(self, now: datetime, thresholds: Thresholds) -> None:
        self.threshold: ColumnElement[Any] = (
            case(
                *[(exact_eq(S.strategy, s), literal(float(t))) for s, t in thresholds],
                else_=float(STALL_FLOOR_S),
            )
            if thresholds
            else literal(float(STALL_FLOOR_S))
        )
        self.now = naive_utc(now)
        self.elapsed = duration_s(S.started_at, _at(now))
        self.stalled = self._stalled(hint=True)
        self.state = case((self.stalled, literal("STALLED")), else_=S.status)
        self.inconsistency = case(
            (S.completed_at < S.started_at, literal("completed before started")),
            (S.started_at > naive_utc(now), literal("started in the future")),
            (
                and_(S.status == "RUNNING", S.completed_at.is_not(None)),
                literal("running but has a completion time"),
            ),
            (
                and_(S.status == "COMPLETED", S.completed_at.is_(None)),
                literal("completed without a completion time"),
            ),
            else_=None,
        )

    def columns(self) -> list[Any]:
        """The run-list columns (RUN_COLUMNS, with symbols_scanned for the symbol count)."""
        return [
            S.id,
            S.strategy,
            S.status,
            self.state.label("state"),
            S.started_at,
            S.completed_at,
            duration_s(S.started_at, S.completed_at).label("duration_s"),
            self.elapsed.label("elapsed_s"),
            self.threshold.label("threshold_s"),
            S.opportunities_found,
            S.symbols_scanned,
            self.inconsistency.label("inconsistency"),
        ]

    def _stalled(self, *, hint: bool) -> ColumnElement[bool]:
        running = S.status == "RUNNING"
        return and_(
            _rare(running) if hint else running,
            S.completed_at.is_(None),
            self.elapsed > self.threshold,
        )

    def is_state(self, state: str, *, hint: bool = True) -> ColumnElement[bool]:
        """state = `state` (byte-exact), as a predicate on the stored status the indexes can use.
        `hint`: RUNNING/STALLED are rare (see `_rare`); off when OR-ed with a common state, so
        that the planner walks the window in time order instead of sorting a common state's runs."""

        def rare(cond: ColumnElement[bool]) -> ColumnElement[bool]:
            return _rare(cond) if hint else cond

        stalled = self._stalled(hint=hint)
        if state == "STALLED":
            return and_(
                rare(S.status.in_(("RUNNING", "STALLED"))),
                or_(stalled, exact(S.status) == "STALLED"),
            )
        if state == "RUNNING":
            return and_(rare(S.status == "RUNNING"), exact(S.status) == "RUNNING", not_(stalled))
        return exact_eq(S.status, state)

    def in_states(self, states: tuple[str, ...]) -> ColumnElement[bool]:
        """state in `states` (byte-exact)."""
        unique = tuple(dict.fromkeys(states))
        hint = all(s in ("RUNNING", "STALLED") for s in unique)
        return or_(*[self.is_state(s, hint=hint or len(unique) == 1) for s in unique])


def _derived(session: Session, now: datetime, thresholds: Thresholds | None) -> _Derived:
    return _Derived(now, stall_thresholds(session, now=now) if thresholds is None else thresholds)


def _filters(
    d: _Derived,
    *,
    states: tuple[str, ...] = (),
    strategies: tuple[str, ...] = (),
    failed_only: bool = False,
    skip: str | None = None,
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if failed_only:
        conds.append(S.status == "FAILED")
    if states and skip != "state":
        conds.append(d.in_states(states))
    if strategies and skip != "strategy":
        conds.append(exact_in(S.strategy, list(strategies)))
    return conds


def _parts(
    d: _Derived,
    *,
    since: datetime,
    until: datetime,
    running_now: bool = False,
    unfinished: bool = True,
    **flt: Any,
) -> list[ColumnElement[bool]]:
    """The filtered run list as disjoint ranges of started_at, the newest range first: the window, and
    (`unfinished`) the RUNNING and STALLED scans started before it or after its end up to now: they are
    the present, listed whatever the window. Each range is one index range, read and counted apart, so
    that a quiet window is not a walk back through the whole history to its oldest stuck scan.
    `running_now`: only RUNNING and STALLED scans, however long ago they started."""
    s, u = naive_utc(since), naive_utc(until)
    conds = _filters(d, **flt)
    running = d.in_states(UNFINISHED)
    if running_now:
        return [and_(S.started_at <= (max(u, d.now) if unfinished else u), running, *conds)]
    window = and_(S.started_at >= s, S.started_at <= u, *conds)
    if not unfinished:
        return [window]
    newer = [and_(S.started_at > u, S.started_at <= d.now, running, *conds)] if d.now > u else []
    return [*newer, window, and_(S.started_at < s, running, *conds)]


RUN_COLUMNS = {
    "id": "str",
    "strategy": "str",
    "status": "str",
    "state": "str",
    "started_at": "utc",
    "completed_at": "utc",
    "duration_s": "float",
    "elapsed_s": "float",
    "threshold_s": "float",
    "opportunities_found": "Int64",
    "symbols": "Int64",
    "inconsistency": "str",
}


def _symbol_count(value: Any) -> int | None:
    return len(value) if isinstance(value, list) else None


def _run_frame(rows: Any) -> pd.DataFrame:
    records = []
    for r in rows:
        m = dict(r._mapping)
        m["symbols"] = _symbol_count(m.pop("symbols_scanned", None))
        records.append(m)
    return frame(records, RUN_COLUMNS)


def run_page(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    after: str | None = None,
    before: str | None = None,
    states: tuple[str, ...] = (),
    strategies: tuple[str, ...] = (),
    running_now: bool = False,
    failed_only: bool = False,
    unfinished: bool = True,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """One page of scans, newest first: PAGE_SIZE + 1 rows at most (keyset on started_at, id).
    `after`: the page after that cursor (the extra last row means a next page exists);
    `before`: the page before it (the extra first row means an earlier page exists).
    The list is the window's scans and, with `unfinished`, the RUNNING and STALLED ones started
    outside it (see `_parts`). Columns: RUN_COLUMNS."""
    d = _derived(session, now, thresholds)
    parts = _parts(
        d,
        since=since,
        until=until,
        states=states,
        strategies=strategies,
        running_now=running_now,
        failed_only=failed_only,
        unfinished=unfinished,
    )
    rows: list[Any] = []
    if before:
        started, row_id = parse_cursor(before)
        # The cursor is each range's lower bound (one bound per side, so the index range starts there).
        later = [
            S.started_at >= started,
            or_(S.started_at > started, and_(S.started_at == started, S.id > row_id)),
        ]
        for part in reversed(parts):  # the oldest range first, each read upwards from the cursor
            stmt = select(*d.columns()).where(part, *later).order_by(S.started_at, S.id)
            rows += session.execute(stmt.limit(PAGE_SIZE + 1 - len(rows))).all()
            if len(rows) > PAGE_SIZE:
                break
        return _run_frame(rows[::-1])
    cursor: list[ColumnElement[bool]] = []
    if after:
        started, row_id = parse_cursor(after)
        cursor = [
            S.started_at <= started,
            or_(S.started_at < started, and_(S.started_at == started, S.id < row_id)),
        ]
    for part in parts:
        stmt = select(*d.columns()).where(part, *cursor).order_by(S.started_at.desc(), S.id.desc())
        rows += session.execute(stmt.limit(PAGE_SIZE + 1 - len(rows))).all()
        if len(rows) > PAGE_SIZE:
            break
    return _run_frame(rows)


def export_runs(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    limit: int = 100_000,
    thresholds: Thresholds | None = None,
    **flt: Any,
) -> pd.DataFrame:
    """The whole filtered run list (up to `limit`), with parameters and symbols as JSON."""
    d = _derived(session, now, thresholds)
    rows: list[Any] = []
    for part in _parts(d, since=since, until=until, **flt):
        stmt = (
            select(*d.columns(), S.scan_parameters, S.error_message)
            .where(part)
            .order_by(S.started_at.desc(), S.id.desc())
            .limit(limit - len(rows))
        )
        rows += session.execute(stmt).all()
        if len(rows) >= limit:
            break
    df = _run_frame(rows)
    df["symbols_scanned"] = pd.Series([r._mapping["symbols_scanned"] for r in rows], dtype="object")
    df["scan_parameters"] = pd.Series([r._mapping["scan_parameters"] for r in rows], dtype="object")
    df["error_message"] = pd.Series([r._mapping["error_message"] for r in rows], dtype="object")
    return df


def parse_cursor(raw: str) -> tuple[datetime, str]:
    """A run-list cursor (`make_cursor`): (started_at naive UTC, id); ValueError when malformed."""
    return read_time_cursor(raw)


def make_cursor(started_at: Any, row_id: str) -> str:
    """The URL form of a run-list cursor."""
    return common.make_cursor(started_at, str(row_id))


def run_count(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    thresholds: Thresholds | None = None,
    **flt: Any,
) -> int:
    """Scans passing the filters (the list `run_page` pages through), counting at most COUNT_CAP."""
    d = _derived(session, now, thresholds)
    total = 0
    for part in _parts(d, since=since, until=until, **flt):
        total += capped_count(session, select(S.id).where(part), COUNT_CAP - total)
        if total >= COUNT_CAP:
            break
    return total


def facet_counts(
    session: Session,
    *,
    field: str,
    since: datetime,
    until: datetime,
    now: datetime,
    thresholds: Thresholds | None = None,
    cap: int | None = None,
    **flt: Any,
) -> pd.DataFrame:
    """Counts per state or per strategy under the other filters, over the newest `cap` + 1 matching
    runs (COUNT_CAP by default) of the list `run_page` pages through. Columns: value, count, at_least
    (the count is a lower bound: there were more matching runs than `cap`); `attrs["capped"]` is True
    when any count is one. RUNNING and STALLED are then counted on their own (a few rows on the status
    index), up to `cap`."""
    if field not in ("state", "strategy"):
        raise ValueError(f"unknown facet {field!r}")
    cap = COUNT_CAP if cap is None else cap
    d = _derived(session, now, thresholds)
    value = d.state if field == "state" else S.strategy
    parts = _parts(d, since=since, until=until, skip=field, **flt)
    counts: dict[str, int] = {}
    read = 0
    for part in parts:
        newest = (
            select(value.label("value"))
            .where(part)
            .order_by(S.started_at.desc())
            .limit(cap + 1 - read)
            .subquery()
        )
        col = exact(newest.c.value)
        for v, n in session.execute(select(col, func.count()).group_by(col)).all():
            read += int(n)
            if v is not None:
                counts[str(v)] = counts.get(str(v), 0) + int(n)
        if read > cap:
            break
    capped = read > cap
    exact_values: set[str] = set()
    if capped and field == "state":  # rare states: their own count, so that they do not read '0+'
        for state in UNFINISHED:
            n = 0
            for part in parts:
                n += capped_count(session, select(S.id).where(part, d.is_state(state)), cap - n)
                if n >= cap:
                    break
            counts[state] = n
            exact_values.add(state)
    rows = [
        {"value": v, "count": n, "at_least": capped and (v not in exact_values or n >= cap)}
        for v, n in counts.items()
        if n or v in exact_values
    ]
    df = frame(rows, {"value": "str", "count": "Int64", "at_least": "bool"})
    df = (
        df.sort_values(["count", "value"], ascending=[False, True], kind="stable")
        .head(200)
        .reset_index(drop=True)
    )
    df.attrs["capped"] = capped
    return df


OUTSIDE_COLUMNS = {
    "running": "Int64",
    "stalled": "Int64",
    "oldest_elapsed_s": "float",
    "future": "Int64",
}


def outside_window(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """What the window's run list holds from outside it, or leaves out: the RUNNING and STALLED
    scans started before the window or after its end (up to now), how long the oldest has been
    running, and the scans dated after now (capped at COUNT_CAP). One row: OUTSIDE_COLUMNS."""
    d = _derived(session, now, thresholds)
    s, u = naive_utc(since), naive_utc(until)
    outside = and_(
        d.in_states(UNFINISHED),
        or_(S.started_at < s, and_(S.started_at > u, S.started_at <= d.now)),
    )
    rows = session.execute(
        select(d.state.label("state"), func.count().label("n"), func.max(d.elapsed).label("age"))
        .where(outside)
        .group_by(d.state)
    ).all()
    by_state = {r.state: r.n for r in rows}
    elapsed = max((float(r.age) for r in rows if r.age is not None), default=None)
    future = capped_count(session, select(S.id).where(S.started_at > d.now), COUNT_CAP)
    return frame(
        [
            {
                "running": by_state.get("RUNNING", 0),
                "stalled": by_state.get("STALLED", 0),
                "oldest_elapsed_s": elapsed,
                "future": future,
            }
        ],
        OUTSIDE_COLUMNS,
    )


def run_list(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    thresholds: Thresholds | None = None,
    after: str | None = None,
    before: str | None = None,
    **flt: Any,
) -> pd.DataFrame:
    """One page of the run list (`run_page`), with the capped count of the whole list (`run_count`)
    in `attrs["total"]` (a frame, not a tuple: the cache stamps a frame with its read time)."""
    d = thresholds if thresholds is not None else stall_thresholds(session, now=now)
    page = run_page(
        session, since=since, until=until, now=now, thresholds=d, after=after, before=before, **flt
    )
    page.attrs["total"] = run_count(session, since=since, until=until, now=now, thresholds=d, **flt)
    return page


# ---- per strategy ----------------------------------------------------------------------------

STRATEGY_COLUMNS = {
    "strategy": "str",
    "runs": "Int64",
    "completed": "Int64",
    "failed": "Int64",
    "cancelled": "Int64",
    "running": "Int64",
    "stalled": "Int64",
    "success_rate": "float",
    "p50_s": "float",
    "p95_s": "float",
    "opportunities_per_scan": "float",
    "inconsistent": "Int64",
}


def _newest_in_range(
    d: _Derived, since: datetime, until: datetime, cap: int, *, unfinished: bool = False
) -> Any:
    """The range's newest `cap` runs with their derived state and duration (the aggregates' input);
    with `unfinished`, also the RUNNING and STALLED runs the run list shows from outside the range."""
    cols = (
        exact(S.strategy).label("strategy"),
        d.state.label("state"),
        S.started_at,
        duration_s(S.started_at, S.completed_at).label("duration_s"),
        S.opportunities_found,
        d.inconsistency.label("inconsistency"),
    )
    parts = [
        select(*cols).where(p).order_by(S.started_at.desc()).limit(cap).subquery()
        for p in _parts(d, since=since, until=until, unfinished=unfinished)
    ]
    if len(parts) == 1:
        return parts[0]
    return union_all(*[select(p) for p in parts]).subquery("newest")


def _mark_capped(df: pd.DataFrame, cap: int) -> pd.DataFrame:
    df.attrs["capped"] = bool(len(df) and int(df["runs"].sum()) >= cap)
    return df


def strategy_stats(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    thresholds: Thresholds | None = None,
    cap: int | None = None,
    unfinished: bool = True,
) -> pd.DataFrame:
    """Per strategy over the range's newest `cap` (AGG_CAP) runs, and (`unfinished`) the RUNNING and
    STALLED runs started outside it, as the run list shows them: run counts by outcome, success rate
    (completed / finished), duration p50/p95 of completed runs (nearest rank), opportunities per
    completed scan. Columns: STRATEGY_COLUMNS; `attrs["capped"]` when the range holds more runs."""
    cap = AGG_CAP if cap is None else cap
    r = _newest_in_range(
        _derived(session, now, thresholds), since, until, cap, unfinished=unfinished
    )
    done = and_(r.c.state == "COMPLETED", r.c.duration_s.is_not(None), r.c.duration_s >= 0)
    ranked = select(
        r.c.strategy,
        r.c.state,
        r.c.duration_s,
        r.c.opportunities_found,
        r.c.inconsistency,
        func.row_number()
        .over(partition_by=[r.c.strategy, done], order_by=r.c.duration_s)
        .label("rn"),
        func.sum(case((done, 1), else_=0)).over(partition_by=r.c.strategy).label("n_done"),
    ).subquery()
    ok = and_(
        ranked.c.state == "COMPLETED", ranked.c.duration_s.is_not(None), ranked.c.duration_s >= 0
    )

    def count_state(state: str) -> Any:
        return func.sum(case((ranked.c.state == state, 1), else_=0))

    def pct(p: int) -> Any:
        hit = and_(
            ok,
            ranked.c.rn * 100 >= p * ranked.c.n_done,
            (ranked.c.rn - 1) * 100 < p * ranked.c.n_done,
        )
        return func.max(case((hit, ranked.c.duration_s), else_=None))

    completed, failed = count_state("COMPLETED"), count_state("FAILED")
    stmt = (
        select(
            ranked.c.strategy,
            func.count().label("runs"),
            completed.label("completed"),
            failed.label("failed"),
            count_state("CANCELLED").label("cancelled"),
            count_state("RUNNING").label("running"),
            count_state("STALLED").label("stalled"),
            case(
                (completed + failed > 0, completed * 1.0 / (completed + failed)), else_=None
            ).label("success_rate"),
            pct(50).label("p50_s"),
            pct(95).label("p95_s"),
            func.avg(
                case((ranked.c.state == "COMPLETED", ranked.c.opportunities_found), else_=None)
            ).label("opportunities_per_scan"),
            func.sum(case((ranked.c.inconsistency.is_not(None), 1), else_=0)).label("inconsistent"),
        )
        .group_by(ranked.c.strategy)
        .order_by(func.count().desc(), ranked.c.strategy)
    )
    return _mark_capped(frame(session.execute(stmt).all(), STRATEGY_COLUMNS), cap)


def bucket_seconds(since: datetime, until: datetime, max_buckets: int = GRID_MAX_BUCKETS) -> int:
    """The smallest bucket width giving at most `max_buckets` buckets over the range."""
    span = max((until - since).total_seconds(), 1.0)
    for width in BUCKET_CHOICES_S:
        if span / width <= max_buckets:
            return width
    return BUCKET_CHOICES_S[-1]


TIMELINE_COLUMNS = {
    "strategy": "str",
    "bucket": "utc",
    "runs": "Int64",
    "completed": "Int64",
    "failed": "Int64",
    "cancelled": "Int64",
    "running": "Int64",
    "stalled": "Int64",
    "avg_duration_s": "float",
    "opportunities": "Int64",
}


def strategy_timeline(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    bucket_s: int,
    thresholds: Thresholds | None = None,
    cap: int | None = None,
) -> pd.DataFrame:
    """Per strategy and time bucket over the range's newest `cap` (AGG_CAP) runs: runs by outcome, mean
    duration, opportunities found. Columns: TIMELINE_COLUMNS (`bucket` = bucket start);
    `attrs["capped"]` when the range holds more runs."""
    cap = AGG_CAP if cap is None else cap
    r = _newest_in_range(_derived(session, now, thresholds), since, until, cap)
    bucket = epoch_bucket(r.c.started_at, bucket_s)

    def count_state(state: str) -> Any:
        return func.sum(case((r.c.state == state, 1), else_=0)).label(state.lower())

    stmt = (
        select(
            r.c.strategy,
            bucket.label("bucket"),
            func.count().label("runs"),
            *[count_state(s) for s in ("COMPLETED", "FAILED", "CANCELLED", "RUNNING", "STALLED")],
            func.avg(case((r.c.state == "COMPLETED", r.c.duration_s), else_=None)).label(
                "avg_duration_s"
            ),
            func.sum(func.coalesce(r.c.opportunities_found, 0)).label("opportunities"),
        )
        .group_by(r.c.strategy, bucket)
        .order_by(r.c.strategy, bucket)
        .limit(50 * GRID_MAX_BUCKETS)
    )
    return _mark_capped(frame(session.execute(stmt).all(), TIMELINE_COLUMNS), cap)


def grid_outcome(row: Mapping[str, Any]) -> str:
    """The colour class of one grid cell: the worst outcome among its runs."""
    for state in ("failed", "stalled", "running", "cancelled", "completed"):
        if (row.get(state) or 0) > 0:
            return state.upper()
    return "NONE"


# ---- one scan --------------------------------------------------------------------------------


def scan_detail(
    session: Session, *, scan_id: str, now: datetime, thresholds: Thresholds | None = None
) -> pd.DataFrame:
    """One scan by id with its derived columns, parameters, symbols and error message (0 or 1 row)."""
    d = _derived(session, now, thresholds)
    rows = session.execute(
        select(*d.columns(), S.scan_parameters, S.error_message).where(S.id == scan_id)
    ).all()
    df = _run_frame(rows)
    for k in ("symbols_scanned", "scan_parameters", "error_message"):
        df[k] = pd.Series([row._mapping[k] for row in rows], dtype="object")
    return df


OPPORTUNITY_COLUMNS = {
    "id": "Int64",
    "symbol": "str",
    "strategy": "str",
    "ev": "float",
    "pop": "float",
    "premium": "float",
    "created_at": "utc",
}


def scan_opportunities(
    session: Session, *, scan_id: str, limit: int = DETAIL_LIMIT
) -> pd.DataFrame:
    """Snapshots produced by one scan, best EV first. Columns: id, symbol, strategy, ev, pop, premium, created_at."""
    from db.queries.opportunities import metric

    ev = metric("ev")
    stmt = (
        select(
            O.id,
            O.symbol,
            O.strategy_type.label("strategy"),
            ev.label("ev"),
            metric("pop").label("pop"),
            metric("premium").label("premium"),
            O.created_at,
        )
        .where(O.scan_session_id == scan_id)
        .order_by(ev.is_(None), ev.desc(), O.id)
        .limit(limit)
    )
    return frame(session.execute(stmt).all(), OPPORTUNITY_COLUMNS)


def scan_opportunity_count(session: Session, *, scan_id: str) -> int:
    """How many snapshots one scan produced (capped)."""
    return capped_count(session, select(O.id).where(O.scan_session_id == scan_id), COUNT_CAP)


@dataclass(frozen=True)
class ScanOverview:
    """One scan's row (`scan_detail`: 0 or 1 rows), the snapshots it produced (`scan_opportunities`)
    with their capped count, and its strategy's newest runs (`recent_scans`, to compare with).
    `attrs` holds the read time once cached, as a DataFrame's does."""

    detail: pd.DataFrame
    opportunities: pd.DataFrame
    opportunity_count: int
    recent: pd.DataFrame
    attrs: dict[str, Any] = field(default_factory=dict)


def scan_overview(
    session: Session, *, scan_id: str, now: datetime, thresholds: Thresholds | None = None
) -> ScanOverview:
    """What the scan detail shows of one scan, in one read (one session, one cache entry)."""
    detail = scan_detail(session, scan_id=scan_id, now=now, thresholds=thresholds)
    if detail.empty:
        return ScanOverview(detail, frame([], OPPORTUNITY_COLUMNS), 0, frame([], RECENT_COLUMNS))
    opps = scan_opportunities(session, scan_id=scan_id)
    n = len(opps) if len(opps) < DETAIL_LIMIT else scan_opportunity_count(session, scan_id=scan_id)
    return ScanOverview(
        detail, opps, n, recent_scans(session, strategy=str(detail.iloc[0]["strategy"]))
    )


ERROR_COLUMNS = {
    "id": "str",
    "created_at": "utc",
    "error_type": "str",
    "service": "str",
    "severity": "str",
    "message": "str",
    "details": "object",
    "resolved_at": "utc",
}


def scan_errors(
    session: Session, *, scan_id: str, now: datetime, limit: int = DETAIL_LIMIT
) -> pd.DataFrame:
    """Critical errors logged while a scan ran (start to completion, or now if unfinished) that name
    its strategy (service or details.strategy / strategy_type) or come from a scanner service.
    Columns: ERROR_COLUMNS. Needs the critical_error_logs table."""
    scan = session.execute(
        select(S.strategy, S.started_at, S.completed_at).where(S.id == scan_id)
    ).first()
    if scan is None:
        return frame([], ERROR_COLUMNS)
    end = (
        scan.completed_at
        if scan.completed_at and scan.completed_at >= scan.started_at
        else naive_utc(now)
    )
    related = or_(
        exact_eq(E.service, scan.strategy),
        exact_eq(json_text(E.details, "strategy"), scan.strategy),
        exact_eq(json_text(E.details, "strategy_type"), scan.strategy),
        E.service.in_(SCANNER_SERVICES),
    )
    stmt = (
        select(*[getattr(E, c) for c in ERROR_COLUMNS])
        .where(E.created_at >= naive_utc(scan.started_at), E.created_at <= naive_utc(end), related)
        .order_by(E.created_at, E.id)
        .limit(limit)
    )
    return frame(session.execute(stmt).all(), ERROR_COLUMNS)


RECENT_COLUMNS = {"id": "str", "strategy": "str", "started_at": "utc", "status": "str"}


def recent_scans(session: Session, *, strategy: str | None = None, limit: int = 50) -> pd.DataFrame:
    """The newest scans (optionally of one strategy), for pickers. Columns: id, strategy, started_at, status."""
    stmt = select(S.id, S.strategy, S.started_at, S.status)
    if strategy is not None:
        stmt = stmt.where(exact_eq(S.strategy, strategy))
    stmt = stmt.order_by(S.started_at.desc(), S.id.desc()).limit(limit)
    return frame(session.execute(stmt).all(), RECENT_COLUMNS)


def scan_parameters(session: Session, *, scan_ids: tuple[str, ...]) -> pd.DataFrame:
    """Parameters and symbols of the given scans. Columns: id, strategy, started_at, scan_parameters, symbols_scanned."""
    stmt: Select[Any] = select(
        S.id, S.strategy, S.started_at, S.scan_parameters, S.symbols_scanned
    ).where(S.id.in_(list(scan_ids)))
    return frame(
        session.execute(stmt).all(),
        {
            "id": "str",
            "strategy": "str",
            "started_at": "utc",
            "scan_parameters": "object",
            "symbols_scanned": "object",
        },
    )


_MISSING = object()


def param_diff(a: Any, b: Any, *, changed_only: bool = True) -> pd.DataFrame:
    """Key-by-key comparison of two parameter sets. Columns: key, a, b, change (same/changed/added/removed)."""
    fa, fb = flatten(a if a is not None else {}), flatten(b if b is not None else {})
    rows = []
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key, _MISSING), fb.get(key, _MISSING)
        if va is _MISSING:
            change = "added"
        elif vb is _MISSING:
            change = "removed"
        else:
            change = (
                "same"
                if json.dumps(va, sort_keys=True, default=str)
                == json.dumps(vb, sort_keys=True, default=str)
                else "changed"
            )
        if changed_only and change == "same":
            continue
        show = [None if v is _MISSING else json.dumps(v, default=str) for v in (va, vb)]
        rows.append({"key": key, "a": show[0], "b": show[1], "change": change})
    return frame(rows, {"key": "str", "a": "str", "b": "str", "change": "str"})
