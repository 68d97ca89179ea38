"""Sections of the Scans page: facets and shortcuts (in the URL), the run table with derived
STALLED, per-strategy statistics and charts, one scan's detail and a parameter comparison.

The page reads and these draw what they are given; the scan detail reads its own small extras
(errors during the run, the compared run's parameters), inside the page's fragment."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from db import data
from db.queries import meta
from db.queries import scans as q
from db.queries.common import COUNT_CAP
from perf.derived import derived
from ui.charts import scanner as charts
from ui.kit import urlstate
from ui.kit.format import clipped, human_age, plain, position_key
from ui.kit.frame import FUTURE, Frame, future_notice, rounded_now
from ui.kit.nav import nav_link
from ui.kit.widgets import (
    export_buttons,
    fmt_count,
    freshness,
    guard,
    show_json,
    show_text,
    to_tz,
)

STATE_COLOURS = {
    "RUNNING": charts.BLUE,
    "STALLED": charts.AMBER,
    "COMPLETED": charts.GREEN,
    "FAILED": charts.RED,
    "CANCELLED": charts.GREY,
}
INCONSISTENCIES = (
    "completed before started",
    "started in the future",
    "running but has a completion time",
    "completed without a completion time",
)
# The per-strategy panel's views (tab labels, also the URL values of `sview`).
VIEWS = ("Table", "Success and duration", "Opportunities over time", "Outcome grid")


@dataclass(frozen=True)
class ScanView:
    """The run-list filters from the URL, and the stall thresholds they are judged with."""

    states: tuple[str, ...]
    strategies: tuple[str, ...]
    failed_only: bool
    running_now: bool
    thresholds: q.Thresholds | None = None

    def kwargs(self, f: Frame) -> dict[str, Any]:
        """Keyword arguments of the run-list queries (running and stalled scans are listed whatever the
        window, except in the window of rows dated in the future)."""
        return {
            "since": f.since,
            "until": f.until,
            "now": rounded_now(),
            "states": self.states,
            "strategies": self.strategies,
            "failed_only": self.failed_only,
            "running_now": self.running_now,
            "unfinished": f.range_key != FUTURE,
            "thresholds": self.thresholds,
        }


def running_for(seconds: float | None) -> str:
    """How long an unfinished scan has been going: '45 s', '12 min', '5 h 12 min', '3 d 4 h'
    ('in 2 h 0 min' for a start dated in the future)."""
    if seconds is None or seconds != seconds:
        return "–"
    prefix, left = ("in " if seconds < 0 else ""), int(abs(seconds))
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes = left // 60
    if days:
        return f"{prefix}{days} d {hours} h"
    if hours:
        return f"{prefix}{hours} h {minutes} min"
    return f"{prefix}{minutes} min" if minutes else f"{prefix}{left} s"


def toggles() -> tuple[bool, bool]:
    """The "Failed only" and "Running now" shortcuts (in the URL) and what STALLED means."""
    # Rows are horizontal containers: one block each, where st.columns adds a block per column.
    bar = st.container(horizontal=True, vertical_alignment="center")
    failed_only = bar.toggle("Failed only", value=urlstate.flag("failed"), key="scans_failed")
    running_now = bar.toggle(
        "Running now",
        value=urlstate.flag("running"),
        key="scans_running",
        help="RUNNING and STALLED scans, however long ago they started",
    )
    urlstate.put(failed=failed_only, running=running_now)
    bar.caption(
        f"STALLED = running longer than the larger of {q.STALL_FLOOR_S // 60} min and "
        f"{q.STALL_FACTOR:g} x the strategy's p95 duration (its last {q.STALL_SAMPLE} completed runs "
        f"of the last {q.STALL_LOOKBACK_S // 86400} days)."
    )
    return failed_only, running_now


def facet(
    counts: pd.DataFrame, param: str, label: str, col: Any, extra: tuple[str, ...] = ()
) -> tuple[tuple[str, ...], bool]:
    """A facet's multiselect (in the URL) labelled with its `facet_counts` (N+ when capped); the
    picked values and whether the counts were capped."""
    capped = bool(counts.attrs.get("capped", False))
    counts = counts[counts["value"].notna()]
    by_value = dict(zip(counts["value"], counts["count"], strict=True))
    at_least = {
        v
        for v, low in zip(
            counts["value"], counts.get("at_least", [False] * len(counts)), strict=True
        )
        if low
    }
    options = list(dict.fromkeys([*by_value, *extra]))
    chosen = urlstate.many(param, allowed=options)

    def shown(v: str) -> str:
        plus = "+" if v in at_least or (capped and v not in by_value) else ""
        return f"{v} ({by_value.get(v, 0):,}{plus})"

    picked = col.multiselect(
        label, options, default=chosen, key=f"scans_{param}", format_func=shown
    )
    urlstate.put(**{param: picked})
    return tuple(picked), capped


def capped_note() -> None:
    """Said under the facets when their counts stop at COUNT_CAP."""
    st.caption(f"Counts are of the newest {COUNT_CAP:,} matching runs: N+ means at least N.")


def keep_position(v: ScanView, f: Frame) -> None:
    """Another filter or window than in the last run goes back to the first page."""
    signature = repr((v.states, v.strategies, v.failed_only, v.running_now, f.range_key))
    if st.session_state.get("scans_sig") not in (None, signature):
        urlstate.remove("after", "before")
    st.session_state["scans_sig"] = signature


def notices(out: pd.Series, v: ScanView, f: Frame) -> None:
    """Scans the window's list holds from outside it (running or stalled ones started earlier) and
    scans dated in the future that it leaves out (with a link to them), from an `outside_window` row."""
    future_notice(int(out["future"]), noun="scan", page="pages/scans.py")
    running, stalled = int(out["running"]), int(out["stalled"])
    if f.range_key == FUTURE or v.running_now or running + stalled == 0:
        return
    n = running + stalled
    what = f"{n:,} scan{'s' if n != 1 else ''} started outside this window {'are' if n != 1 else 'is'} still "
    what += (
        f"running ({stalled:,} stalled)"
        if stalled and running
        else "stalled"
        if stalled
        else "running"
    )
    text = (
        f"{what}; the oldest has been running for {running_for(out['oldest_elapsed_s'])}. They are listed "
        "with this window's runs (by start time); “Running now” lists only running and stalled scans."
    )
    if stalled:
        st.warning(text, icon="⏳")
    else:
        st.info(text, icon="ℹ️")


def url_many(param: str) -> tuple[str, ...]:
    """A facet's values: its widget's in this run (already changed), else the URL's."""
    return tuple(st.session_state.get(f"scans_{param}") or urlstate.many(param))


