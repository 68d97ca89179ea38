"""Sections of the Opportunities page: filters (kept in the URL), the keyset-paged screener,
row detail with payoff, persistence, charts of the filtered set, freshness and export."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from db import data
from db.queries import opportunities as q
from db.queries.common import COUNT_CAP, PAGE_SIZE
from domain import payoff
from perf.derived import derived
from ui.charts import scanner as charts
from ui.kit import urlstate
from ui.kit.format import human_age, plain, position_key
from ui.kit.frame import Frame, rounded_now
from ui.kit.nav import nav_link
from ui.kit.widgets import (
    export_buttons,
    fmt_count,
    freshness,
    show_json,
    to_tz,
)

STALE_SNAPSHOT_S = 15 * 60  # the backend's longest snapshot TTL
STALE_SCAN_S = 30 * 60
RANGE_PARAMS = {"dte": "dte", "pop": "pop", "ev": "ev", "premium": "prem", "max_loss": "loss"}
RANGE_LABELS = {
    "dte": "Days to expiration",
    "pop": "Probability of profit",
    "ev": "Expected value ($)",
    "premium": "Premium",
    "max_loss": "Max loss ($)",
}
FACET_PARAMS = {
    "symbol": ("sym", "Symbols"),
    "strategy": ("strat", "Strategies"),
    "bias": ("bias", "Bias"),
    "universe": ("universe", "Universe"),
    "scan_source": ("source", "Scan source"),
}
SORT_LABELS = {
    "ev": "Expected value",
    "pop": "PoP",
    "premium": "Premium",
    "max_loss": "Max loss",
    "dte": "DTE",
    "ev_per_max_loss": "EV / max loss",
    "premium_per_max_loss": "Premium / max loss",
    "annualised_return": "Annualised return",
    "liquidity_score": "Liquidity",
    "underlying_price": "Underlying price",
    "cache_hits": "Cache hits",
    "symbol": "Symbol",
    "strategy": "Strategy",
    "expires_at": "Expires at",
    "created_at": "Created at (age)",
    "id": "Id",
}
CAVEAT = (
    "PoP and EV are the scanner's own model estimates, not market prices or guarantees; "
    "premium / max loss assumes 100 shares per contract."
)


@dataclass(frozen=True)
class View:
    """Sort, page position and selection from the URL."""

    sort: str
    descending: bool
    after: str | None
    before: str | None
    selected: int | None


# ---- filters -----------------------------------------------------------------------------


def facet_options(all_counts: pd.DataFrame) -> dict[str, tuple[dict[str, int], bool]]:
    """Per facet field: its values with their counts (most frequent first) and whether they were
    counted over a capped sample. Built once per counts read (perf.derived)."""
    out: dict[str, tuple[dict[str, int], bool]] = {}
    for field in FACET_PARAMS:
        counts = all_counts[(all_counts["field"] == field) & all_counts["value"].notna()]
        out[field] = (
            dict(zip(counts["value"], (int(c) for c in counts["count"]), strict=True)),
            is_sampled(counts),
        )
    return out


def _multi(
    field: str, options_by_field: dict[str, tuple[dict[str, int], bool]], col: Any
) -> tuple[tuple[str, ...], bool]:
    """A facet's multiselect; also whether its counts were taken over a capped sample."""
    param, label = FACET_PARAMS[field]
    by_value, sampled = options_by_field[field]
    options = list(by_value)
    if sampled:  # a value from the URL may simply lie outside the counted rows: keep it
        options += [v for v in urlstate.many(param) if v not in by_value]
    chosen = urlstate.many(param, allowed=options)
    picked = col.multiselect(
        label,
        options,
        default=chosen,
        key=f"opp_{param}",
        format_func=lambda v: facet_label(v, by_value.get(v), sampled),
    )
    urlstate.put(**{param: picked})
    return tuple(picked), sampled


