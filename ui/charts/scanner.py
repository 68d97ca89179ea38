"""Plotly figures of the Scans and Opportunities pages. Every database string that reaches a
figure (names, legends, hover texts, tick labels) is HTML-escaped first: plotly renders a subset
of HTML in them."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from perf import figures

AMBER = "#f0a202"
RED = "#d62728"
GREEN = "#2ca02c"
BLUE = "#1f77b4"
GREY = "#9e9e9e"
OUTCOME_COLOURS = {
    "COMPLETED": GREEN,
    "RUNNING": BLUE,
    "CANCELLED": GREY,
    "STALLED": AMBER,
    "FAILED": RED,
}
HEIGHT = 320


def esc(value: Any) -> str:
    """A value as plotly-safe text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(none)"
    return html.escape(str(value), quote=True)


def escs(values: Iterable[Any]) -> list[str]:
    return [esc(v) for v in values]


def _layout(fig: go.Figure, title: str, **kw: Any) -> go.Figure:
    fig.update_layout(
        title=title,
        height=kw.pop("height", HEIGHT),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        **kw,
    )
    return fig


def _plain_figure(
    traces: list[dict[str, Any]], layout: dict[str, Any], title: str, height: int = HEIGHT
) -> go.Figure:
    """A figure from plain trace and layout dicts (perf.figures: not validated) with the common
    title, height and margins of `_layout`."""
    full = {
        **layout,
        "title": {"text": title},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    }
    return figures.figure(traces, full)


# ---- opportunities ---------------------------------------------------------------------------


def risk_reward(df: pd.DataFrame) -> go.Figure:
    """Max loss vs premium, coloured by PoP, sized by EV (non-positive EV drawn smallest)."""
    # an unlimited EV (+-Infinity, stored by the backend) has no size on this scale: drawn smallest
    ev = df["ev"].astype(float).where(lambda v: v.abs() < math.inf).fillna(0).clip(lower=0)
    size = 6 + 24 * (ev / ev.max()) if len(ev) and ev.max() > 0 else pd.Series(8, index=df.index)
    hover = [
        f"#{i} {esc(sym)} · {esc(strat)}"
        for i, sym, strat in zip(df["id"], df["symbol"], df["strategy"], strict=True)
    ]
    fig = go.Figure(
        go.Scattergl(
            x=df["max_loss"],
            y=df["premium"],
            mode="markers",
            text=hover,
            marker={
                "color": df["pop"],
                "colorscale": "Viridis",
                "size": size,
                "showscale": True,
                "colorbar": {"title": "PoP"},
                "cmin": 0,
                "cmax": 1,
            },
            customdata=df[["pop", "ev"]].to_numpy(),
            hovertemplate="%{text}<br>max loss %{x:,.2f}<br>premium %{y:,.2f}<br>PoP %{customdata[0]:.2f}"
            "<br>EV %{customdata[1]:,.2f}<extra></extra>",
        )
    )
    return _layout(fig, "Risk / reward", xaxis_title="max loss ($)", yaxis_title="premium")