def _cursor(param: str) -> str | None:
    raw = urlstate.text(param)
    if not raw:
        return None
    try:
        q.parse_cursor(raw)
    except (ValueError, TypeError):
        st.warning(
            "Ignored the page position in the URL: it is not valid. Showing the first page.",
            icon="⚠️",
        )
        urlstate.remove(param)
        return None
    return raw


def cursors() -> tuple[str | None, str | None]:
    """The page position from the URL (`after` or `before`; a malformed one is dropped, said)."""
    after, before = _cursor("after"), _cursor("before")
    if after and before:
        urlstate.remove("before")
        before = None
    return after, before


# ---- run table and detail (one fragment) -----------------------------------------------------

RUN_TABLE = [
    "id",
    "strategy",
    "state",
    "started_at",
    "completed_at",
    "duration_s",
    "running_for",
    "opportunities_found",
    "symbols",
    "inconsistency",
    "status",
]
RUN_COLUMN_CONFIG = {
    "state": st.column_config.MultiselectColumn(
        "state", options=list(STATE_COLOURS), color=list(STATE_COLOURS.values())
    ),
    "inconsistency": st.column_config.MultiselectColumn(
        "inconsistency", options=[f"⚠ {v}" for v in INCONSISTENCIES], color=charts.AMBER
    ),
    "duration_s": st.column_config.NumberColumn("duration (s)", format="%.2f"),
    "opportunities_found": st.column_config.NumberColumn("found"),
}


