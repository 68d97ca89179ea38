"""Plotly figures of the Health and Errors pages. Every database string is html-escaped before it
goes into a name, legend, tick label or hover text (plotly renders a subset of HTML)."""

from __future__ import annotations

import copy
import html
from datetime import tzinfo
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from perf import figures

STATE_COLOURS = {"HEALTHY": "#2e7d32", "DEGRADED": "#f9a825", "DOWN": "#c62828", "OTHER": "#6a1b9a"}
SEVERITY_COLOURS = {"HIGH": "#c62828", "MEDIUM": "#ef6c00", "LOW": "#1565c0"}
OTHER_COLOUR = "#757575"
LAYOUT = {"margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "hovermode": "closest"}


def esc(value: object) -> str:
    """A database value as safe text for plotly."""
    # quote=False: plotly decodes &lt; &gt; &amp; but not &quot;, and quotes are plain text in its labels
    return html.escape("(none)" if value is None else str(value), quote=False)


def _local(series: pd.Series, tz: tzinfo) -> pd.Series:
    return series.dt.tz_convert(tz) if isinstance(series.dtype, pd.DatetimeTZDtype) else series


def _wall_times(series: pd.Series, tz: tzinfo) -> list[str]:
    """Times as the display zone's wall-clock ISO text: what plotly writes for tz-aware times itself,
    as a plain list."""
    return list(_local(series, tz).dt.strftime("%Y-%m-%dT%H:%M:%S"))


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure from plain trace and layout dicts (perf.figures: not validated)."""
    return figures.figure(data, layout)


def _title(text: str) -> dict[str, str]:
    return {"text": text}


def history_heatmap(history: pd.DataFrame, *, tz: tzinfo, title: str) -> go.Figure:
    """One row per service, one cell per bucket, coloured by uptime (grey when no up/down check)."""
    if history.empty:
        return go.Figure()
    services = sorted(set(history["service"]))
    buckets = pd.DatetimeIndex(sorted(set(history["bucket"])))
    row_of = {s: i for i, s in enumerate(services)}
    col_of = {b: j for j, b in enumerate(buckets)}
    z = np.full((len(services), len(buckets)), np.nan)
    cells: dict[tuple[int, int], tuple[object, object]] = {}
    for s, b, u, c, w in zip(
        history["service"],
        history["bucket"],
        history["uptime"],
        history["checks"],
        history["worst"],
        strict=True,
    ):
        i, j = row_of[s], col_of[b]
        z[i, j] = np.nan if pd.isna(u) else float(u)
        cells[(i, j)] = (c, w)
    x = _local(pd.Series(buckets), tz)
    hover = []
    for i, s in enumerate(services):
        row = []
        for j, t in enumerate(x):
            c, w = cells.get((i, j), (None, None))
            u = z[i, j]
            row.append(
                f"{esc(s)}<br>{t:%Y-%m-%d %H:%M}<br>uptime {'–' if np.isnan(u) else f'{u:.1%}'}"
                f"<br>{0 if c is None or pd.isna(c) else int(c)} checks, "  # type: ignore[call-overload]
                f"worst {esc(w) if isinstance(w, str) else '–'}"
            )
        hover.append(row)
    trace = {
        "type": "heatmap",
        "z": z,
        "x": x,
        "y": [esc(s) for s in services],
        "zmin": 0,
        "zmax": 1,
        "xgap": 1,
        "ygap": 2,
        "colorscale": [
            [0, STATE_COLOURS["DOWN"]],
            [0.9, STATE_COLOURS["DEGRADED"]],
            [1, STATE_COLOURS["HEALTHY"]],
        ],
        "hovertext": hover,
        "hoverinfo": "text",
        "colorbar": {"title": _title("uptime"), "tickformat": ".0%"},
    }
    return _figure([trace], {"title": _title(title), "height": 120 + 28 * len(services), **LAYOUT})


def state_timeline(runs: pd.DataFrame, *, tz: tzinfo, title: str) -> go.Figure:
    """The state band: one bar per run of equal state, per service, on the time axis."""
    if runs.empty:
        return go.Figure()
    df = runs.copy()
    df["start_l"], df["end_l"] = _local(df["start"], tz), _local(df["end"], tz)
    traces = []
    for cat, g in df.groupby("category", sort=False):
        ms = (g["end"] - g["start"]).dt.total_seconds() * 1000
        hover = [
            f"{esc(s)}: {esc(st)}<br>{a:%Y-%m-%d %H:%M:%S} → {b:%Y-%m-%d %H:%M:%S}"
            + (" (carried in from before the window)" if c else "")
            for s, st, a, b, c in zip(
                g["service"], g["state"], g["start_l"], g["end_l"], g["carried_in"], strict=True
            )
        ]
        traces.append(
            {
                "type": "bar",
                "base": g["start_l"],
                "x": ms,
                "y": [esc(s) for s in g["service"]],
                "orientation": "h",
                "name": esc(cat),
                "marker": {"color": STATE_COLOURS.get(str(cat), OTHER_COLOUR)},
                "hovertext": hover,
                "hoverinfo": "text",
            }
        )
    return _figure(
        traces,
        {
            "title": _title(title),
            "barmode": "overlay",
            "xaxis": {"type": "date"},
            "height": 140 + 30 * df["service"].nunique(),
            **LAYOUT,
        },
    )


def latency_lines(lat: pd.DataFrame, *, tz: tzinfo, title: str) -> go.Figure:
    """p50/p95/p99 and average response time over time for one service."""
    if lat.empty:
        return go.Figure()
    x = _local(lat["bucket"], tz)
    traces = [
        {
            "type": "scatter",
            "x": x,
            "y": lat[col],
            "name": name,
            "mode": "lines+markers",
            "line": {"dash": dash},
            "hovertemplate": f"{name}: %{{y:.1f}} ms<br>%{{x}}<extra></extra>",
        }
        for col, name, dash in (
            ("p50", "p50", "solid"),
            ("p95", "p95", "dash"),
            ("p99", "p99", "dot"),
            ("avg_ms", "average", "dashdot"),
        )
    ]
    return _figure(
        traces, {"title": _title(title), "yaxis": {"title": _title("ms")}, "height": 320, **LAYOUT}
    )


def error_count_lines(lat: pd.DataFrame, *, tz: tzinfo, title: str) -> go.Figure:
    """error_count_24h (average and maximum of the parseable values) over time for one service."""
    if lat.empty:
        return go.Figure()
    x = _local(lat["bucket"], tz)
    traces = [
        {
            "type": "scatter",
            "x": x,
            "y": lat["errors_avg"],
            "name": "average",
            "mode": "lines+markers",
        },
        {
            "type": "scatter",
            "x": x,
            "y": lat["errors_max"],
            "name": "maximum",
            "mode": "lines",
            "line": {"dash": "dot"},
        },
    ]
    return _figure(traces, {"title": _title(title), "height": 260, **LAYOUT})


def severity_timeline(timeline: pd.DataFrame, *, tz: tzinfo, title: str) -> go.Figure:
    """Stacked error counts per severity per time bucket."""
    fig = go.Figure()
    if timeline.empty:
        return fig
    for sev, g in timeline.groupby("severity", sort=True):
        fig.add_trace(
            go.Bar(
                x=_local(g["bucket"], tz),
                y=g["count"],
                name=esc(sev),
                marker_color=SEVERITY_COLOURS.get(str(sev), OTHER_COLOUR),
                hovertemplate=f"{esc(sev)}: %{{y}}<br>%{{x}}<extra></extra>",
            )
        )
    fig.update_layout(title=title, barmode="stack", height=260, **LAYOUT)
    return fig


def severity_bars(
    timeline: pd.DataFrame,
    *,
    tz: tzinfo,
    bucket_s: int,
    since: pd.Timestamp,
    until: pd.Timestamp,
    title: str,
) -> go.Figure:
    """Stacked error counts per severity, each bar one bucket wide, over the whole window (also when
    only its newest errors were counted). Built from plain dicts and lists (no per-property validation,
    no array conversion when drawn)."""
    known = [s for s in SEVERITY_COLOURS if s in set(timeline["severity"])]
    others = sorted(set(timeline["severity"]) - set(known), key=str)
    traces = []
    for sev in known + others:
        g = timeline[timeline["severity"] == sev]
        # Bars start at their bucket and are one bucket wide (x is the bucket's start).
        traces.append(
            {
                "type": "bar",
                "x": _wall_times(g["bucket"], tz),
                "y": [int(n) for n in g["count"]],
                "name": esc(sev),
                "offset": 0,
                "width": bucket_s * 1000,
                "marker": {"color": SEVERITY_COLOURS.get(str(sev), OTHER_COLOUR)},
                "hovertemplate": f"{esc(sev)}: %{{y}}<br>from %{{x|%Y-%m-%d %H:%M}}<extra></extra>",
            }
        )
    span = [since.tz_convert(tz), until.tz_convert(tz)]
    # A date axis over the window and counts from 0, also when the window holds no error (no trace).
    return _figure(
        traces,
        {
            "title": _title(title),
            "barmode": "stack",
            "height": 260,
            "xaxis": {"range": span, "type": "date"},
            "yaxis": {"rangemode": "nonnegative"},
            "showlegend": True,
            **LAYOUT,
        },
    )


def _state_lines(runs: pd.DataFrame, *, tz: tzinfo) -> list[dict[str, Any]]:
    """The state band as thick line segments (bars would stack with the error bars)."""
    traces = []
    for cat, g in runs.groupby("category", sort=False):
        xs: list[object] = []
        ys: list[object] = []
        texts: list[object] = []
        for s, st, a, b in zip(
            g["service"], g["state"], _local(g["start"], tz), _local(g["end"], tz), strict=True
        ):
            label = f"{esc(s)}: {esc(st)}<br>{a:%Y-%m-%d %H:%M} → {b:%Y-%m-%d %H:%M}"
            xs += [a, b, None]
            ys += [esc(s), esc(s), None]
            texts += [label, label, None]
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "name": esc(cat),
                "hovertext": texts,
                "hoverinfo": "text",
                "line": {"width": 14, "color": STATE_COLOURS.get(str(cat), OTHER_COLOUR)},
            }
        )
    return traces


@figures.built_once
def _timeline_layout() -> dict[str, Any]:
    """The four stacked panels sharing one time axis (make_subplots validates what it builds)."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        row_heights=[0.3, 0.3, 0.25, 0.15],
        subplot_titles=(
            "Health state",
            "Errors per severity",
            "Scans: failed and stalled",
            "Config activations",
        ),
    )
    fig.update_yaxes(showticklabels=False, row=4, col=1)
    return fig.layout.to_plotly_json()


