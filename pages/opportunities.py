"""Opportunities: a screener over the opportunity snapshots (filters, sort and page in the URL)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from db import data
from db.queries import opportunities as q
from ui.kit import urlstate
from ui.kit.frame import future_notice, rounded_now
from ui.kit.page import start
from ui.kit.widgets import guard
from ui.sections import opportunities as ui

f = start("Opportunities", tables=("opportunity_snapshots",))

now = rounded_now()  # one "now" for the banner and the filters of this run
with guard("Freshness"):
    ui.freshness_banner(data.fetch(q.freshness, now=now).iloc[0], now=pd.Timestamp(now))

# --- filters from the URL ------------------------------------------------------------------------
scan = urlstate.text("scan", max_len=urlstate.MAX_ID_LEN) or None
show_expired, show_inactive = ui.scan_bar(scan)
base = q.Filters(
    now=now,
    since=None if scan else f.since,
    until=None if scan else f.until,
    show_expired=show_expired,
    show_inactive=show_inactive,
    scan=scan,
)
if not scan:
    with guard("Snapshots dated in the future"):
        future_notice(
            data.fetch(q.future_count, **base.kwargs()),
            noun="snapshot",
            page="pages/opportunities.py",
        )
with st.expander("Filters", expanded=True):
    # the options: counts without selections
    picked, sampled = ui.facets(data.fetch(q.all_facet_counts, **base.kwargs()))
    ranges = ui.ranges(data.fetch(q.metric_bounds, **base.kwargs()).iloc[0])
    if sampled:
        st.caption(ui.sampled_note())
flt = replace(base, **picked, **ranges)
view = ui.sort_bar(flt)
with guard("Filter funnel"):
    ui.funnel(data.fetch(q.funnel, **flt.kwargs()))


# --- the screener and the selected row: a fragment, so selecting a row reruns only this ----------
@st.fragment
def _table_and_detail(flt: q.Filters, view: ui.View) -> None:
    selected = urlstate.integer("sel", 0, lo=0, hi=2**62) or None  # read again: a panel rerun
    with guard("Screener"):
        kw = flt.kwargs()
        page = data.fetch(
            q.screener_page,
            sort=view.sort,
            descending=view.descending,
            after=view.after,
            before=view.before,
            **kw,
        )
        total = data.fetch(q.filtered_count, **kw)
        ranked = (
            data.fetch(q.sort_candidates, sort=view.sort, **kw)
            if view.sort in q.RATIO_SORTS
            else None
        )
        selected = ui.screener(
            page, total=total, ranked=ranked, flt=flt, view=view, f=f, selected=selected
        )
    if selected is None:
        st.caption("Select a row to see its legs, payoff and history.")
        return
    with guard("Snapshot detail"):
        ui.detail(data.fetch(q.snapshot_detail, snapshot_id=selected), selected=selected, f=f)


def _counts(flt: q.Filters, field: str) -> pd.DataFrame:
    """Facet counts over the filtered set (the field's own selection applied); without any
    selection these are the filter widgets' counts (the same cache entry)."""
    if not any(getattr(flt, name) for name in ui.FACET_FILTER_FIELDS.values()):
        counts = data.fetch(q.all_facet_counts, **flt.kwargs())
        return counts[counts["field"] == field].drop(columns="field").reset_index(drop=True)
    own = bool(getattr(flt, ui.FACET_FILTER_FIELDS[field]))
    return data.fetch(
        q.facet_counts, field=field, **({"own_filter": True} if own else {}), **flt.kwargs()
    )


# --- charts of the filtered set: read and drawn only while open (opening reruns only this) -------
@st.fragment
def _charts(flt: q.Filters) -> None:
    panel = st.expander(
        "Charts of the filtered set", expanded=False, key="opp_charts", on_change="rerun"
    )
    if not panel.open:
        return
    with guard("Charts"), panel:
        sample = data.fetch(q.risk_reward_sample, **flt.kwargs())
        dte = data.fetch(q.dte_histogram, **flt.kwargs())
        counts = {field: _counts(flt, field) for field in ("strategy", "symbol", *q.DATA_FACETS)}
        ui.filtered_charts(sample, dte, counts)


_table_and_detail(flt, view)
_charts(flt)
with guard("Export"):  # read only when asked for
    if ui.export_asked(flt, view):
        ui.export_files(
            data.fetch_uncached(
                q.export_rows, sort=view.sort, descending=view.descending, **flt.kwargs()
            )
        )