def run_frame(df: pd.DataFrame, *, tz: tzinfo) -> pd.DataFrame:
    """Runs as shown: times in the user's zone, how long unfinished runs have been going."""
    out = to_tz(df, tz)
    unfinished = df["state"].isin(["RUNNING", "STALLED"])
    out["running_for"] = [
        running_for(e) if u else "" for e, u in zip(df["elapsed_s"], unfinished, strict=True)
    ]
    out["inconsistency"] = out["inconsistency"].map(lambda v: f"⚠ {v}" if v else "")
    return plain(out[RUN_TABLE])


def _run_table(df: pd.DataFrame, *, tz: tzinfo) -> pd.DataFrame:
    return run_frame(df, tz=tz)


def _go(**cursor: str | None) -> None:
    urlstate.put(**cursor)


def run_table(
    rows: pd.DataFrame,
    *,
    total: int,
    has_prev: bool,
    has_next: bool,
    position: tuple[str | None, str | None],
    v: ScanView,
    f: Frame,
    selected: str | None,
) -> str | None:
    """A page of the run list (newest first), count, pager and selection by id; the selected id."""
    st.caption(
        f"{fmt_count(total, COUNT_CAP)} scan{'' if total == 1 else 's'} · {len(rows)} on this page · "
        "newest first"
    )
    key = "scans_table_" + position_key(
        *position, v.states, v.strategies, v.failed_only, v.running_now
    )
    event = st.dataframe(
        derived(_run_table, rows, table=True, tz=f.tz),
        hide_index=True,
        width="stretch",
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        column_config=RUN_COLUMN_CONFIG,
    )
    picked = event.selection.rows if event and hasattr(event, "selection") else []
    if picked and picked[0] < len(rows) and rows.iloc[picked[0]]["id"] != selected:
        selected = str(rows.iloc[picked[0]]["id"])
        urlstate.put(scan=selected)
        urlstate.remove("cmp")
    _pager(rows, has_prev=has_prev, has_next=has_next)
    freshness(rows, key="scans_table", tz=f.tz)
    return selected


def _pager(rows: pd.DataFrame, *, has_prev: bool, has_next: bool) -> None:
    first, last = (rows.iloc[0], rows.iloc[-1]) if len(rows) else (None, None)
    pager = st.container(horizontal=True)
    pager.button(
        "First page",
        key="scans_first",
        disabled=not has_prev,
        icon=":material/first_page:",
        on_click=_go,
        kwargs={"after": None, "before": None},
    )
    pager.button(
        "Previous",
        key="scans_prev",
        disabled=not has_prev or first is None,
        icon=":material/chevron_left:",
        on_click=_go,
        kwargs={
            "after": None,
            "before": q.make_cursor(first["started_at"], first["id"])
            if first is not None
            else None,
        },
    )
    pager.button(
        "Next",
        key="scans_next",
        disabled=not has_next or last is None,
        icon=":material/chevron_right:",
        on_click=_go,
        kwargs={
            "before": None,
            "after": q.make_cursor(last["started_at"], last["id"]) if last is not None else None,
        },
    )


# ---- per strategy ----------------------------------------------------------------------------


