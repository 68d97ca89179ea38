"""Sandbox sections: a config's test runs (table, trend chart, detail, comparison of two runs)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from db import data
from db.queries import sandbox as q
from domain.jsondiff import canonical
from ui.kit.diff import diff
from ui.kit.frame import Frame
from ui.kit.widgets import export_buttons, freshness, local_time, show_json, to_tz

METRIC_COLUMNS = list(q.METRICS)


def trend_figure(runs: pd.DataFrame, tz: tzinfo) -> go.Figure:
    """Opportunities (bars) and average EV (line) per run over time; numbers only, no database text."""
    ordered = runs.sort_values("created_at")
    when = ordered["created_at"].dt.tz_convert(tz)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(x=when, y=ordered["opportunities_found"].astype("float"), name="Opportunities"),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=when, y=ordered["avg_expected_value"], name="Average EV", mode="lines+markers"
        ),
        secondary_y=True,
    )
    fig.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="Test runs over time",
        legend={"orientation": "h"},
    )
    fig.update_yaxes(title_text="opportunities", secondary_y=False)
    fig.update_yaxes(title_text="average EV ($)", secondary_y=True)
    return fig


def runs(f: Frame, row: dict[str, Any]) -> None:
    """The run table, the chart, one run's detail, and two runs side by side."""
    table = data.fetch(q.config_runs, config_id=row["id"])
    freshness(table, key="sandbox_runs", tz=f.tz)
    if table.empty:
        st.info(
            "This config has no test runs (the backend keeps successful runs of the last 30 days).",
            icon="ℹ️",
        )
        return
    st.dataframe(
        to_tz(table, f.tz)[
            ["created_at", "execution_time_ms", "opportunities_found", *METRIC_COLUMNS, "shape"]
        ],
        hide_index=True,
    )
    export_buttons(table, key="sandbox_runs_export", filename="test_runs")
    st.plotly_chart(trend_figure(table, f.tz), key="sandbox_runs_chart")
    labels = {
        str(r.id): f"{local_time(r.created_at, f.tz)} · {r.opportunities_found} opps · {r.id}"
        for r in table.itertuples()
    }
    ids = list(labels)
    picked = st.selectbox("Run", ids, format_func=labels.__getitem__, key="sandbox_run_pick")
    if picked is not None:
        _detail(picked)
    if len(ids) >= 2:
        _compare(table, ids, labels)


def _detail(run_id: str) -> None:
    detail = data.fetch(q.run_detail, run_id=run_id)
    if detail.empty:
        st.warning("That run no longer exists.", icon="⚠️")
        return
    rec = detail.iloc[0]
    c1, c2 = st.columns(2)
    with c1:
        st.caption("Parameters")
        show_json(rec["test_parameters"])
    with c2:
        st.caption("Results")
        show_json(rec["test_results"])
    opps = (
        rec["test_results"].get("opportunities") if isinstance(rec["test_results"], dict) else None
    )
    if isinstance(opps, list) and opps:
        st.caption(f"Opportunities of this run: {len(opps)}")
        st.dataframe(opportunity_table(opps), hide_index=True)


def opportunity_table(opps: list[Any]) -> pd.DataFrame:
    """A run's opportunities as a table; nested values (legs) as JSON text (made without recursion:
    a stored value may nest as deep as the parser allowed, deeper than json.dumps goes in a page)."""
    rows = [
        {k: (canonical(v) if isinstance(v, dict | list) else v) for k, v in o.items()}
        if isinstance(o, dict)
        else {"value": canonical(o)}
        for o in opps
    ]
    frame = pd.DataFrame(rows)
    return frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})


def _compare(table: pd.DataFrame, ids: list[str], labels: dict[str, str]) -> None:
    st.subheader("Compare two runs")
    c1, c2 = st.columns(2)
    a = c1.selectbox("Run a", ids, index=1, format_func=labels.__getitem__, key="sandbox_run_a")
    b = c2.selectbox("Run b", ids, index=0, format_func=labels.__getitem__, key="sandbox_run_b")
    da, db_ = data.fetch(q.run_detail, run_id=a), data.fetch(q.run_detail, run_id=b)
    if da.empty or db_.empty:
        return
    params = diff(da.iloc[0]["test_parameters"], db_.iloc[0]["test_parameters"])
    st.caption("Changed parameters" if not params.empty else "Both runs used the same parameters.")
    if not params.empty:
        st.dataframe(params, hide_index=True)
    by_id = table.set_index("id")
    side = pd.DataFrame({"metric": ["opportunities_found", "execution_time_ms", *METRIC_COLUMNS]})
    side["a"] = [by_id.loc[a, m] for m in side["metric"]]
    side["b"] = [by_id.loc[b, m] for m in side["metric"]]
    st.dataframe(side.astype({"a": "Float64", "b": "Float64"}), hide_index=True)