def is_sampled(counts: pd.DataFrame) -> bool:
    """True when an aggregate was taken over SAMPLE_CAP rows only (more rows match)."""
    return bool(len(counts)) and int(counts["sampled"].max()) >= q.SAMPLE_CAP


def facet_label(value: str, count: int | None, sampled: bool) -> str:
    """'SPY (343)'; over a capped sample 'SPY (343+)' (a lower bound); '(not counted)' when absent."""
    if count is None:
        return f"{value} (not in the counted rows)"
    return f"{value} ({count:,}{'+' if sampled else ''})"


def sampled_note() -> str:
    """Said under the filters when their counts come from a capped sample."""
    return (
        f"More than {q.SAMPLE_CAP:,} snapshots match: the counts beside the options, the slider ranges "
        f"and the charts are taken over {q.SAMPLE_CAP:,} of them (a count shown as N+ is at least N)."
    )


# Slider bounds are kept within this magnitude (a hostile 1e300 would break the slider's arithmetic
# in the browser, and whole numbers must stay below 2**53 there). A slider at its end is open on
# that side, so rows beyond it still show until that end is moved.
SLIDER_LIMIT = 1e12


def parse_range(raw: str) -> tuple[float, float] | None:
    """'lo~hi' from the URL: two finite numbers, lo <= hi; None when malformed."""
    try:
        lo, hi = (float(x) for x in raw.split("~"))
    except ValueError:
        return None
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) and lo <= hi else None


@dataclass(frozen=True)
class RangeSlider:
    """One range slider as drawn: bounds, value and step all of one type (int for days to
    expiration, float otherwise: st.slider refuses a mix), the data's own bounds (None when there is
    nothing to slide over: the slider is then drawn disabled) and a help text."""

    min_value: int | float
    max_value: int | float
    value: tuple[int, int] | tuple[float, float]
    step: int | float
    data_bounds: tuple[float, float] | None
    help: str


def _clamp(value: float) -> float:
    return min(max(value, -SLIDER_LIMIT), SLIDER_LIMIT)