def strategy_panel(stats: pd.DataFrame, f: Frame, *, timeline: Callable[[], pd.DataFrame]) -> None:
    """Success rate, duration p50/p95 and opportunities per scan per strategy (`strategy_stats`) as
    a table; the charts in their own views, built only when shown (`timeline` reads the
    per-bucket outcomes, only for a view that shows them)."""
    if stats.empty:
        st.caption("No scans in this time range.")
        return
    if stats.attrs.get("capped"):
        st.caption(
            f"The range holds more than {q.AGG_CAP:,} runs: these figures cover its newest "
            f"{q.AGG_CAP:,}."
        )
    if "scans_sview" not in st.session_state:  # a new session or a shared link: the URL's view
        st.session_state["scans_sview"] = urlstate.choice("sview", VIEWS, VIEWS[0])
    tabs = st.tabs(list(VIEWS), key="scans_sview", on_change="rerun")
    active = st.session_state.get("scans_sview", VIEWS[0])
    urlstate.put(sview=active if active != VIEWS[0] else None)
    with tabs[0]:
        if tabs[0].open is not False:
            st.dataframe(
                stats,
                hide_index=True,
                width="stretch",
                column_config={"success_rate": st.column_config.NumberColumn(format="percent")},
            )
    with tabs[1]:
        if tabs[1].open:
            st.plotly_chart(derived(figure, stats, kind="bars", tz=f.tz), key="scans_chart_bars")
    for i, kind in ((2, "time"), (3, "grid")):
        with tabs[i]:
            if tabs[i].open:
                st.plotly_chart(
                    derived(figure, timeline(), kind=kind, tz=f.tz), key=f"scans_chart_{kind}"
                )
    if tabs[3].open:
        st.caption(
            f"Grid cells are {human_age(q.bucket_seconds(f.since, f.until))} wide, coloured by "
            "their worst outcome: failed, stalled (amber), running, cancelled, completed."
        )
    freshness(stats, key="scans_stats", tz=f.tz)


def figure(df: pd.DataFrame, *, kind: str, tz: tzinfo) -> go.Figure:
    """One per-strategy chart of a fetched result, times in `tz`. Pages build it through `derived`
    (shared by reruns, never changed after)."""
    shown = plain(to_tz(df, tz))
    if kind == "bars":
        return charts.strategy_bars(shown)
    if kind == "time":
        return charts.opportunities_over_time(shown)
    return charts.outcome_grid(shown, [q.grid_outcome(r) for r in shown.to_dict("records")])


# ---- one scan --------------------------------------------------------------------------------


def detail(ov: q.ScanOverview, selected: str, f: Frame) -> None:
    """The scan of a `scan_overview` read: times, parameters and symbols, error message,
    opportunities, errors logged during it, a comparison with another run."""
    d = ov.detail
    if d.empty:
        st.info("No scan with the id from the URL (it may have been cleaned up).", icon="ℹ️")
        return
    row = d.iloc[0]
    st.subheader("Scan detail")
    st.text(f"{row['strategy']} · {row['status']} · {row['id']}")
    if row["state"] == "STALLED":
        st.warning(
            f"Stalled: running for {running_for(row['elapsed_s'])}, over the "
            f"{running_for(row['threshold_s'])} threshold.",
            icon="⏳",
        )
    if row["inconsistency"]:
        st.warning(f"Inconsistent times: {row['inconsistency']}.", icon="⚠️")
    c1, c2 = st.columns(2)
    with c1:
        st.caption("scan_parameters")
        show_json(row["scan_parameters"])
    with c2:
        st.caption(f"symbols_scanned ({row['symbols'] if pd.notna(row['symbols']) else '–'})")
        show_json(row["symbols_scanned"])
    if row["error_message"] is None:
        st.caption("error_message: (none)")
    else:
        st.caption("error_message")
        show_text(row["error_message"])
    _opportunities(ov, selected, f)
    _errors(selected, f)
    _compare(ov, row, f)
    freshness(ov, key="scans_detail", tz=f.tz)


def _opportunities(ov: q.ScanOverview, scan_id: str, f: Frame) -> None:
    st.markdown("**Opportunities it produced**")
    opps, n = ov.opportunities, ov.opportunity_count
    st.caption(
        f"{fmt_count(n, COUNT_CAP)} snapshots link to this scan"
        + (f" (best {q.DETAIL_LIMIT} shown)" if n > len(opps) else "")
    )
    if not opps.empty:
        st.dataframe(
            derived(_opportunity_table, ov, table=True, tz=f.tz), hide_index=True, width="stretch"
        )
        nav_link(
            "pages/opportunities.py",
            "Open them in Opportunities",
            ":material/trending_up:",
            {"scan": scan_id, "expired": "1", "inactive": "1"},
        )


def _opportunity_table(ov: q.ScanOverview, *, tz: tzinfo) -> pd.DataFrame:
    return to_tz(ov.opportunities, tz)


