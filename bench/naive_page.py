"""The naive reference page: what many Streamlit dashboards do, for the ratio naive / ours.

It reads the whole table with `SELECT *` into pandas (cached with st.cache_data, as such pages
usually are), then filters the last 24 hours, aggregates and draws there. The table comes from
the `BENCH_NAIVE_TABLE` environment variable; the database from `DATABASE_URL`.
Not part of the app: only the benchmark runs it.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st
from sqlalchemy import create_engine

# table -> (time column, column to group by)
SHAPES: dict[str, tuple[str, str]] = {
    "system_health_status": ("check_timestamp", "service_name"),
    "critical_error_logs": ("created_at", "error_type"),
    "scan_sessions": ("started_at", "strategy"),
    "opportunity_snapshots": ("created_at", "strategy_type"),
}


@st.cache_data(ttl=60)
def load(url: str, table: str) -> pd.DataFrame:
    engine = create_engine(url)
    try:
        return pd.read_sql(f"SELECT * FROM {table}", engine)  # noqa: S608 - table from a fixed list
    finally:
        engine.dispose()


def page() -> None:
    table = os.environ.get("BENCH_NAIVE_TABLE", "opportunity_snapshots")
    time_col, group_col = SHAPES[table]
    st.title(f"Naive {table}")
    df = load(os.environ["DATABASE_URL"], table)
    df[time_col] = pd.to_datetime(df[time_col], utc=True, format="mixed")
    since = datetime.now(UTC) - timedelta(hours=24)
    view = df[df[time_col] >= since]
    if table == "opportunity_snapshots":
        active = df[
            (df["is_active"] == 1)
            & (pd.to_datetime(df["expires_at"], utc=True, format="mixed") > datetime.now(UTC))
        ]
        st.metric("Active", len(active))
    st.metric("Rows in window", len(view))
    counts = view.groupby(group_col).size().reset_index(name="n")
    st.dataframe(counts)
    hourly = view.groupby(view[time_col].dt.floor("h")).size().reset_index(name="n")
    st.plotly_chart(px.bar(hourly, x=time_col, y="n"))
    st.dataframe(view.sort_values(time_col, ascending=False).head(100).astype(str))


def measure(url: str, table: str, runs: int) -> dict[str, Any]:
    """Cold and warm script times of this page via AppTest (called by bench.worker)."""
    from streamlit.testing.v1 import AppTest

    os.environ["BENCH_NAIVE_TABLE"] = table
    at = AppTest.from_file(__file__, default_timeout=600)
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(runs):
        st.cache_data.clear()
        t0 = time.perf_counter()
        at.run()
        cold.append(time.perf_counter() - t0)
    for _ in range(runs):
        t0 = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t0)
    problems = [str(e.value)[:160] for e in at.exception]
    from bench.common import median

    return {
        "open": {
            "label": f"naive {table}",
            "cold_s": median(cold),
            "warm_s": median(warm),
            "cold_all": [round(x, 3) for x in cold],
            "warm_all": [round(x, 3) for x in warm],
            "problems": problems,
        }
    }


if __name__ == "__main__":
    page()