def _finite(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def range_slider(
    name: str, data_lo: Any, data_hi: Any, wanted: tuple[float, float] | None
) -> RangeSlider:
    """The slider for metric `name` over data bounds [data_lo, data_hi] (+-inf, NaN or None: no
    bound) with the range `wanted` from the URL. A wanted range beyond the data widens the slider
    instead of being clamped; days to expiration are whole (a URL range rounds outwards)."""
    whole = name == "dte"

    def cast(lo: float, hi: float) -> tuple[Any, Any]:
        lo, hi = _clamp(lo), _clamp(hi)
        return (int(math.floor(lo)), int(math.ceil(hi))) if whole else (float(lo), float(hi))

    step: int | float = 1 if whole else 0.01
    lo, hi = _finite(data_lo), _finite(data_hi)
    want = cast(*wanted) if wanted else None
    if lo is None or hi is None or lo > hi or cast(lo, hi)[0] >= cast(lo, hi)[1]:
        # Nothing to slide over: drawn disabled, keeping its place; a URL range is shown as kept,
        # a single value as itself.
        one = cast(lo, lo)[0] if lo is not None and hi is not None and lo <= hi else None
        if want is not None:
            value = want
        elif one is not None:
            value = (one, one)
        else:
            value = cast(0.0, 1.0)
        span = 1 if whole else 1.0
        low, high = value[0], max(value[1], value[0] + span)
        help_ = (
            "All matching snapshots have the same value."
            if one is not None
            else "No values to filter by in this view."
        )
        return RangeSlider(low, high, value, step, None, help_)
    bounds = cast(lo, hi)
    start = want or bounds
    return RangeSlider(
        min(bounds[0], start[0]),
        max(bounds[1], start[1]),
        start,
        step,
        bounds,
        "At either end the range is open on that side (values beyond it, unlimited ones "
        "included, are kept).",
    )


def range_filter(spec: RangeSlider, chosen: tuple[float, float]) -> tuple[float, float] | None:
    """The filter a slider position sets: None when both ends sit at (or beyond) the data's bounds;
    an end at its bound is open (+-inf), so unlimited values stay in. "At its bound" is within half
    a step: the browser keeps a slider's values on its step grid, so a bound such as
    0.8500000000000001 comes back as 0.85 once the other end is dragged (it must stay open)."""
    if spec.data_bounds is None:
        return None
    lo, hi = float(chosen[0]), float(chosen[1])
    slack = float(spec.step) / 2
    open_lo, open_hi = lo <= spec.data_bounds[0] + slack, hi >= spec.data_bounds[1] - slack
    if open_lo and open_hi:
        return None
    return (-math.inf if open_lo else lo, math.inf if open_hi else hi)


def url_number(value: float) -> str:
    """A number for the URL that reads back exactly ('7', '0.5', '1234.5678')."""
    return (
        str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
    )


def _range(name: str, bounds: pd.Series, col: Any) -> tuple[float, float] | None:
    param = RANGE_PARAMS[name]
    raw = urlstate.text(param)
    wanted = parse_range(raw) if raw else None
    if raw and wanted is None:
        st.warning(
            f"Ignored the URL parameter `{param}`: expected two numbers as lo~hi (lo not above hi).",
            icon="⚠️",
        )
        urlstate.remove(param)
    spec = range_slider(name, bounds.get(f"{name}_min"), bounds.get(f"{name}_max"), wanted)
    if spec.data_bounds is None:
        col.slider(
            RANGE_LABELS[name],
            min_value=spec.min_value,
            max_value=spec.max_value,
            value=spec.value,
            step=spec.step,
            disabled=True,
            key=f"opp_{param}_none",
            help=spec.help,
        )
        return wanted
    value = col.slider(
        RANGE_LABELS[name],
        min_value=spec.min_value,
        max_value=spec.max_value,
        value=spec.value,
        key=f"opp_{param}",
        step=spec.step,
        help=spec.help,
    )
    chosen = (float(value[0]), float(value[1]))
    picked = range_filter(spec, chosen)
    urlstate.put(**{param: f"{url_number(chosen[0])}~{url_number(chosen[1])}" if picked else None})
    return picked


def scan_bar(scan: str | None) -> tuple[bool, bool]:
    """The expired and inactive toggles (in the URL) and, for one scan's snapshots, its id with a
    button that clears it; whether expired and inactive snapshots are shown."""
    # Rows are horizontal containers: one block each, where st.columns adds a block per column.
    top = st.container(horizontal=True, vertical_alignment="center")
    show_expired = top.toggle("Show expired", value=urlstate.flag("expired"), key="opp_expired")
    show_inactive = top.toggle("Show inactive", value=urlstate.flag("inactive"), key="opp_inactive")
    urlstate.put(expired=show_expired, inactive=show_inactive)
    if scan:
        box = top.container()
        box.caption("Showing the snapshots of one scan (the time range does not apply).")
        box.code(scan, language=None)
        if box.button("Clear scan filter", key="opp_clear_scan"):
            urlstate.remove("scan", "after", "before")
            st.rerun()
    return show_expired, show_inactive


def facets(all_counts: pd.DataFrame) -> tuple[dict[str, Any], bool]:
    """The facet multiselects (URL-backed) over `all_facet_counts` (counts without selections):
    the filter keywords they set, and whether any count was taken over a capped sample."""
    counts = derived(facet_options, all_counts)
    picked: dict[str, Any] = {}
    row = st.container(horizontal=True)
    picked["symbols"], s1 = _multi("symbol", counts, row)
    picked["strategies"], s2 = _multi("strategy", counts, row)
    sampled = [s1, s2]
    row = st.container(horizontal=True)
    for key in q.DATA_FACETS:
        picked[key], s3 = _multi(key, counts, row)
        sampled.append(s3)
    return picked, any(sampled)


def ranges(bounds: pd.Series) -> dict[str, Any]:
    """The range sliders (URL-backed) over the data's `metric_bounds`; the ranges they set."""
    row = st.container(horizontal=True)
    return {name: _range(name, bounds, row) for name in q.RANGE_FILTERS}


def sort_bar(flt: q.Filters) -> View:
    """Sort column and direction (in the URL), and the page position and selection; another filter
    or sort goes back to the first page."""
    sorts = list(q.SORTS)
    row = st.container(horizontal=True, vertical_alignment="bottom")  # one block, not a column each
    sort = urlstate.choice("sort", sorts, q.DEFAULT_SORT)
    direction = urlstate.choice("dir", ["desc", "asc"], "desc")
    sort = row.selectbox(
        "Sort by",
        sorts,
        index=sorts.index(sort),
        key="opp_sort",
        format_func=lambda s: SORT_LABELS.get(s, s),
        width=320,
    )
    direction = (
        row.segmented_control("Direction", ["desc", "asc"], default=direction, key="opp_dir")
        or "desc"
    )
    urlstate.put(
        sort=None if sort == q.DEFAULT_SORT else sort,
        dir=None if direction == "desc" else direction,
    )
    signature = _signature(flt, sort, direction)
    if st.session_state.get("opp_sig") not in (None, signature):
        urlstate.remove("after", "before")  # another filter or sort: back to the first page
    st.session_state["opp_sig"] = signature
    after, before = _cursor("after", sort), _cursor("before", sort)
    sel = urlstate.integer("sel", 0, lo=0, hi=2**62)
    return View(sort, direction == "desc", after, None if after else before, sel or None)


def _signature(flt: q.Filters, sort: str, direction: object) -> str:
    """The filters and sort without the moving clock (which changes every few seconds)."""
    return repr((replace(flt, now=datetime.min, since=None, until=None), sort, direction))


def _cursor(param: str, sort: str) -> str | None:
    raw = urlstate.text(param)
    if not raw:
        return None
    try:
        q.parse_cursor(raw, sort)
    except q.BadSort:
        st.warning(
            "Ignored the page position in the URL: it does not fit the sort column. "
            "Showing the first page.",
            icon="⚠️",
        )
        urlstate.remove(param)
        return None
    return raw


# ---- freshness and funnel --------------------------------------------------------------------


def freshness_banner(fr: pd.Series, *, now: pd.Timestamp) -> None:
    """Age of the newest snapshot and of the newest completed scan (a `freshness` row) at `now`; a
    warning when stale."""
    snap_age = (
        (now - fr["newest_snapshot"]).total_seconds() if pd.notna(fr["newest_snapshot"]) else None
    )
    scan_age = (now - fr["newest_scan"]).total_seconds() if pd.notna(fr["newest_scan"]) else None
    line = f"Newest snapshot: {human_age(snap_age)} old · newest completed scan: {human_age(scan_age)} old"
    if snap_age is None:
        st.info("No opportunity snapshots in this database yet.", icon="ℹ️")
    elif snap_age > STALE_SNAPSHOT_S or scan_age is None or scan_age > STALE_SCAN_S:
        st.warning(f"Stale data. {line}.", icon="⏱️")
    else:
        st.success(line, icon="✅")
    st.caption(CAVEAT)


def funnel_line(fun: pd.DataFrame) -> str:
    """'20 snapshots → active only −1 → not expired −10 → 9 left' (labels are ours, never data).
    Counts stop at COUNT_CAP: '10,000+ snapshots → in the time range: 10,000+ → … → 2,159 left'."""
    if fun.empty:
        return ""
    parts = [f"{fmt_count(int(fun['remaining'].iloc[0]), COUNT_CAP)} snapshots"]
    for step, remaining, removed in zip(
        fun["step"].iloc[1:], fun["remaining"].iloc[1:], fun["removed"].iloc[1:], strict=True
    ):
        parts.append(
            f"{step}: {fmt_count(int(remaining), COUNT_CAP)}"
            if pd.isna(removed)
            else f"{step} −{int(removed):,}"
        )
    return " → ".join(parts) + f" → {fmt_count(int(fun['remaining'].iloc[-1]), COUNT_CAP)} left"


def funnel(fun: pd.DataFrame) -> None:
    """How many rows each active filter removes, in order, as one line."""
    st.caption("Filter funnel: " + funnel_line(fun))


# ---- the screener ----------------------------------------------------------------------------

TABLE_COLUMNS = [
    "id",
    "marker",
    "symbol",
    "strategy",
    "dte",
    "expires_at",
    "expires_in",
    "premium",
    "max_loss",
    "max_profit",
    "pop",
    "ev",
    "ev_per_max_loss",
    "premium_per_max_loss",
    "annualised_return",
    "liquidity_score",
    "underlying_price",
    "age",
    "cache_hits",
]


def expiry_label(expires_at: pd.Timestamp | None, now: pd.Timestamp) -> str:
    """'in 16.3 h' for a future expiry, 'expired 5 min ago' for a past one, '–' when unknown."""
    if expires_at is None or pd.isna(expires_at):
        return "–"
    age = human_age((now - expires_at).total_seconds())  # negative (future) reads 'in …'
    return age if age.startswith("in ") else f"expired {age} ago"


def table_at(df: pd.DataFrame, *, tz: Any, now: datetime) -> pd.DataFrame:
    """The page rows as shown in a display timezone at a (rounded) clock: derived times, markers for
    stale columns and data fallbacks. Built once per page read, timezone and clock step
    (perf.derived)."""
    now = pd.Timestamp(now)
    out = to_tz(df, tz)
    out["expires_in"] = [expiry_label(e, now) for e in df["expires_at"]]
    out["age"] = [
        human_age((now - c).total_seconds()) if pd.notna(c) else "–" for c in df["created_at"]
    ]
    unlimited = (
        [
            ", ".join(
                m for m in UNLIMITED_COLUMNS if isinstance(v := r[m], float) and math.isinf(v)
            )
            for _, r in df[list(UNLIMITED_COLUMNS)].iterrows()
        ]
        if len(df)
        else []
    )
    out["marker"] = [
        " ".join(
            x
            for x in (
                f"∞ unlimited: {u}" if u else "",
                f"⚠ column≠data: {m}" if m else "",
                f"↩ from data: {d}" if d else "",
            )
            if x
        )
        for u, m, d in zip(unlimited, df["mismatch"], df["from_data"], strict=True)
    ]
    return plain(out[TABLE_COLUMNS])


UNLIMITED_COLUMNS = ("premium", "max_loss", "pop", "ev")  # metrics the backend stores as +-Infinity

COLUMN_CONFIG = {
    "id": st.column_config.NumberColumn("id", format="%d"),
    "marker": st.column_config.TextColumn(
        "marker",
        help="∞ the backend stored an infinite value (unlimited); "
        "⚠ the column and the value in data disagree (the column is shown); "
        "↩ the column is empty, the value comes from data",
    ),
    "dte": st.column_config.NumberColumn("DTE", format="%d"),
    "expires_in": st.column_config.TextColumn("time to expiry"),
    "pop": st.column_config.NumberColumn("PoP", format="%.2f"),
    "ev": st.column_config.NumberColumn("EV", format="%.2f"),
    "ev_per_max_loss": st.column_config.NumberColumn("EV / max loss", format="%.3f"),
    "premium_per_max_loss": st.column_config.NumberColumn(
        "premium / max loss", format="%.3f", help="premium x 100 / max loss"
    ),
    "annualised_return": st.column_config.NumberColumn(
        "annualised", format="%.1f", help="premium / max loss x 365 / DTE"
    ),
    "max_profit": st.column_config.TextColumn("max profit (data)"),
}


def screener(
    df: pd.DataFrame,
    *,
    total: int,
    ranked: int | None,
    flt: q.Filters,
    view: View,
    f: Frame,
    selected: int | None,
) -> int | None:
    """The 100-row page of a `screener_page` read, its count (`ranked`: how many a ratio sort ranks,
    None or 0 when all), the pager and row selection (kept in the URL by id); returns the selected id."""
    backwards = view.before is not None
    rows = page_rows(df, backwards=backwards)
    has_prev = len(df) > PAGE_SIZE if backwards else view.after is not None
    has_next = True if backwards else len(df) > PAGE_SIZE
    st.caption(f"{fmt_count(total, COUNT_CAP)} matching snapshots · {len(rows)} on this page")
    if ranked:
        st.warning(ratio_sort_note(view.sort, ranked), icon="⚠️")
    # a new key per page and filter: a row selection is by position and must not carry over
    key = "opp_table_" + position_key(
        view.after, view.before, _signature(flt, view.sort, view.descending)
    )
    shown = derived(_shown_rows, df, table=True, backwards=backwards, tz=f.tz, now=rounded_now())
    event = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        column_config=COLUMN_CONFIG,
    )
    picked = event.selection.rows if event and hasattr(event, "selection") else []
    if picked and picked[0] < len(rows):
        sel = int(rows.iloc[picked[0]]["id"])
        if sel != selected:
            urlstate.put(sel=sel)  # the detail below follows in this same run
            selected = sel
    _pager(rows, has_prev, has_next)
    freshness(df, key="opp_table", tz=f.tz)
    return selected


