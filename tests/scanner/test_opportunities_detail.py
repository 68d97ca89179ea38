"""Opportunities row detail: one read per selected snapshot (metrics column vs data on three engines),
figures built once per read and never shown for another snapshot, the read time said in the panel."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.queries import opportunities as q
from tests.scanner.conftest import snapshot
from tests.scanner.test_pages import WINDOW, _seed_sqlite, open_page, texts

# a put credit spread from short/long strikes only: sell 100, buy 90 for 3.00 -> max loss 700, BE 97
SPREAD = {"premium": 3.0, "short_strike": 100, "long_strike": 90}


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None) -> Iterator[None]:
    yield


# ---- queries, three engines -------------------------------------------------------------------


def test_detail_holds_each_metric_as_column_and_as_data(opp_engine) -> None:
    with Session(opp_engine) as s:
        stale = q.snapshot_detail(s, snapshot_id=4)  # column EV 50, data EV 80
        fallback = q.snapshot_detail(s, snapshot_id=3)  # column EV NULL, data EV 120
        missing = q.snapshot_detail(s, snapshot_id=999)
        text_premium = q.snapshot_detail(s, snapshot_id=12).iloc[0]  # column NULL, data "1.25"
        no_pop = q.snapshot_detail(s, snapshot_id=5).iloc[
            0
        ]  # PoP neither in the column nor in data
        separate = q.data_values(s, snapshot_id=4)
    assert stale.loc[0, "column_ev"] == 50 and stale.loc[0, "data_ev"] == 80
    assert q.detail_metric(stale.iloc[0], "ev") == 50  # the column wins, as in the screener
    assert pd.isna(fallback.loc[0, "column_ev"]) and fallback.loc[0, "data_ev"] == 120
    assert (
        q.detail_metric(fallback.iloc[0], "ev") == 120
    )  # the column is empty: the value from data
    assert fallback.loc[0, "symbol"] == "MSFT" and fallback.loc[0, "data"]["bias"] == "BEARISH"
    assert (
        q.detail_metric(text_premium, "premium") == 1.25 and q.detail_metric(no_pop, "pop") is None
    )
    vals = q.metric_values(stale).set_index("metric")
    assert (vals.loc["ev", "column"], vals.loc["ev", "data"]) == (50, 80)
    assert list(vals.index) == list(q.METRICS)
    pd.testing.assert_frame_equal(q.metric_values(stale), separate)
    assert missing.empty and list(missing.columns) == list(q.DETAIL_COLUMNS)
    assert q.metric_values(missing).empty and list(q.metric_values(missing).columns) == [
        "metric",
        "column",
        "data",
    ]


# ---- the page ---------------------------------------------------------------------------------


def _seed_with_spread(url: str) -> str:
    _seed_sqlite(url)
    eng = make_engine(url, read_timeout=False)
    with Session(eng) as s:
        s.add(snapshot(14, "QQQ", "PUT_SPREAD", ev=55, premium=3.0, data=SPREAD, scan="fast-1"))
        s.commit()
    eng.dispose()
    return url


def _payoff_spec(at) -> dict:  # type: ignore[no-untyped-def]
    chart = next(
        c
        for c in at.get("plotly_chart")
        if json.loads(c.proto.spec)["layout"]["title"]["text"] == "Payoff at expiry"
    )
    return json.loads(chart.proto.spec)


def _select(at, row_id: int) -> None:  # type: ignore[no-untyped-def]
    grid = next(d for d in at.dataframe if "marker" in d.value.columns)
    position = list(grid.value["id"]).index(row_id)
    at.session_state[grid.key] = {"selection": {"rows": [position], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_each_selected_snapshot_shows_its_own_payoff(monkeypatch, sqlite_url) -> None:
    url = _seed_with_spread(sqlite_url)
    at = open_page(monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", sel="13")
    condor = _payoff_spec(at)
    assert [m.value for m in at.metric if m.label == "Max loss"] == ["$300.00"]
    assert "Break-evens: 93.00, 107.00" in texts(at)
    _select(at, 14)
    assert at.query_params["sel"] == "14" and "Snapshot #14" in texts(at)
    assert [m.value for m in at.metric if m.label == "Max loss"] == ["$700.00"]
    shown = texts(at)
    assert "assumed a put credit spread" in shown and "Break-evens: 97.00" in shown
    spread = _payoff_spec(at)
    assert [a["text"] for a in spread["layout"]["annotations"]] == ["BE 97.00", "spot 100.00"]
    _select(at, 13)  # back to the condor: its own chart again, as first drawn
    assert _payoff_spec(at) == condor
    at.run()  # a rerun with everything cached draws the same
    assert _payoff_spec(at) == condor and [m.value for m in at.metric if m.label == "Max loss"] == [
        "$300.00"
    ]


def test_snapshot_without_legs_has_no_payoff_chart(monkeypatch, sqlite_url) -> None:
    url = _seed_with_spread(sqlite_url)
    at = open_page(monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", sel="6")
    assert "No payoff chart: legs not recorded in this snapshot" in texts(at)
    assert not [m for m in at.metric if m.label == "Max loss"]
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Payoff at expiry" not in titles


def test_detail_says_when_it_was_read_and_shares_the_screeners_refresh(
    monkeypatch, sqlite_url
) -> None:
    url = _seed_with_spread(sqlite_url)
    at = open_page(monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", sel="13")
    assert any(c.value.startswith("Detail data as of ") for c in at.caption)
    refresh = [b.key for b in at.button if b.key.endswith("_refresh")]
    assert refresh == ["opp_table_refresh"]  # one button reads the screener and the detail again
    at.button(key="opp_table_refresh").click().run()
    assert not at.exception and "Snapshot #13" in texts(at)


def test_snapshot_history_is_the_newest_of_the_symbol_and_strategy(engine, monkeypatch) -> None:
    # five AAPL/theta snapshots at different times among others; no scan: the snapshot history is used
    rows = [
        snapshot(100 + i, "AAPL", "theta_harvesting", ev=float(i), created_s=1000 - 100 * i)
        for i in range(5)
    ]
    rows += [
        snapshot(200 + i, "MSFT", "theta_harvesting", ev=1.0, created_s=50 + i) for i in range(4)
    ]
    rows += [snapshot(300, "AAPL", "quick_scalp", ev=9.0, created_s=10)]
    with Session(engine) as s:
        s.add_all(rows)
        s.commit()
        newest_first = [4.0, 3.0, 2.0]
        for searched_first in (
            10_000,
            6,
            2,
        ):  # found among the newest rows; or not: all rows searched
            monkeypatch.setattr(q, "HISTORY_ROWS", searched_first)
            hist = q.persistence(
                s, symbol="AAPL", strategy="theta_harvesting", scan_session_id=None, limit=3
            )
            assert list(hist["ev"]) == newest_first and set(hist["source"]) == {"snapshots"}, (
                searched_first
            )
            assert hist["started_at"].is_monotonic_decreasing
        assert q.persistence(s, symbol="AAPL", strategy="nope", scan_session_id=None).empty