def counts_bar(df: pd.DataFrame, title: str) -> go.Figure:
    """Horizontal bars of value -> count (values escaped)."""
    labels = escs(df["value"])
    fig = go.Figure(
        go.Bar(
            x=df["count"],
            y=labels,
            orientation="h",
            marker_color=BLUE,
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, title, height=max(HEIGHT, 22 * len(df) + 60))


def dte_histogram(df: pd.DataFrame) -> go.Figure:
    """Filtered snapshots per day to expiration."""
    fig = go.Figure(
        go.Bar(
            x=df["dte"],
            y=df["count"],
            marker_color=BLUE,
            hovertemplate="DTE %{x}: %{y:,}<extra></extra>",
        )
    )
    return _layout(fig, "Days to expiration", xaxis_title="DTE", yaxis_title="snapshots")


def payoff(
    xs: list[float], ys: list[float], *, break_evens: list[float], spot: float | None
) -> go.Figure:
    """P/L at expiry over underlying prices, with break-evens and the spot price marked. Plain trace
    and layout dicts (perf.figures); the lines and marks as layout shapes."""
    shapes: list[dict[str, Any]] = [_rule("y", 0, line_color=GREY, line_width=1)]
    annotations: list[dict[str, Any]] = []
    marks = [(be, f"BE {be:,.2f}", "dot", AMBER) for be in break_evens]
    marks += [(spot, f"spot {spot:,.2f}", "dash", GREY)] if spot else []
    for x, label, dash, colour in marks:
        shapes.append(_rule("x", x, line_dash=dash, line_color=colour))
        annotations.append(
            {
                "x": x,
                "xref": "x",
                "y": 1,
                "yref": "y domain",
                "text": label,
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
            }
        )
    trace = {
        "type": "scatter",
        "x": xs,
        "y": ys,
        "mode": "lines",
        "line": {"color": BLUE},
        "name": "P/L at expiry",
        "hovertemplate": "price %{x:,.2f}: %{y:,.2f} $<extra></extra>",
    }
    layout = {
        "shapes": shapes,
        "annotations": annotations,
        "xaxis": {"title": {"text": "underlying at expiry"}},
        "yaxis": {"title": {"text": "P/L ($)"}},
    }
    return _plain_figure([trace], layout, "Payoff at expiry")


def _rule(axis: str, at: float, **line: Any) -> dict[str, Any]:
    """A full-width horizontal (axis 'y') or full-height vertical (axis 'x') line at `at`."""
    style = {
        "color": line.get("line_color"),
        "width": line.get("line_width", 2),
        "dash": line.get("line_dash"),
    }
    across = "y" if axis == "x" else "x"
    return {
        "type": "line",
        f"{axis}0": at,
        f"{axis}1": at,
        f"{axis}ref": axis,
        f"{across}0": 0,
        f"{across}1": 1,
        f"{across}ref": f"{across} domain",
        "line": {k: v for k, v in style.items() if v is not None},
    }


def drift(hist: pd.DataFrame) -> go.Figure:
    """EV and PoP of one symbol+strategy across recent scans (absent scans left as gaps), PoP on a
    second y axis. Plain trace dicts (perf.figures)."""
    traces = [
        {
            "type": "scatter",
            "x": hist["started_at"],
            "y": hist["ev"],
            "name": "EV",
            "mode": "lines+markers",
            "line": {"color": BLUE},
        },
        {
            "type": "scatter",
            "x": hist["started_at"],
            "y": hist["pop"],
            "name": "PoP",
            "mode": "lines+markers",
            "line": {"color": GREEN},
            "yaxis": "y2",
        },
    ]
    layout = {
        "yaxis": {"title": {"text": "EV ($)"}},
        "yaxis2": {"title": {"text": "PoP"}, "overlaying": "y", "side": "right"},
    }
    return _plain_figure(traces, layout, "EV and PoP drift")


# ---- scans -----------------------------------------------------------------------------------


def strategy_bars(stats: pd.DataFrame) -> go.Figure:
    """Per strategy: success rate (failures annotated in red), duration p50/p95, opportunities per scan."""
    names = escs(stats["strategy"])
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=("Success rate", "Duration p50 / p95 (s)", "Opportunities per scan"),
    )
    colours = [RED if (f or 0) > 0 else GREEN for f in stats["failed"].fillna(0)]
    fig.add_trace(
        go.Bar(
            x=names,
            y=stats["success_rate"],
            marker_color=colours,
            name="success rate",
            text=[f"{int(f)} failed" if f else "" for f in stats["failed"].fillna(0)],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=stats["p50_s"],
            name="p50",
            marker_color=BLUE,
            hovertemplate="%{x} p50: %{y:,.2f} s<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=stats["p95_s"],
            name="p95",
            marker_color=AMBER,
            hovertemplate="%{x} p95: %{y:,.2f} s<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=stats["opportunities_per_scan"],
            name="per scan",
            marker_color=GREEN,
            hovertemplate="%{x}: %{y:,.2f}<extra></extra>",
        ),
        row=1,
        col=3,
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.15], row=1, col=1)
    return _layout(fig, "", showlegend=False, height=HEIGHT + 40)


def opportunities_over_time(tl: pd.DataFrame) -> go.Figure:
    """Opportunities per completed scan per strategy over time; buckets with failures marked with a red x."""
    fig = go.Figure()
    for strategy, part in tl.groupby("strategy", sort=True):
        name = esc(strategy)
        per_scan = part["opportunities"] / part["runs"].where(part["runs"] > 0)
        fig.add_trace(
            go.Scatter(
                x=part["bucket"],
                y=per_scan,
                mode="lines+markers",
                name=name,
                hovertemplate=f"{name}<br>%{{x}}<br>%{{y:,.2f}} per scan<extra></extra>",
            )
        )
        failed = part[part["failed"].fillna(0) > 0]
        if not failed.empty:
            fig.add_trace(
                go.Scatter(
                    x=failed["bucket"],
                    y=(failed["opportunities"] / failed["runs"]).fillna(0),
                    mode="markers",
                    marker={"symbol": "x", "size": 12, "color": RED},
                    name=f"{name}: failures",
                    customdata=failed["failed"],
                    hovertemplate=f"{name}<br>%{{x}}<br>%{{customdata}} failed<extra></extra>",
                )
            )
    return _layout(fig, "Opportunities per scan over time (x = failures)", yaxis_title="per scan")


def outcome_grid(tl: pd.DataFrame, outcomes: list[str]) -> go.Figure:
    """Strategies x time buckets, each cell coloured by its worst outcome (Airflow's grid view)."""
    order = list(OUTCOME_COLOURS)
    codes = {s: i for i, s in enumerate(order)}
    df = tl.assign(
        outcome=outcomes, code=[codes.get(o, 0) for o in outcomes], name=escs(tl["strategy"])
    )
    z = df.pivot_table(index="name", columns="bucket", values="code", aggfunc="max")
    text = df.assign(
        label=[
            f"{n}<br>{r} runs, {f} failed, {s} stalled<br>{o}"
            for n, r, f, s, o in zip(
                df["name"], df["runs"], df["failed"], df["stalled"], df["outcome"], strict=True
            )
        ]
    ).pivot_table(index="name", columns="bucket", values="label", aggfunc="first")
    n = len(order)
    scale = []
    for i, state in enumerate(order):
        scale += [[i / n, OUTCOME_COLOURS[state]], [(i + 1) / n, OUTCOME_COLOURS[state]]]
    fig = go.Figure(
        go.Heatmap(
            z=z.to_numpy(),
            x=list(z.columns),
            y=list(z.index),
            zmin=-0.5,
            zmax=n - 0.5,
            colorscale=scale,
            text=text.reindex_like(z).to_numpy(),
            xgap=2,
            ygap=2,
            hovertemplate="%{text}<extra></extra>",
            colorbar={"tickvals": list(range(n)), "ticktext": order},
        )
    )
    fig.update_yaxes(type="category")
    return _layout(fig, "Outcome grid", height=max(HEIGHT, 30 * len(z.index) + 100))
