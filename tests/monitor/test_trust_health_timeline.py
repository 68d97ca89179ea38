"""Issue 12: the Health service timeline keeps a date axis over the window in every case (no config
activation, no checks at all, one check), on the figure itself and on the page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from db.queries import health as hq
from db.queries import timeline as tl
from tests.monitor.apptest_support import no_exceptions, run_page
from tests.monitor.conftest import add_checks

SINCE = pd.Timestamp("2026-03-01 12:00", tz="UTC")
UNTIL = pd.Timestamp("2026-03-02 12:00", tz="UTC")
AXES = ("xaxis", "xaxis2", "xaxis3", "xaxis4")
EMPTY_ERRORS = pd.DataFrame(
    {"bucket": pd.Series([], dtype="datetime64[us, UTC]"), "severity": [], "count": []}
)


def frames(*, checks: int, activations: int) -> tuple[pd.DataFrame, ...]:
    runs = hq.frame(
        [
            {
                "service": "yfinance",
                "state": "HEALTHY",
                "category": "HEALTHY",
                "start": SINCE + pd.Timedelta(hours=i),
                "end": SINCE + pd.Timedelta(hours=i + 1),
                "duration_s": 3600.0,
                "carried_in": False,
            }
            for i in range(checks)
        ],
        hq.RUN_COLUMNS,
    )
    scans = hq.frame([], tl.SCAN_COLUMNS)
    acts = hq.frame(
        [
            {
                "at": SINCE + pd.Timedelta(hours=2),
                "config_id": "c1",
                "name": "n",
                "what": "activated",
                "by": "me",
            }
            for _ in range(activations)
        ],
        tl.ACTIVATION_COLUMNS,
    )
    return runs, EMPTY_ERRORS, scans, acts


def axis_window(fig, tz) -> list[tuple[object, list[pd.Timestamp]]]:  # type: ignore[no-untyped-def]
    out = []
    for name in AXES:
        axis = fig.layout[name]
        out.append((axis.type, [pd.Timestamp(v).tz_localize(None) for v in axis.range]))
    return out


@pytest.mark.parametrize(("checks", "activations"), [(0, 0), (1, 0), (5, 0), (5, 1), (0, 1)])
@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_every_panel_has_a_date_axis_over_the_window(
    checks: int, activations: int, tz: str
) -> None:
    from ui.charts.monitor import service_timeline

    zone = ZoneInfo(tz)
    fig = service_timeline(
        *frames(checks=checks, activations=activations), tz=zone, since=SINCE, until=UNTIL, title=""
    )
    window = [SINCE.tz_convert(zone).tz_localize(None), UNTIL.tz_convert(zone).tz_localize(None)]
    assert axis_window(fig, zone) == [("date", window)] * 4
    # the shared axis is the bottom one: its ticks are the only ones shown, and they are dates
    assert fig.layout.xaxis4.showticklabels is not False
    # the figure as the browser gets it: ranges are wall-clock date text, not numbers
    sent = fig.to_plotly_json()["layout"]
    for name in AXES:
        assert sent[name]["type"] == "date"
        assert all(
            isinstance(v, str) and v.startswith(("2026-03-01", "2026-03-02"))
            for v in sent[name]["range"]
        )


def test_every_panel_has_a_trace_over_the_window() -> None:
    """Plotly draws no axis for a panel without a trace: each panel holds one spanning the window."""
    from ui.charts.monitor import service_timeline

    fig = service_timeline(
        *frames(checks=0, activations=0), tz=ZoneInfo("UTC"), since=SINCE, until=UNTIL, title=""
    )
    spans = {t.xaxis: list(t.x) for t in fig.data}
    assert spans == {
        a: ["2026-03-01T12:00:00", "2026-03-02T12:00:00"] for a in ("x", "x2", "x3", "x4")
    }
    # the state panel lists services: with none, no numeric 0..4 scale either
    assert fig.layout.yaxis.type == "category"


@pytest.mark.parametrize("activations", [0, 1])
def test_the_drawn_chart_has_date_ticks_over_the_window(
    tmp_path: Path, browser: Any, activations: int
) -> None:
    """The figure as Chromium draws it: the shared bottom axis shows the window's dates."""
    from ui.charts.monitor import service_timeline

    fig = service_timeline(
        *frames(checks=0, activations=activations),
        tz=ZoneInfo("UTC"),
        since=SINCE,
        until=UNTIL,
        title="",
    )
    html = tmp_path / "timeline.html"
    fig.write_html(str(html), include_plotlyjs=True)
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    try:
        page.goto(html.as_uri())
        page.wait_for_selector("g.x4tick text", state="attached", timeout=20_000)
        ticks = list(
            page.evaluate(
                "() => Array.from(document.querySelectorAll('g.x4tick text'))"
                ".map(t => t.textContent)"
            )
        )
    finally:
        page.close()
    assert ticks[0].startswith("12:00") and "Mar 1, 2026" in ticks[0]
    assert "00:00Mar 2, 2026" in ticks and ticks[-1] == "12:00"


@pytest.fixture
def _caches(fresh_caches: None) -> Iterator[None]:
    yield


@pytest.mark.usefixtures("_caches")
@pytest.mark.parametrize("checks", [0, 1])
def test_the_timeline_view_draws_a_date_axis_without_activations(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, checks: int
) -> None:
    from db.engine import make_engine

    eng = make_engine(sqlite_url, read_timeout=False)
    now = datetime.now(UTC).replace(tzinfo=None)
    if checks:
        add_checks(
            eng,
            [
                {
                    "service_name": "yfinance",
                    "status": "DOWN",
                    "check_timestamp": now - timedelta(hours=2),
                }
            ],
        )
    eng.dispose()
    at = run_page(monkeypatch, sqlite_url, "health", hview="timeline")
    no_exceptions(at)
    charts = [c for c in at.get("plotly_chart")]
    assert charts, "no chart drawn"
    import json

    layout = json.loads(charts[0].proto.spec)["layout"]
    for name in AXES:
        assert layout[name]["type"] == "date"
        lo, hi = (pd.Timestamp(v) for v in layout[name]["range"])
        assert timedelta(hours=23, minutes=59) <= hi - lo <= timedelta(hours=24, minutes=1)
