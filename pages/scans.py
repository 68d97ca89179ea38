"""Scans: scan runs per strategy (status, duration, stalls, failures), one scan's detail, comparisons."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from db import data
from db.queries import scans as q
from ui.kit import urlstate
from ui.kit.frame import FUTURE, rounded_now
from ui.kit.page import start
from ui.kit.widgets import guard
from ui.sections import scans as ui

f = start("Scans", tables=("scan_sessions",))

# --- filters: shortcuts and facets with counts, in the URL ---------------------------------------
failed_only, running_now = ui.toggles()
th: q.Thresholds | None = None  # None: each query reads its own
with guard("Stall thresholds"):
    th = data.fetch(q.stall_thresholds, now=rounded_now())
base = ui.ScanView((), (), failed_only, running_now, th).kwargs(f)


def _counts(field: str, label: str, **kw: object) -> pd.DataFrame:
    counts = pd.DataFrame({"value": [], "count": []})
    with guard(f"{label} counts"):  # a slow count must not take the page down with it
        counts = data.fetch(q.facet_counts, field=field, **kw)
    return counts


row = st.container(horizontal=True)
state_counts = _counts("state", "Status", **{**base, "strategies": ui.url_many("strat")})
states, capped_a = ui.facet(state_counts, "state", "Status", row, q.STATES)
strategy_counts = _counts("strategy", "Strategy", **{**base, "states": states})
strategies, capped_b = ui.facet(strategy_counts, "strat", "Strategy", row)
if capped_a or capped_b:
    ui.capped_note()
view = ui.ScanView(states, strategies, failed_only, running_now, th)
ui.keep_position(view, f)

# --- scans outside the window, export -------------------------------------------------------------
with guard("Scans outside the window"):
    kw = view.kwargs(f)
    out = data.fetch(
        q.outside_window, since=f.since, until=f.until, now=kw["now"], thresholds=th
    ).iloc[0]
    ui.notices(out, view, f)
with guard("Export"):  # the whole filtered list, read only when a file is asked for
    if ui.export_asked(view, f):
        ui.export_files(lambda: data.fetch_uncached(q.export_runs, **view.kwargs(f)))


# --- the run table and one scan: a fragment, so selecting a run or paging reruns only this --------
def _page(after: str | None, before: str | None) -> tuple[pd.DataFrame, int, bool, bool]:
    """The rows of the page at the URL's position, the list's capped count, and whether earlier /
    later pages exist."""
    kw = view.kwargs(f)
    if before:
        df = data.fetch(q.run_list, before=before, **kw)
        if len(df) > q.PAGE_SIZE:  # an earlier page exists: the extra row is the first
            return df.tail(q.PAGE_SIZE), int(df.attrs["total"]), True, True
        urlstate.remove("before")  # back at the start: show the full first page
    df = data.fetch(q.run_list, after=None if before else after, **kw)
    has_prev = bool(after and not before)
    return df.head(q.PAGE_SIZE), int(df.attrs["total"]), has_prev, len(df) > q.PAGE_SIZE


@st.fragment
def _runs_and_detail() -> None:
    selected = urlstate.text("scan", max_len=urlstate.MAX_ID_LEN) or None
    with guard("Scan runs"):
        after, before = ui.cursors()
        rows, total, has_prev, has_next = _page(after, before)
        selected = ui.run_table(
            rows,
            total=total,
            has_prev=has_prev,
            has_next=has_next,
            position=(after, before),
            v=view,
            f=f,
            selected=selected,
        )
    if selected is None:
        st.caption(
            "Select a run to see its parameters, error, opportunities and the errors logged during it."
        )
        return
    with guard("Scan detail"):
        ov = data.fetch(q.scan_overview, scan_id=selected, now=rounded_now(), thresholds=th)
        ui.detail(ov, selected, f)


# --- per strategy: a fragment, so switching its view reruns only this ------------------------------
@st.fragment
def _per_strategy() -> None:
    with guard("Per strategy"):
        st.subheader(f"Per strategy, {f.label}")
        now, unfinished = rounded_now(), f.range_key != FUTURE
        window = {"since": f.since, "until": f.until, "now": now, "thresholds": th}
        stats = data.fetch(q.strategy_stats, **window, unfinished=unfinished)
        bucket = q.bucket_seconds(f.since, f.until)
        ui.strategy_panel(
            stats, f, timeline=lambda: data.fetch(q.strategy_timeline, **window, bucket_s=bucket)
        )


_runs_and_detail()
_per_strategy()