def ratio_sort_note(sort: str, ranked: int) -> str:
    """Said above the screener when a ratio sort ranks only the newest matching snapshots."""
    return (
        f"Sorted by {SORT_LABELS[sort]} among the newest {ranked:,} matching snapshots only: more match, "
        "and ranking them all by a ratio means reading every one. Narrow the filters (time range, symbols, "
        "strategies) for an order over all of them."
    )


def page_rows(df: pd.DataFrame, *, backwards: bool) -> pd.DataFrame:
    """The page's rows of a `screener_page` read (which holds one more row, to tell whether more follow)."""
    return df.tail(PAGE_SIZE) if backwards else df.head(PAGE_SIZE)


def _shown_rows(df: pd.DataFrame, *, backwards: bool, tz: Any, now: datetime) -> pd.DataFrame:
    return table_at(page_rows(df, backwards=backwards), tz=tz, now=now)


def _pager(rows: pd.DataFrame, has_prev: bool, has_next: bool) -> None:
    bar = st.container(horizontal=True)  # one block, not a column each
    if bar.button(
        "First page", key="opp_first", disabled=not has_prev, icon=":material/first_page:"
    ):
        urlstate.remove("after", "before")
        st.rerun()
    if bar.button(
        "Previous",
        key="opp_prev",
        disabled=not has_prev or rows.empty,
        icon=":material/chevron_left:",
    ):
        first = rows.iloc[0]
        urlstate.remove("after")
        urlstate.put(before=q.make_cursor(first["sort_value"], first["id"]))
        st.rerun()
    if bar.button(
        "Next", key="opp_next", disabled=not has_next or rows.empty, icon=":material/chevron_right:"
    ):
        last = rows.iloc[-1]
        urlstate.remove("before")
        urlstate.put(after=q.make_cursor(last["sort_value"], last["id"]))
        st.rerun()


