"""Database strings reach the scanner's plotly figures only HTML-escaped (names, ticks, hover texts)."""

from __future__ import annotations

import json

import pandas as pd

from db.queries import scans as q
from ui.charts import scanner as charts

EVIL = '<a href="http://evil">x</a><b>'


def _raw(fig) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(fig.to_plotly_json(), default=str)


def _clean(fig) -> None:  # type: ignore[no-untyped-def]
    raw = _raw(fig)
    assert "<a href" not in raw and "<b>" not in raw
    assert "&lt;a href=" in raw


def test_counts_bar_escapes_values() -> None:
    _clean(charts.counts_bar(pd.DataFrame({"value": [EVIL, "SPY"], "count": [3, 1]}), "By symbol"))


def test_risk_reward_escapes_hover() -> None:
    df = pd.DataFrame(
        {
            "id": [1],
            "symbol": [EVIL],
            "strategy": ["x"],
            "max_loss": [500.0],
            "premium": [2.0],
            "pop": [0.7],
            "ev": [100.0],
        }
    )
    _clean(charts.risk_reward(df))


def test_scan_charts_escape_strategy_names() -> None:
    stats = pd.DataFrame(
        {
            "strategy": [EVIL],
            "runs": [3],
            "completed": [2],
            "failed": [1],
            "success_rate": [2 / 3],
            "p50_s": [1.0],
            "p95_s": [2.0],
            "opportunities_per_scan": [1.5],
        }
    )
    _clean(charts.strategy_bars(stats))
    tl = pd.DataFrame(
        {
            "strategy": [EVIL, EVIL],
            "bucket": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
            "runs": [2, 1],
            "completed": [1, 1],
            "failed": [1, 0],
            "cancelled": [0, 0],
            "running": [0, 0],
            "stalled": [0, 0],
            "avg_duration_s": [1.0, 2.0],
            "opportunities": [2, 1],
        }
    )
    _clean(charts.opportunities_over_time(tl))
    grid = charts.outcome_grid(tl, [q.grid_outcome(r) for r in tl.to_dict("records")])
    _clean(grid)
    assert grid.data[0].z.tolist()[0][0] == list(charts.OUTCOME_COLOURS).index("FAILED")


def test_payoff_marks_zero_break_evens_and_spot() -> None:
    fig = charts.payoff(
        [90.0, 100.0, 110.0], [-100.0, 200.0, -100.0], break_evens=[93.0, 107.0], spot=100.0
    )
    zero = fig.layout.shapes[0]
    assert (zero.y0, zero.y1, zero.xref, zero.x0, zero.x1) == (
        0,
        0,
        "x domain",
        0,
        1,
    )  # across the plot
    lines = [(s.x0, s.y0, s.line.dash) for s in fig.layout.shapes[1:]]
    assert (93.0, 0, "dot") in lines and (107.0, 0, "dot") in lines and (100.0, 0, "dash") in lines
    assert [a.text for a in fig.layout.annotations] == ["BE 93.00", "BE 107.00", "spot 100.00"]
    assert len(charts.payoff([1.0, 2.0], [0.0, 1.0], break_evens=[], spot=None).layout.shapes) == 1


def test_drift_draws_ev_and_pop_on_their_own_axes_with_gaps_kept() -> None:
    hist = pd.DataFrame(
        {
            "started_at": pd.date_range("2026-01-01", periods=4, freq="h", tz="UTC"),
            "ev": [10.0, None, 12.5, 11.0],
            "pop": [0.61, 0.63, None, 0.6],
        }
    )
    fig = charts.drift(hist)
    ev, pop = fig.data
    assert (ev.name, pop.name) == ("EV", "PoP")
    assert (
        pop.yaxis == "y2"
        and fig.layout.yaxis2.overlaying == "y"
        and fig.layout.yaxis2.side == "right"
    )
    assert fig.layout.yaxis.title.text == "EV ($)" and fig.layout.yaxis2.title.text == "PoP"
    assert pd.isna(list(ev.y)[1]) and pd.isna(list(pop.y)[2])  # a scan without it stays a gap
