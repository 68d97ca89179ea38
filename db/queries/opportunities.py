"""Questions about opportunity snapshots: the screener page, its facets, funnel, charts, detail.

Every metric is read from its column first and from the same key inside `data` when the
column is NULL (the backend leaves columns stale when it rewrites `data`; older rows keep
only some keys). `mismatch` names the metrics whose column and `data` value disagree.
Filtering, sorting, counting and keyset pagination all happen in SQL.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BooleanClauseList

from db.models import OpportunitySnapshot as O  # noqa: N817
from db.models import ScanSession as S  # noqa: N817
from db.queries import common
from db.queries.common import COUNT_CAP, PAGE_SIZE, capped_count, cursor_time, frame, read_cursor
from db.sqlfuncs import exact, exact_eq, exact_in, json_number, json_text, likely
from db.types import naive_utc

# metric -> (column, keys inside `data` tried in order)
METRICS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "premium": (O.premium, ("premium", "premium_paid")),
    "max_loss": (O.max_loss, ("max_loss",)),
    "pop": (O.probability_profit, ("probability_profit",)),
    "ev": (O.expected_value, ("expected_value",)),
    "dte": (O.days_to_expiration, ("days_to_expiration",)),
    "underlying_price": (O.underlying_price, ("underlying_price", "stock_price")),
    "liquidity_score": (O.liquidity_score, ("liquidity_score",)),
}
RANGE_FILTERS = ("dte", "pop", "ev", "premium", "max_loss")
# Keys inside `data` offered as facets (fixed list: they become SQL JSON paths).
DATA_FACETS = ("bias", "universe", "scan_source")
FACET_FIELDS = ("symbol", "strategy", *DATA_FACETS)
FACET_ATTRS = {
    "symbol": "symbols",
    "strategy": "strategies",
    **{k: k for k in DATA_FACETS},
}  # field -> Filters
MISMATCH_TOLERANCE = 1e-6
SCATTER_LIMIT = 2_000
FACET_LIMIT = 200
EXPORT_LIMIT = 100_000
PERSISTENCE_SCANS = 20
HISTORY_ROWS = 20_000  # newest snapshots searched first for a symbol+strategy's own history
# Aggregates over a filtered set larger than this (facets, slider bounds, DTE histogram) are
# taken over this many of its rows: the counts are then lower bounds, shown as "N+".
SAMPLE_CAP = COUNT_CAP
DENSE_LIKELIHOOD = 0.99
ANY_ID = -(2**31)  # below every id: the smallest INTEGER (the backend counts ids up from 1)
BASE_STEPS = (
    "in the time range",
    "created before the range end",
    "active only",
    "not expired",
    "from the selected scan",
)
FRESHNESS_SCANS = 50
CONTRACT_MULTIPLIER = 100
# The largest finite double. The backend stores +-Infinity in metric columns (NAKED_OPTION rows:
# max_loss Inf, expected_value -Inf) and PostgreSQL can hold NaN too; MariaDB holds neither. Every
# engine compares these like numbers (NaN above everything on PostgreSQL), so "finite" is "between
# -MAX_FLOAT and MAX_FLOAT", and an infinite bound is written as a comparison with MAX_FLOAT (an
# infinite parameter cannot be bound on MariaDB).
MAX_FLOAT = sys.float_info.max


def finite(value: Any) -> ColumnElement[Any]:
    """The value where it is a finite number, else NULL (+-Infinity and NaN become NULL)."""
    return case((value.between(-MAX_FLOAT, MAX_FLOAT), value), else_=None)


def is_nan(col: Any) -> ColumnElement[bool]:
    """True where a number column holds NaN (only PostgreSQL can store it). PostgreSQL holds NaN
    equal to itself, so `col <> col` does not find it; NaN is the only non-zero value equal to its
    negation."""
    return and_(col == -col, col != 0)


def _number(col: Any) -> ColumnElement[Any]:
    """A metric column with NaN read as NULL (unknown); +-Infinity is kept (it is what the backend means)."""
    return case((is_nan(col), None), else_=col)


def data_metric(name: str) -> ColumnElement[Any]:
    """The metric read from `data` (first key present)."""
    keys = METRICS[name][1]
    values = [json_number(O.data, k) for k in keys]
    return values[0] if len(values) == 1 else func.coalesce(*values)


def _pair(name: str, src: Subquery | None) -> tuple[Any, Any]:
    """The metric's column and its `data` value: on the table, or as read once each by `_snapshots`
    (the subquery `src`: its columns `column_<metric>` and `data_<metric>`)."""
    if src is None:
        return _number(METRICS[name][0]), data_metric(name)
    return src.c[f"column_{name}"], src.c[f"data_{name}"]


def metric(name: str, src: Subquery | None = None) -> ColumnElement[Any]:
    """The metric: its column, else its `data` key."""
    return func.coalesce(*_pair(name, src))


def disagrees(name: str, src: Subquery | None = None) -> ColumnElement[bool]:
    """True where both the column and `data` hold the metric and they differ."""
    col, dm = _pair(name, src)
    return and_(
        col.is_not(None),
        dm.is_not(None),
        func.abs(col - dm) > MISMATCH_TOLERANCE * (1 + func.abs(dm)),
    )


def from_data(name: str, src: Subquery | None = None) -> ColumnElement[bool]:
    """True where the column is empty and the value comes from `data`."""
    col, dm = _pair(name, src)
    return and_(col.is_(None), dm.is_not(None))


def _ratio(num: ColumnElement[Any], den: ColumnElement[Any]) -> ColumnElement[Any]:
    """num / den for a positive finite den and a finite num, else NULL (an unlimited max loss has
    no ratio: Inf / Inf is NaN, x / Inf a meaningless 0)."""
    return case(
        (and_(den > 0, den <= MAX_FLOAT, num.between(-MAX_FLOAT, MAX_FLOAT)), num * 1.0 / den),
        else_=None,
    )


def derived(name: str, src: Subquery | None = None) -> ColumnElement[Any]:
    """EV / max loss, premium / max loss (premium x 100 per contract), annualised return."""
    if name == "ev_per_max_loss":
        return _ratio(metric("ev", src), metric("max_loss", src))
    ppm = _ratio(metric("premium", src) * CONTRACT_MULTIPLIER, metric("max_loss", src))
    if name == "premium_per_max_loss":
        return ppm
    return _ratio(ppm * 365.0, metric("dte", src))


# Sortable columns: name -> (expression factory, kind of cursor value).
SORTS: dict[str, tuple[Any, str]] = {
    "ev": (lambda: metric("ev"), "num"),
    "pop": (lambda: metric("pop"), "num"),
    "premium": (lambda: metric("premium"), "num"),
    "max_loss": (lambda: metric("max_loss"), "num"),
    "dte": (lambda: metric("dte"), "num"),
    "ev_per_max_loss": (lambda: derived("ev_per_max_loss"), "num"),
    "premium_per_max_loss": (lambda: derived("premium_per_max_loss"), "num"),
    "annualised_return": (lambda: derived("annualised_return"), "num"),
    "liquidity_score": (lambda: metric("liquidity_score"), "num"),
    "underlying_price": (lambda: metric("underlying_price"), "num"),
    "cache_hits": (lambda: O.cache_hits, "num"),
    "symbol": (lambda: O.symbol, "str"),
    "strategy": (lambda: O.strategy_type, "str"),
    "expires_at": (lambda: O.expires_at, "time"),
    "created_at": (lambda: O.created_at, "time"),
    "id": (lambda: O.id, "num"),
}
DEFAULT_SORT = "ev"
# Sorts by a ratio of metrics: no index can serve them (see `_ratio_candidates`).
RATIO_SORTS = ("ev_per_max_loss", "premium_per_max_loss", "annualised_return")
RATIO_CANDIDATES = 10_000


class BadSort(ValueError):
    """A sort column or cursor that is not allowed (from the URL)."""


@dataclass(frozen=True)
class Filters:
    """The screener's filters as plain hashable values (pass `**f.kwargs()` to the queries)."""

    now: datetime
    since: datetime | None = None
    until: datetime | None = None
    symbols: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    bias: tuple[str, ...] = ()
    universe: tuple[str, ...] = ()
    scan_source: tuple[str, ...] = ()
    dte: tuple[float, float] | None = None
    pop: tuple[float, float] | None = None
    ev: tuple[float, float] | None = None
    premium: tuple[float, float] | None = None
    max_loss: tuple[float, float] | None = None
    show_expired: bool = False
    show_inactive: bool = False
    scan: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """The filters as keyword arguments of plain values (tuples, not lists)."""
        out = asdict(self)
        return {k: tuple(v) if isinstance(v, list) else v for k, v in out.items()}

    def steps(self) -> list[tuple[str, ColumnElement[bool]]]:
        """The active conditions in funnel order, each with a label."""
        out: list[tuple[str, ColumnElement[bool]]] = []
        if self.since is not None:
            out.append(("in the time range", O.created_at >= naive_utc(self.since)))
        if self.until is not None:
            out.append(("created before the range end", O.created_at <= naive_utc(self.until)))
        if not self.show_inactive:
            out.append(("active only", O.is_active == true()))  # NULL is not active either
        if not self.show_expired:
            out.append(("not expired", O.expires_at > naive_utc(self.now)))
        if self.scan:
            out.append(("from the selected scan", O.scan_session_id == self.scan))
        for label, field in (
            ("symbol", "symbols"),
            ("strategy", "strategies"),
            *((k, k) for k in DATA_FACETS),
        ):
            values = list(getattr(self, field))
            if values:
                out.append((f"{label} in selection", exact_in(facet_expr(label), values)))
        for name in RANGE_FILTERS:
            bounds = getattr(self, name)
            cond = None if bounds is None else range_condition(metric(name), bounds)
            if cond is not None:
                out.append((range_label(name, bounds), cond))
        return out

    def hinted_steps(self, dense: int = 0) -> list[tuple[str, ColumnElement[bool]]]:
        """`steps()` with planner hints: `dense` tells SQLite (which has no histograms) which
        conditions keep most rows, so that it walks an index instead of sorting or scanning a big
        filtered set: 1 = the base conditions (time range, active, expiry, scan) keep at least
        COUNT_CAP rows, 2 = all conditions do."""
        out: list[tuple[str, ColumnElement[bool]]] = []
        for label, cond in self.steps():
            if dense >= 2 or (dense and label in BASE_STEPS):
                # each conjunct on its own: SQLite looks inside an AND in likelihood() and drops the hint
                cond = and_(*(likely(c, DENSE_LIKELIHOOD) for c in _conjuncts(cond)))
            out.append((label, cond))
        return out

    def where(self, *, skip_field: str | None = None, dense: int = 0) -> ColumnElement[bool]:
        """All conditions ANDed (optionally without one facet's own filter; hints: `hinted_steps`)."""
        skip = f"{skip_field} in selection" if skip_field else None
        return and_(true(), *(c for label, c in self.hinted_steps(dense) if label != skip))

    def base(self) -> Filters:
        """Only the base conditions (time range, active, expiry, scan)."""
        return Filters(
            now=self.now,
            since=self.since,
            until=self.until,
            show_expired=self.show_expired,
            show_inactive=self.show_inactive,
            scan=self.scan,
        )