# ---- detail ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayoffView:
    """A snapshot's position at expiry, as the detail shows it; or, without a figure, why none."""

    caption: str
    legs: pd.DataFrame | None
    best: float
    worst: float
    figure: Any
    findings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DetailView:
    """What the detail draws from one `snapshot_detail` read (built once per read, through `derived`)."""

    values: pd.DataFrame
    payoff: PayoffView


def detail_view(d: pd.DataFrame, *, snapshot_id: int) -> DetailView:
    """The metric table and the payoff (or why there is none) of the snapshot read in `d`."""
    row = d.iloc[0]
    return DetailView(values=q.metric_values(d), payoff=payoff_view(row))


def payoff_view(row: pd.Series) -> PayoffView:
    """Legs, extremes, break-evens and the payoff chart of a snapshot row, drawn only from the legs
    its data records (domain.payoff.from_snapshot), with where the row disagrees with them; without
    legs, only the reason (no figure)."""
    data = row["data"]
    spot = q.detail_metric(row, "underlying_price")
    got = payoff.from_snapshot(
        data,
        strategy=row["strategy"],
        premium=q.detail_metric(row, "premium"),
        spot=spot,
        row=payoff.row_figures(data, max_loss=q.detail_metric(row, "max_loss")),
    )
    pos = got.position
    if pos is None:
        return PayoffView(f"No payoff chart: {got.reason}.", None, math.nan, math.nan, None)
    spot = spot if spot and math.isfinite(spot) and spot > 0 else None
    xs, ys = payoff.curve(pos, spot=spot)
    bes = payoff.break_evens(pos)
    best, worst = payoff.extremes(pos)
    caption = (
        f"Legs ({pos.assumption}; net {'credit' if pos.credit else 'debit'} {pos.premium:,.2f}) · "
        "Break-evens: " + (", ".join(f"{b:,.2f}" for b in bes) or "none")
    )
    figure = charts.payoff(xs, ys, break_evens=bes, spot=spot)
    return PayoffView(
        caption, pd.DataFrame(payoff.legs_table(pos)), best, worst, figure, got.findings
    )