def _row(trace: dict[str, Any], row: int) -> dict[str, Any]:
    """A trace placed on panel `row` (1-4) of the service timeline."""
    return {
        **trace,
        "xaxis": "x" if row == 1 else f"x{row}",
        "yaxis": "y" if row == 1 else f"y{row}",
    }


def service_timeline(
    runs: pd.DataFrame,
    errors: pd.DataFrame,
    scans: pd.DataFrame,
    activations: pd.DataFrame,
    *,
    tz: tzinfo,
    since: pd.Timestamp,
    until: pd.Timestamp,
    title: str,
) -> go.Figure:
    """One shared time axis: health state band, errors per severity, failed and stalled scans,
    config activations. Box-select a range on any panel to zoom them all."""
    traces = [_row(t, 1) for t in _state_lines(runs, tz=tz)]
    # Errors per severity: the same bars as severity_timeline (stacked counts per bucket).
    for sev, g in errors.groupby("severity", sort=True) if not errors.empty else ():
        traces.append(
            _row(
                {
                    "type": "bar",
                    "x": _local(g["bucket"], tz),
                    "y": g["count"],
                    "name": esc(sev),
                    "marker": {"color": SEVERITY_COLOURS.get(str(sev), OTHER_COLOUR)},
                    "hovertemplate": f"{esc(sev)}: %{{y}}<br>%{{x}}<extra></extra>",
                },
                2,
            )
        )
    if not scans.empty:
        x = _local(scans["bucket"], tz)
        traces.append(
            _row(
                {
                    "type": "bar",
                    "x": x,
                    "y": scans["failed"],
                    "name": "failed scans",
                    "marker": {"color": STATE_COLOURS["DOWN"]},
                    "hovertemplate": "failed: %{y}<br>%{x}<extra></extra>",
                },
                3,
            )
        )
        traces.append(
            _row(
                {
                    "type": "bar",
                    "x": x,
                    "y": scans["stalled"],
                    "name": "stalled scans",
                    "marker": {"color": STATE_COLOURS["DEGRADED"]},
                    "hovertemplate": "stalled: %{y}<br>%{x}<extra></extra>",
                },
                3,
            )
        )
    if not activations.empty:
        hover = [
            f"{esc(n if n is not None else c)}: {esc(w)}<br>by {esc(b)}"
            for n, c, w, b in zip(
                activations["name"],
                activations["config_id"],
                activations["what"],
                activations["by"],
                strict=True,
            )
        ]
        traces.append(
            _row(
                {
                    "type": "scatter",
                    "x": _local(activations["at"], tz),
                    "y": [1] * len(activations),
                    "mode": "markers",
                    "marker": {"symbol": "triangle-up", "size": 12, "color": "#1565c0"},
                    "name": "activations",
                    "hovertext": hover,
                    "hoverinfo": "text",
                },
                4,
            )
        )
    layout = copy.deepcopy(_timeline_layout())
    # Every panel's axis is a date axis over the window, as wall-clock text in the display zone (what
    # the traces carry). Plotly draws no axis for a panel without a trace, and the bottom one (config
    # activations) carries the time ticks all panels share: each panel gets an invisible trace over
    # the window, so the time axis is drawn also when the window has no activation, error or check.
    window = [f"{t.tz_convert(tz):%Y-%m-%dT%H:%M:%S}" for t in (since, until)]
    for axis in ("xaxis", "xaxis2", "xaxis3", "xaxis4"):
        layout[axis].update({"type": "date", "range": window})
    layout["yaxis"]["type"] = "category"  # service names, also when there are none (no 0..4 scale)
    layout["xaxis4"]["automargin"] = True  # room for the two-line date ticks under the last panel
    for axis in ("yaxis2", "yaxis3"):  # counts: from 0, also when there are none
        layout[axis]["rangemode"] = "nonnegative"
    traces += [
        _row(
            {
                "type": "scatter",
                "x": window,
                "y": [None, None],
                "mode": "markers",
                "showlegend": False,
                "hoverinfo": "skip",
                "marker": {"opacity": 0},
            },
            row,
        )
        for row in (1, 2, 3, 4)
    ]
    layout.update(
        {
            "title": _title(title),
            "barmode": "stack",
            "height": 640,
            "dragmode": "select",
            "showlegend": True,
            **LAYOUT,
        }
    )
    return _figure(traces, layout)