def range_condition(expr: Any, bounds: tuple[float, float]) -> ColumnElement[bool] | None:
    """`expr` within [lo, hi]; an infinite side is open (no condition), so a range whose upper end
    is +inf keeps the rows whose value is +Infinity too. None when both sides are open."""
    lo, hi = bounds
    conds = [
        c for c, keep in ((expr >= lo, math.isfinite(lo)), (expr <= hi, math.isfinite(hi))) if keep
    ]
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else and_(*conds)


def range_label(name: str, bounds: tuple[float, float]) -> str:
    """'dte 7 to 21', 'max_loss ≥ 100', 'ev ≤ 50' (an infinite side is open)."""
    lo, hi = bounds
    if not math.isfinite(lo):
        return f"{name} ≤ {hi:g}"
    if not math.isfinite(hi):
        return f"{name} ≥ {lo:g}"
    return f"{name} {lo:g} to {hi:g}"


def _conjuncts(cond: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    if isinstance(cond, BooleanClauseList) and cond.operator is operators.and_:
        return [c for clause in cond.clauses for c in _conjuncts(clause)]
    return [cond]


def filters(**kw: Any) -> Filters:
    """Filters from keyword arguments (lists become tuples)."""
    names = {f.name for f in fields(Filters)}
    unknown = set(kw) - names
    if unknown:
        raise TypeError(f"unknown filter(s): {sorted(unknown)}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}
    return Filters(**values)


def facet_expr(field: str) -> ColumnElement[Any]:
    """The expression a facet groups on (case-sensitive strategy and symbol)."""
    if field == "symbol":
        return O.symbol.expression
    if field == "strategy":
        return O.strategy_type.expression
    if field in DATA_FACETS:
        return json_text(O.data, field)
    raise ValueError(f"unknown facet {field!r}")


# ---- the screener page -------------------------------------------------------------------

PAGE_COLUMNS = {
    "id": "Int64",
    "opportunity_id": "str",
    "symbol": "str",
    "strategy": "str",
    "dte": "float",
    "expires_at": "utc",
    "created_at": "utc",
    "premium": "float",
    "max_loss": "float",
    "pop": "float",
    "ev": "float",
    "ev_per_max_loss": "float",
    "premium_per_max_loss": "float",
    "annualised_return": "float",
    "liquidity_score": "float",
    "underlying_price": "float",
    "cache_hits": "Int64",
    "max_profit": "str",
    "scan_session_id": "str",
    "is_active": "bool",
    "mismatch": "str",
    "from_data": "str",
    "sort_value": "object",
}


PLAIN_PAGE_COLUMNS = (
    "id",
    "opportunity_id",
    "symbol",
    "strategy",
    "expires_at",
    "created_at",
    "cache_hits",
    "scan_session_id",
    "is_active",
    "max_profit",
)
RAW_METRIC_COLUMNS = tuple(f"{kind}_{m}" for m in METRICS for kind in ("column", "data"))


def _snapshots(*extra: Any) -> Select[Any]:
    """Snapshots with each metric's column and `data` value read once (`column_<metric>`,
    `data_<metric>`), for `_page_select` to build on: written out in place, the page's 30-odd
    metric expressions repeated each JSON read (a statement many times larger, slow to compile)."""
    cols: list[Any] = [
        O.id,
        O.opportunity_id,
        O.symbol,
        O.strategy_type.label("strategy"),
        O.expires_at,
        O.created_at,
        O.cache_hits,
        O.scan_session_id,
        O.is_active,
        json_text(O.data, "max_profit").label("max_profit"),
    ]
    cols += [
        c
        for m in METRICS
        for c in (_number(METRICS[m][0]).label(f"column_{m}"), data_metric(m).label(f"data_{m}"))
    ]
    return select(*cols, *extra)


def _page_select(src: Subquery, *, keep: Sequence[str] = ()) -> Select[Any]:
    """The page's columns (PAGE_COLUMNS without sort_value, plus the mismatch and from-data flags)
    over a `_snapshots` subquery, and its columns named in `keep`."""
    cols: list[Any] = [src.c[k] for k in ("id", "opportunity_id", "symbol", "strategy")]
    cols += [
        metric(m, src).label(m)
        for m in ("dte", "premium", "max_loss", "pop", "ev", "liquidity_score", "underlying_price")
    ]
    cols += [
        derived(d, src).label(d)
        for d in ("ev_per_max_loss", "premium_per_max_loss", "annualised_return")
    ]
    cols += [src.c[k] for k in PLAIN_PAGE_COLUMNS[4:]]
    cols += [disagrees(m, src).label(f"mm_{m}") for m in METRICS]
    cols += [from_data(m, src).label(f"fd_{m}") for m in METRICS]
    return select(*cols, *(src.c[k] for k in keep))


def _greater(expr: Any, value: Any) -> ColumnElement[bool]:
    """expr > value, also for value +-inf (written against MAX_FLOAT: MariaDB cannot bind infinity)."""
    if isinstance(value, float) and math.isinf(value):
        return false() if value > 0 else expr >= -MAX_FLOAT
    return expr > value


def _less(expr: Any, value: Any) -> ColumnElement[bool]:
    """expr < value, also for value +-inf."""
    if isinstance(value, float) and math.isinf(value):
        return expr <= MAX_FLOAT if value > 0 else false()
    return expr < value


def _equal(expr: Any, value: Any) -> ColumnElement[bool]:
    """expr = value, also for value +-inf."""
    if isinstance(value, float) and math.isinf(value):
        return expr > MAX_FLOAT if value > 0 else expr < -MAX_FLOAT
    return expr == value


def _after(
    expr: Any, value: Any, row_id: int, *, ascending: bool, nulls_last: bool
) -> ColumnElement[bool]:
    """Rows after (value, id) in the order (expr NULLs first/last, expr, id), same direction."""

    def beyond(a: Any, b: Any) -> ColumnElement[bool]:
        return _greater(a, b) if ascending else _less(a, b)

    if value is None:
        cond = and_(expr.is_(None), beyond(O.id, row_id))
        return or_(cond, expr.is_not(None)) if not nulls_last else cond
    cond = and_(
        expr.is_not(None), or_(beyond(expr, value), and_(_equal(expr, value), beyond(O.id, row_id)))
    )
    return or_(cond, expr.is_(None)) if nulls_last else cond


def parse_cursor(raw: str, sort: str) -> tuple[Any, int]:
    """A cursor from the URL (`make_cursor`) checked against the sort column; BadSort if wrong."""
    if sort not in SORTS:
        raise BadSort(f"unknown sort column {sort!r}")
    kind = SORTS[sort][1]
    try:
        value, row_id = read_cursor(raw)
    except ValueError as exc:
        raise BadSort("the page cursor is not valid") from exc
    if isinstance(row_id, bool) or not isinstance(row_id, int):
        raise BadSort("the page cursor is not valid")
    if value is None:
        return None, row_id
    # +-Infinity is a sort value (the backend stores it); its cursor is JSON's Infinity token
    if (
        kind == "num"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and not math.isnan(value)
    ):
        return value, row_id
    if kind == "str" and isinstance(value, str):
        return value, row_id
    if kind == "time" and isinstance(value, str):
        try:
            return cursor_time(value), row_id
        except ValueError as exc:
            raise BadSort("the page cursor is not valid") from exc
    raise BadSort("the page cursor does not match the sort column")


def make_cursor(value: Any, row_id: Any) -> str:
    """The URL form of a cursor: a row's sort value and id."""
    return common.make_cursor(value, int(row_id))


# Sort columns stored as NOT NULL: one index walk, no NULL part.
NOT_NULL_SORTS = ("symbol", "strategy", "expires_at", "created_at", "id")


@dataclass(frozen=True)
class _Part:
    """Rows of one sort, ordered on their own: `expr` is their sort value, `rows` selects them."""

    expr: Any
    rows: ColumnElement[bool] | None
    nulls: bool


def _parts(sort: str) -> list[_Part]:
    """A sort split so that an index can serve it: rows whose column holds the value are ordered by
    the bare column (its index), the few without it by the value from `data` (or not at all)."""
    if sort in METRICS:
        col = METRICS[sort][0]
        # a NaN column (PostgreSQL) reads as NULL, as in metric(): it sorts with the rows without a value
        known = and_(col.is_not(None), not_(is_nan(col)))
        return [_Part(col, known, False), _Part(data_metric(sort), not_(known), True)]
    expr = SORTS[sort][0]()
    if sort in NOT_NULL_SORTS:
        return [_Part(expr, None, False)]
    if sort == "cache_hits":
        return [_Part(expr, expr.is_not(None), False), _Part(expr, expr.is_(None), True)]
    return [_Part(expr, None, True)]  # derived ratios: no index can serve them


def _facet_hint(session: Session, f: Filters) -> int:
    """The hint for reading filtered rows in any order (samples, counts): 1 when a filter beyond
    the base conditions is set and the base conditions keep many rows (so that SQLite reaches the
    selected rows through that filter's index), else none (the time range's index serves)."""
    return 1 if f != f.base() and _dense_base(session, f) else 0


def _dense_base(session: Session, f: Filters) -> bool:
    """True when at least COUNT_CAP rows pass the base conditions (one capped count)."""
    return capped_count(session, select(O.id).where(f.base().where()), COUNT_CAP) >= COUNT_CAP


def _density(session: Session, f: Filters) -> int:
    """How dense the filtered set is, for `Filters.where(dense=...)`: up to two capped counts."""
    if not _dense_base(session, f):
        return 0
    if f == f.base():
        return 2  # no other condition: the base conditions are all of them
    return (
        2
        if capped_count(session, select(O.id).where(f.where(dense=1)), COUNT_CAP) >= COUNT_CAP
        else 1
    )


def _top(
    session: Session,
    f: Filters,
    *,
    sort: str,
    descending: bool,
    cursor: str | None,
    backwards: bool,
    limit: int,
) -> Subquery:
    """Ids and sort values of the first `limit` filtered rows after `cursor`, in the order of
    `screener_page` (reversed when `backwards`). Only plain columns are read per row; the
    JSON-derived columns are computed later for these rows alone."""
    dense = _density(session, f)
    where = f.where(dense=dense)
    ascending = (not descending) != backwards
    candidates = _ratio_candidates(where) if _ratio_capped(session, sort, where) else None
    members = []
    for part in _parts(sort):
        if candidates is not None:
            stmt = select(O.id.label("id"), part.expr.label("sort_value")).join(
                candidates, candidates.c.id == O.id
            )
        else:
            stmt = select(O.id.label("id"), part.expr.label("sort_value")).where(where)
        if part.rows is not None:
            stmt = stmt.where(part.rows)
        if cursor is not None:
            value, row_id = parse_cursor(cursor, sort)
            stmt = stmt.where(
                _after(part.expr, value, row_id, ascending=ascending, nulls_last=not backwards)
            )
        order = (
            [part.expr.is_(None).desc() if backwards else part.expr.is_(None).asc()]
            if part.nulls
            else []
        )
        order += [
            part.expr.asc() if ascending else part.expr.desc(),
            O.id.asc() if ascending else O.id.desc(),
        ]
        members.append(stmt.order_by(*order).limit(limit))
    if len(members) == 1:
        return members[0].subquery("top")
    return union_all(*(select(m.subquery()) for m in members)).subquery("top")


def _ratio_capped(session: Session, sort: str, where: ColumnElement[bool]) -> bool:
    """True for a ratio sort when more than RATIO_CANDIDATES rows pass `where` (one capped count)."""
    if sort not in RATIO_SORTS:
        return False
    return capped_count(session, select(O.id).where(where), RATIO_CANDIDATES + 1) > RATIO_CANDIDATES


def _ratio_candidates(where: ColumnElement[bool]) -> Subquery:
    """The newest RATIO_CANDIDATES filtered snapshots: what a ratio sort ranks when more match. No
    index can order by a ratio, so ranking them all reads the whole filtered set (2-10 s for a
    million rows in the window); the newest are found through the time range's index."""
    return (
        select(O.id)
        .where(where)
        .order_by(O.created_at.desc(), O.id.desc())
        .limit(RATIO_CANDIDATES)
        .subquery("candidates")
    )


def sort_candidates(session: Session, *, sort: str, **flt: Any) -> int | None:
    """How many snapshots the screener ranks for `sort` when that is not every filtered one:
    RATIO_CANDIDATES for a ratio sort when more rows match (the newest of them are ranked), else
    None (the order is over the whole filtered set)."""
    if sort not in SORTS:
        raise BadSort(f"unknown sort column {sort!r}")
    f = filters(**flt)
    return (
        RATIO_CANDIDATES
        if _ratio_capped(session, sort, f.where(dense=_density(session, f)))
        else None
    )


def _ordered(top: Subquery, *, ascending: bool, backwards: bool) -> list[Any]:
    v = top.c.sort_value
    up = ascending != backwards
    return [
        v.is_(None).desc() if backwards else v.is_(None).asc(),
        v.asc() if up else v.desc(),
        top.c.id.asc() if up else top.c.id.desc(),
    ]


def screener_page(
    session: Session,
    *,
    sort: str = DEFAULT_SORT,
    descending: bool = True,
    after: str | None = None,
    before: str | None = None,
    **flt: Any,
) -> pd.DataFrame:
    """One page (PAGE_SIZE rows, plus one to tell whether more follow) of the filtered snapshots.

    Order: the sort value (NULLs last), then id, both in the chosen direction. `after` / `before`
    are cursors from `make_cursor`. Columns: PAGE_COLUMNS (`sort_value` feeds the next cursor).
    """
    if sort not in SORTS:
        raise BadSort(f"unknown sort column {sort!r}")
    f = filters(**flt)
    backwards = before is not None and after is None
    cursor = before if backwards else after
    if cursor is not None:
        parse_cursor(cursor, sort)  # a bad cursor is rejected before any query runs
    top = _top(
        session,
        f,
        sort=sort,
        descending=descending,
        cursor=cursor,
        backwards=backwards,
        limit=PAGE_SIZE + 1,
    )
    src = (
        _snapshots(top.c.sort_value.label("sort_value"))
        .join(top, top.c.id == O.id)
        .subquery("snap")
    )
    stmt = (
        _page_select(src, keep=("sort_value",))
        .order_by(*_ordered(src, ascending=not descending, backwards=backwards))
        .limit(PAGE_SIZE + 1)
    )
    df = _page_frame(session.execute(stmt).all())
    if backwards:
        df = df.iloc[::-1].reset_index(drop=True)
    return df


def _page_frame(rows: Sequence[Any], columns: dict[str, str] = PAGE_COLUMNS) -> pd.DataFrame:
    records = []
    for r in rows:
        m = r._mapping
        rec = {k: m[k] for k in columns if k in m}
        rec["mismatch"] = ", ".join(n for n in METRICS if m[f"mm_{n}"]) or None
        rec["from_data"] = ", ".join(n for n in METRICS if m[f"fd_{n}"]) or None
        records.append(rec)
    return frame(records, columns)


def filtered_count(session: Session, **flt: Any) -> int:
    """How many snapshots pass the filters, counting at most COUNT_CAP."""
    return capped_count(session, select(O.id).where(filters(**flt).where()), COUNT_CAP)


def future_count(session: Session, **flt: Any) -> int:
    """How many snapshots were created after the window's end (`until`) and would otherwise pass the
    base conditions (active, not expired, scan), counting at most COUNT_CAP: rows dated in the future
    that no past window shows. 0 without an `until`."""
    f = filters(**flt)
    if f.until is None:
        return 0
    rest = replace(f.base(), since=None, until=None).where()
    return capped_count(
        session, select(O.id).where(O.created_at > naive_utc(f.until), rest), COUNT_CAP
    )


def funnel(session: Session, **flt: Any) -> pd.DataFrame:
    """Rows left after each active filter, applied in order, each counted up to COUNT_CAP (a
    count at the cap means "at least"; `removed` is then a lower bound or unknown: NULL).
    Columns: step, remaining, removed."""
    f = filters(**flt)
    steps, hinted = f.steps(), f.hinted_steps(_facet_hint(session, f))
    # "all snapshots": the first COUNT_CAP entries of the primary key over a range holding every row
    # (a bare LIMIT is planned as a scan of the table or of a whole index on PostgreSQL and MariaDB)
    sets = [select(O.id).where(O.id >= ANY_ID).order_by(O.id)]
    for i in range(1, len(steps) + 1):
        # hints only where a filter beyond the base conditions is among the steps counted
        extra = any(label not in BASE_STEPS for label, _ in steps[:i])
        sets.append(select(O.id).where(*(c for _, c in (hinted if extra else steps)[:i])))
    counts = [
        select(func.count()).select_from(ids.limit(COUNT_CAP).subquery()).scalar_subquery()
        for ids in sets
    ]
    row = session.execute(select(*counts)).one()
    remaining = [int(v or 0) for v in row]
    records = [{"step": "all snapshots", "remaining": remaining[0], "removed": 0}]
    for i, (label, _) in enumerate(steps):
        before, after = remaining[i], remaining[i + 1]
        removed = None if before >= COUNT_CAP else before - after
        records.append({"step": label, "remaining": after, "removed": removed})
    return frame(records, {"step": "str", "remaining": "Int64", "removed": "Int64"})


# ---- facets and charts -------------------------------------------------------------------


def _sample(session: Session, f: Filters, *cols: Any, skip_field: str | None = None) -> Subquery:
    """`cols` of at most SAMPLE_CAP filtered rows (all of them when fewer pass): the aggregates of
    the page read at most this many rows however wide the window is."""
    cleared: dict[str, Any] = {FACET_ATTRS[skip_field]: ()} if skip_field else {}
    applied = replace(f, **cleared)
    dense = _facet_hint(session, applied)
    return (
        select(*cols)
        .where(f.where(skip_field=skip_field, dense=dense))
        .limit(SAMPLE_CAP)
        .subquery("sample")
    )


def facet_counts(
    session: Session, *, field: str, own_filter: bool = False, **flt: Any
) -> pd.DataFrame:
    """Values of a facet with their row counts over the filtered set, most frequent first.

    Without `own_filter`, the facet's own selection is not applied (so the options stay visible).
    Counted over at most SAMPLE_CAP rows: `sampled` (the rows counted, the same in every row) at
    SAMPLE_CAP means more rows match and each count is a lower bound.
    Columns: value (NULL = key absent), count, sampled.
    """
    if field not in FACET_FIELDS:
        raise ValueError(f"unknown facet {field!r}")
    f = filters(**flt)
    plain_column = field in ("symbol", "strategy")
    expr = exact(facet_expr(field)) if plain_column else facet_expr(field)
    sample = _sample(session, f, expr.label("value"), skip_field=None if own_filter else field)
    value = exact(sample.c.value) if plain_column else sample.c.value
    n = func.count()
    stmt = (
        select(value.label("value"), n.label("count"), func.sum(n).over().label("sampled"))
        .group_by(value)
        .order_by(n.desc(), value)
        .limit(FACET_LIMIT)
    )
    return frame(
        session.execute(stmt).all(), {"value": "str", "count": "Int64", "sampled": "Int64"}
    )


def all_facet_counts(session: Session, **flt: Any) -> pd.DataFrame:
    """Every facet's values with their row counts over one sample (SAMPLE_CAP rows) of the filtered
    set, as `facet_counts` gives them one facet at a time, but in one statement. Every filter
    applies, a facet's own selection too: meant for the base filters (no selections), whose
    options the filter widgets offer. Columns: field, value, count, sampled."""
    f = filters(**flt)
    plain = ("symbol", "strategy")
    cols = [(exact(facet_expr(x)) if x in plain else facet_expr(x)).label(x) for x in FACET_FIELDS]
    sample = (
        select(*cols).where(f.where(dense=_facet_hint(session, f))).limit(SAMPLE_CAP).cte("sample")
    )
    members = []
    for x in FACET_FIELDS:
        value = exact(sample.c[x]) if x in plain else sample.c[x]
        n = func.count()
        member = (
            select(
                literal(x).label("field"),
                value.label("value"),
                n.label("count"),
                func.sum(n).over().label("sampled"),
            )
            .group_by(value)
            .order_by(n.desc(), value)
            .limit(FACET_LIMIT)
        )
        members.append(select(member.subquery()))
    df = frame(
        session.execute(union_all(*members)).all(),
        {"field": "str", "value": "str", "count": "Int64", "sampled": "Int64"},
    )
    order = {x: i for i, x in enumerate(FACET_FIELDS)}
    df["_order"] = [order[x] for x in df["field"]]
    df["_nulls"] = df["value"].isna()
    df = df.sort_values(
        ["_order", "count", "_nulls", "value"], ascending=[True, False, True, True], kind="stable"
    )
    return df.drop(columns=["_order", "_nulls"]).reset_index(drop=True)


def dte_histogram(session: Session, **flt: Any) -> pd.DataFrame:
    """Filtered snapshots per whole day to expiration, over at most SAMPLE_CAP of them (`sampled`,
    as in `facet_counts`). Columns: dte, count, sampled."""
    sample = _sample(session, filters(**flt), func.round(metric("dte")).label("dte"))
    n = func.count()
    stmt = (
        select(sample.c.dte, n.label("count"), func.sum(n).over().label("sampled"))
        .group_by(sample.c.dte)
        .order_by(sample.c.dte)
        .limit(FACET_LIMIT)
    )
    return frame(
        session.execute(stmt).all(), {"dte": "float", "count": "Int64", "sampled": "Int64"}
    )


def risk_reward_sample(session: Session, *, limit: int = SCATTER_LIMIT, **flt: Any) -> pd.DataFrame:
    """Up to `limit` filtered snapshots (best EV first) for the risk/reward scatter.

    Columns: id, symbol, strategy, max_loss, premium, pop, ev.
    """
    limit = min(limit, 20_000)
    top = _top(
        session,
        filters(**flt),
        sort="ev",
        descending=True,
        cursor=None,
        backwards=False,
        limit=limit,
    )
    stmt = (
        select(
            O.id,
            O.symbol,
            O.strategy_type.label("strategy"),
            metric("max_loss").label("max_loss"),
            metric("premium").label("premium"),
            metric("pop").label("pop"),
            top.c.sort_value.label("ev"),
        )
        .join(top, top.c.id == O.id)
        .order_by(*_ordered(top, ascending=False, backwards=False))
        .limit(limit)
    )
    return frame(
        session.execute(stmt).all(),
        {
            "id": "Int64",
            "symbol": "str",
            "strategy": "str",
            "max_loss": "float",
            "premium": "float",
            "pop": "float",
            "ev": "float",
        },
    )


def metric_bounds(session: Session, **flt: Any) -> pd.DataFrame:
    """Min and max of each range-filter metric over the filtered set (for the sliders). One row.

    Over at most SAMPLE_CAP rows; when more match (`sampled` = SAMPLE_CAP) the bounds are widened
    to the columns' extremes over the whole table (one index probe each), so that a slider still
    spans every row. Columns: <metric>_min, <metric>_max for RANGE_FILTERS, sampled.
    """
    sample = _sample(session, filters(**flt), *(finite(metric(m)).label(m) for m in RANGE_FILTERS))
    cols = []
    for m in RANGE_FILTERS:
        cols += [func.min(sample.c[m]).label(f"{m}_min"), func.max(sample.c[m]).label(f"{m}_max")]
    row = dict(session.execute(select(*cols, func.count().label("sampled"))).one()._mapping)
    if row["sampled"] >= SAMPLE_CAP:
        # one statement of scalar subqueries: each min/max alone is answered from its column's index
        # (the first finite value in the index's order: min()/max() would give +-Infinity)
        probes = [
            _finite_end(METRICS[m][0], lowest=name == "min").scalar_subquery().label(f"{m}_{name}")
            for m in RANGE_FILTERS
            for name in ("min", "max")
        ]
        extremes = session.execute(select(*probes)).one()._mapping
        for key, value in extremes.items():
            if value is not None:
                old = row[key]
                row[key] = (
                    value if old is None else (min if key.endswith("_min") else max)(old, value)
                )
    return frame([row], {**{c.name: "float" for c in cols}, "sampled": "Int64"})


def _finite_end(col: Any, *, lowest: bool) -> Select[Any]:
    """The column's smallest (or largest) finite value: one probe of its index."""
    return (
        select(col)
        .where(col.between(-MAX_FLOAT, MAX_FLOAT))
        .order_by(col.asc() if lowest else col.desc())
        .limit(1)
    )


def freshness(session: Session, *, now: datetime | None = None) -> pd.DataFrame:
    """Newest snapshot time (created by `now`: a row dated in the future must not pass for fresh
    data) and newest completed scan time. One row: newest_snapshot, newest_scan.

    The newest completion is looked for among the FRESHNESS_SCANS most recently started
    completed scans (scans last seconds to minutes), so the started_at index answers it.
    """
    newest = select(func.max(O.created_at))
    snap = session.execute(newest.where(O.created_at <= naive_utc(now)) if now else newest).scalar()
    recent = (
        select(S.completed_at)
        .where(S.status == "COMPLETED")
        .order_by(S.started_at.desc())
        .limit(FRESHNESS_SCANS)
        .subquery()
    )
    scan = session.execute(select(func.max(recent.c.completed_at))).scalar()
    return frame(
        [{"newest_snapshot": snap, "newest_scan": scan}],
        {"newest_snapshot": "utc", "newest_scan": "utc"},
    )


def export_rows(
    session: Session,
    *,
    sort: str = DEFAULT_SORT,
    descending: bool = True,
    limit: int = EXPORT_LIMIT,
    **flt: Any,
) -> pd.DataFrame:
    """The whole filtered set (up to `limit` rows) with `data`, in screener order."""
    if sort not in SORTS:
        raise BadSort(f"unknown sort column {sort!r}")
    expr = SORTS[sort][0]()
    src = (
        _snapshots(expr.label("sort_value"), O.data)
        .where(filters(**flt).where())
        .order_by(
            expr.is_(None),
            expr.desc() if descending else expr.asc(),
            O.id.desc() if descending else O.id.asc(),
        )
        .limit(limit)
        .subquery("snap")
    )
    stmt = _page_select(src, keep=("sort_value", "data")).order_by(
        *_ordered(src, ascending=not descending, backwards=False)
    )
    rows = session.execute(stmt).all()
    df = _page_frame(rows).drop(columns=["sort_value"])
    df["data"] = pd.Series([r._mapping["data"] for r in rows], dtype="object")
    return df


# ---- one snapshot ------------------------------------------------------------------------

DETAIL_COLUMNS = {
    "id": "Int64",
    "opportunity_id": "str",
    "symbol": "str",
    "strategy": "str",
    "expires_at": "utc",
    "created_at": "utc",
    "last_updated": "utc",
    "cache_hits": "Int64",
    "scan_session_id": "str",
    "is_active": "bool",
    "max_profit": "str",
    "data": "object",
    "scan_strategy": "str",
    "scan_started_at": "utc",
    **{c: "float" for c in RAW_METRIC_COLUMNS},
}


def snapshot_detail(session: Session, *, snapshot_id: int) -> pd.DataFrame:
    """One snapshot by primary key with `data`, its scan (if any) and each metric as its column value
    and its `data` value (`column_<metric>`, `data_<metric>`; the metric itself: `detail_metric`).
    0 or 1 row. Columns: DETAIL_COLUMNS."""
    stmt = (
        _snapshots(
            O.last_updated,
            O.data,
            S.strategy.label("scan_strategy"),
            S.started_at.label("scan_started_at"),
        )
        .outerjoin(S, S.id == O.scan_session_id)
        .where(O.id == snapshot_id)
    )
    return frame(session.execute(stmt).all(), DETAIL_COLUMNS)


def detail_metric(row: pd.Series, name: str) -> float | None:
    """A metric of a `snapshot_detail` row: its column, else its `data` value (as `metric()` reads it)."""
    for key in (f"column_{name}", f"data_{name}"):
        if pd.notna(row[key]):
            return float(row[key])
    return None


def metric_values(detail: pd.DataFrame) -> pd.DataFrame:
    """Each metric of a `snapshot_detail` row as its column value and its `data` value.
    Columns: metric, column, data (empty when there is no row)."""
    records = (
        []
        if detail.empty
        else [
            {
                "metric": m,
                "column": detail[f"column_{m}"].iloc[0],
                "data": detail[f"data_{m}"].iloc[0],
            }
            for m in METRICS
        ]
    )
    return frame(records, {"metric": "str", "column": "float", "data": "float"})


def data_values(session: Session, *, snapshot_id: int) -> pd.DataFrame:
    """Each metric of one snapshot as its column value and its `data` value. Columns: metric, column, data."""
    return metric_values(snapshot_detail(session, snapshot_id=snapshot_id))


PERSISTENCE_COLUMNS = {
    "scan_id": "str",
    "started_at": "utc",
    "status": "str",
    "present": "bool",
    "ev": "float",
    "pop": "float",
    "source": "str",
}


def persistence(
    session: Session,
    *,
    symbol: str,
    strategy: str,
    scan_session_id: str | None,
    limit: int = PERSISTENCE_SCANS,
) -> pd.DataFrame:
    """The symbol+strategy across the most recent scans of the scan that produced it, newest first.

    When the snapshot has no scan (or the scan is gone), its own snapshot history is used
    instead (`source` = 'snapshots'). Columns: PERSISTENCE_COLUMNS.
    """
    scan_strategy = None
    if scan_session_id:
        scan_strategy = session.execute(select(S.strategy).where(S.id == scan_session_id)).scalar()
    if scan_strategy is None:
        return _snapshot_history(session, symbol=symbol, strategy=strategy, limit=limit)
    recent = (
        select(S.id, S.started_at, S.status)
        .where(exact_eq(S.strategy, scan_strategy))
        .order_by(S.started_at.desc(), S.id.desc())
        .limit(limit)
        .subquery()
    )
    join_on = and_(
        O.scan_session_id == recent.c.id,
        exact_eq(O.symbol, symbol),
        exact_eq(O.strategy_type, strategy),
    )
    stmt = (
        select(
            recent.c.id.label("scan_id"),
            recent.c.started_at,
            recent.c.status,
            (func.count(O.id) > 0).label("present"),
            func.avg(finite(metric("ev"))).label("ev"),
            func.avg(finite(metric("pop"))).label("pop"),
            literal("scans").label("source"),
        )
        .select_from(recent)
        .outerjoin(O, join_on)
        .group_by(recent.c.id, recent.c.started_at, recent.c.status)
        .order_by(recent.c.started_at.desc(), recent.c.id.desc())
    )
    return frame(session.execute(stmt).all(), PERSISTENCE_COLUMNS)


def _snapshot_history(session: Session, *, symbol: str, strategy: str, limit: int) -> pd.DataFrame:
    """The symbol+strategy's newest `limit` snapshots: first among the newest HISTORY_ROWS snapshots
    (the time index, a few milliseconds), over all of them only when fewer are found there. Asked of
    the whole table at once, SQLite reads every snapshot of the symbol and sorts them: 0.1-1 s at a
    million rows."""
    stmt = (
        select(
            O.scan_session_id.label("scan_id"),
            O.created_at.label("started_at"),
            literal(None).label("status"),
            literal(True).label("present"),
            finite(metric("ev")).label("ev"),
            finite(metric("pop")).label("pop"),
            literal("snapshots").label("source"),
        )
        .where(exact_eq(O.symbol, symbol), exact_eq(O.strategy_type, strategy))
        .order_by(O.created_at.desc(), O.id.desc())
        .limit(limit)
    )
    newest = (
        select(O.id)
        .order_by(O.created_at.desc(), O.id.desc())
        .limit(HISTORY_ROWS)
        .subquery("newest")
    )
    rows = session.execute(stmt.join(newest, newest.c.id == O.id)).all()
    if len(rows) < limit:
        rows = session.execute(stmt).all()
    return frame(rows, PERSISTENCE_COLUMNS)


def streak(history: pd.DataFrame) -> int:
    """How many of the newest scans in a row contain the opportunity (history newest first)."""
    n = 0
    for present in history["present"].tolist():
        if not present:
            break
        n += 1
    return n


def is_unlimited(max_profit: Any) -> bool:
    """True for the backend's 'Unlimited' max_profit text."""
    return isinstance(max_profit, str) and max_profit.strip().lower() in (
        "unlimited",
        "inf",
        "infinity",
    )