def detail(d: pd.DataFrame, *, selected: int, f: Frame) -> None:
    """The snapshot of a `snapshot_detail` read: metrics (column vs data), data JSON, legs, payoff,
    scan link, persistence."""
    if d.empty:
        st.info(f"No snapshot with id {selected} (it may have been cleaned up).", icon="ℹ️")
        return
    row = d.iloc[0]
    view = derived(detail_view, d, snapshot_id=selected)
    st.subheader(f"Snapshot #{selected}")
    st.text(f"{row['symbol']} · {row['strategy']} · {row['opportunity_id']}")
    left, right = st.columns(2)
    with left:
        st.caption("Metrics: column and value inside data (the column is used when present)")
        st.dataframe(view.values, hide_index=True, width="stretch")
        if q.is_unlimited(row["max_profit"]):
            st.caption("max_profit in data: Unlimited")
        _scan_link(row)
    with right:
        st.caption("data")
        show_json(row["data"], key="opp_detail_data")
    _payoff(view.payoff)
    _persistence(row)
    # the screener's Refresh above reads this panel again too: no second button
    st.caption(as_of_line("Detail", d, f))


def as_of_line(what: str, result: Any, f: Frame) -> str:
    """'Detail data as of 12:00:05 UTC' (empty when the read time is unknown)."""
    when = data.as_of(result)
    if when is None:
        return ""
    return f"{what} data as of {when.astimezone(f.tz) if f.tz else when:%H:%M:%S %Z}".strip()