def _errors(scan_id: str, f: Frame) -> None:
    st.markdown("**Critical errors logged while it ran**")
    if "critical_error_logs" not in data.fetch(meta.existing_tables):
        st.info(meta.table_missing_message("critical_error_logs"), icon="ℹ️")
        return
    with guard("Errors during the scan"):
        errs = data.fetch(q.scan_errors, scan_id=scan_id, now=rounded_now())
        if errs.empty:
            st.caption("None between its start and end from its strategy or the scanner services.")
            return
        st.dataframe(
            derived(_errors_table, errs, table=True, tz=f.tz), hide_index=True, width="stretch"
        )


def _errors_table(errs: pd.DataFrame, *, tz: tzinfo) -> pd.DataFrame:
    shown = errs.assign(
        details=errs["details"].map(lambda x: json.dumps(x, default=str) if x is not None else None)
    )
    return to_tz(clipped(shown, ("error_type", "service", "severity", "message", "details")), tz)


def _compare(ov: q.ScanOverview, row: pd.Series, f: Frame) -> None:
    st.markdown("**Compare scan_parameters with another run**")
    ids, label = derived(_compare_choices, ov, exclude=str(row["id"]), tz=f.tz)
    if not ids:
        st.caption("No other run of this strategy to compare with.")
        return
    compare = urlstate.text("cmp", max_len=urlstate.MAX_ID_LEN) or None
    wanted = compare if compare in ids else ids[0]
    c1, c2 = st.columns([3, 1])
    other = c1.selectbox(
        "Other run (same strategy)",
        ids,
        index=ids.index(wanted),
        key="scans_cmp",
        format_func=lambda i: label.get(i, i),
    )
    all_keys = c2.toggle("Show all keys", value=urlstate.flag("allkeys"), key="scans_allkeys")
    urlstate.put(cmp=other if other != ids[0] else None, allkeys=all_keys)
    params = data.fetch(q.scan_parameters, scan_ids=(str(row["id"]), other))
    diff = derived(_diff_table, params, a=str(row["id"]), b=other, changed_only=not all_keys)
    if diff is None:
        return
    if len(diff) == 0:
        st.caption("Identical parameters and symbols.")
    else:
        st.dataframe(diff, hide_index=True, width="stretch")


def _compare_choices(
    ov: q.ScanOverview, *, exclude: str, tz: tzinfo
) -> tuple[list[str], dict[str, str]]:
    """The other runs to compare with (ids, newest first) and their picker labels."""
    others = ov.recent[ov.recent["id"] != exclude]
    ids = [str(i) for i in others["id"]]
    started = others["started_at"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M:%S")
    return ids, {
        i: f"{t} · {s} · {i[:8]}" for i, t, s in zip(ids, started, others["status"], strict=True)
    }


def _diff_table(params: pd.DataFrame, *, a: str, b: str, changed_only: bool) -> pd.DataFrame | None:
    """The key-by-key comparison of two runs' parameters and symbols (None when one is gone)."""
    by_id = params.set_index("id")
    if a not in by_id.index or b not in by_id.index:
        return None
    pa_, pb = by_id.loc[a], by_id.loc[b]
    diff = q.param_diff(
        {"parameters": pa_["scan_parameters"], "symbols_scanned": pa_["symbols_scanned"]},
        {"parameters": pb["scan_parameters"], "symbols_scanned": pb["symbols_scanned"]},
        changed_only=changed_only,
    )
    return clipped(diff, ("key", "a", "b")).rename(columns={"a": "this run", "b": "other run"})


def export_asked(v: ScanView, f: Frame) -> bool:
    """The export button; True while the filters and window are those it was pressed for."""
    signature = repr((v.states, v.strategies, v.failed_only, v.running_now, f.range_key))
    if st.button(
        "Prepare export of the filtered runs", key="scans_export", icon=":material/download:"
    ):
        st.session_state["scans_export_sig"] = signature
    return bool(st.session_state.get("scans_export_sig") == signature)


def export_files(read: Callable[[], pd.DataFrame]) -> None:
    """CSV and JSON of the whole filtered run list; `read` runs only when a file is asked for."""
    export_buttons(read, key="scans_export_files", filename="scan_sessions")
