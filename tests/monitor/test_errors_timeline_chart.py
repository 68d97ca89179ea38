"""The Errors page's severity timeline: bars at the display zone's wall-clock time, counts as they
are, database text escaped, the whole window on the axis."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.io as pio

from ui.charts import monitor as charts

BERLIN = ZoneInfo("Europe/Berlin")


def figure_json() -> dict[str, Any]:
    timeline = pd.DataFrame(
        {
            "bucket": pd.to_datetime(
                ["2026-03-01 10:00", "2026-03-01 11:00", "2026-03-01 10:00"], utc=True
            ),
            "severity": ["HIGH", "HIGH", "<b>odd</b>"],
            "count": pd.array([3, 4, 5], dtype="Int64"),
        }
    )
    fig = charts.severity_bars(
        timeline,
        tz=BERLIN,
        bucket_s=3600,
        since=pd.Timestamp("2026-03-01 00:00", tz="UTC"),
        until=pd.Timestamp("2026-03-02 00:00", tz="UTC"),
        title="Errors",
    )
    return json.loads(pio.to_json(fig.to_dict(), validate=False))


def test_bars_sit_at_the_display_zones_wall_clock_with_their_counts() -> None:
    high = next(t for t in figure_json()["data"] if t["name"] == "HIGH")
    assert high["x"] == [
        "2026-03-01T11:00:00",
        "2026-03-01T12:00:00",
    ]  # 10:00 and 11:00 UTC in Berlin
    assert high["y"] == [3, 4] and high["width"] == 3_600_000


def test_severity_names_from_the_database_are_escaped() -> None:
    names = [t["name"] for t in figure_json()["data"]]
    assert "&lt;b&gt;odd&lt;/b&gt;" in names and "<b>odd</b>" not in names


def test_the_axis_spans_the_whole_window() -> None:
    span = figure_json()["layout"]["xaxis"]["range"]
    assert span[0].startswith("2026-03-01T01:00:00") and span[1].startswith("2026-03-02T01:00:00")