def _scan_link(row: pd.Series) -> None:
    scan_id = row["scan_session_id"]
    if scan_id:
        nav_link(
            "pages/scans.py",
            "Open the scan that produced it",
            ":material/radar:",
            {"scan": str(scan_id)},
        )
    else:
        st.caption("No scan session recorded for this snapshot.")


def money(value: float) -> str:
    """'$1,234.00', 'unlimited' for +-inf (a max profit below 0 is a loss at every price: '-$1,144.00')."""
    if math.isinf(value):
        return "unlimited"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _payoff(view: PayoffView) -> None:
    if view.figure is None:
        st.caption(view.caption)
        return
    c1, c2 = st.columns([1, 2])
    with c1:
        st.caption(view.caption)
        st.dataframe(view.legs, hide_index=True, width="stretch")
        st.metric("Max profit", money(view.best))
        st.metric("Max loss", money(view.worst))
        for finding in view.findings:  # our own words and numbers, never database text
            st.warning(f"Finding: {finding}.", icon="⚠️")
    c2.plotly_chart(view.figure, key="opp_chart_payoff")


def _persistence(row: pd.Series) -> None:
    symbol, strategy, scan = (
        str(row["symbol"]),
        str(row["strategy"]),
        row["scan_session_id"] or None,
    )
    hist = data.fetch(q.persistence, symbol=symbol, strategy=strategy, scan_session_id=scan)
    if hist.empty:
        return
    if hist["source"].iloc[0] == "scans":
        st.metric("Reappeared in consecutive recent scans", f"{q.streak(hist)} of {len(hist)}")
    else:
        st.caption(
            f"No scan link: EV and PoP across this symbol and strategy's last {len(hist)} snapshots."
        )
    ev, pop = hist["ev"].dropna(), hist["pop"].dropna()
    if len(ev) > 1:
        st.caption(
            f"EV drift {ev.iloc[0] - ev.iloc[-1]:+,.2f} · PoP drift "
            f"{(pop.iloc[0] - pop.iloc[-1]) if len(pop) > 1 else float('nan'):+.3f} (newest minus oldest)"
        )
    st.plotly_chart(
        derived(drift_figure, hist, symbol=symbol, strategy=strategy, scan=scan),
        key="opp_chart_drift",
    )


def drift_figure(hist: pd.DataFrame, **_identity: object) -> Any:
    """The drift chart of one persistence read (the keywords only name whose history it is, so that
    perf.derived keys on them too)."""
    return charts.drift(hist)


# ---- charts and export -----------------------------------------------------------------------

FACET_FILTER_FIELDS = {
    "symbol": "symbols",
    "strategy": "strategies",
    **{k: k for k in q.DATA_FACETS},
}


def filtered_charts(
    sample: pd.DataFrame, dte: pd.DataFrame, counts: dict[str, pd.DataFrame]
) -> None:
    """Risk/reward scatter (bounded sample), counts by strategy, symbol and data keys (`counts` by
    facet field), DTE distribution."""
    st.caption(f"Scatter of the best {len(sample):,} by EV (at most {q.SCATTER_LIMIT:,}).")
    st.plotly_chart(charts.risk_reward(sample), key="opp_chart_scatter")
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.counts_bar(counts["strategy"], "By strategy"), key="opp_chart_strategy")
    c2.plotly_chart(charts.counts_bar(counts["symbol"], "By symbol"), key="opp_chart_symbol")
    st.plotly_chart(charts.dte_histogram(dte), key="opp_chart_dte")
    cols = st.columns(len(q.DATA_FACETS))
    sampled = is_sampled(dte)
    for i, key in enumerate(q.DATA_FACETS):
        sampled = sampled or is_sampled(counts[key])
        cols[i].plotly_chart(
            charts.counts_bar(counts[key].fillna({"value": "(absent)"}), f"data.{key}"),
            key=f"opp_chart_{key}",
        )
    if sampled:
        st.caption(f"The bars count {q.SAMPLE_CAP:,} of the matching snapshots (more match).")
    freshness(sample, key="opp_charts")


def export_asked(flt: q.Filters, view: View) -> bool:
    """The export button; True while the filters and sort are those it was pressed for."""
    signature = _signature(flt, view.sort, view.descending)
    if st.button(
        "Prepare export of the filtered set", key="opp_export", icon=":material/download:"
    ):
        st.session_state["opp_export_sig"] = signature
    return bool(st.session_state.get("opp_export_sig") == signature)


def export_files(rows: pd.DataFrame) -> None:
    """CSV and JSON of the filtered set's `export_rows` (a warning when they stop at the limit)."""
    if len(rows) >= q.EXPORT_LIMIT:
        st.warning(
            f"The export holds the first {q.EXPORT_LIMIT:,} rows; narrow the filters for the rest."
        )
    export_buttons(rows, key="opp_export_files", filename="opportunities")
