"""Opportunities at scale: capped counts and samples (what a user sees when more rows match than
are counted), the planner hint on three engines, charts read only when their panel is open."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from db.queries import opportunities as q
from db.sqlfuncs import likely
from tests.scanner.conftest import NOW
from tests.scanner.test_pages import WINDOW, _seed_sqlite, open_page, texts
from ui.sections import opportunities as uo

VISIBLE = 10  # hand-made rows that pass the default filters (conftest: 6 expired, 7 inactive)


def base(**kw: object) -> dict[str, object]:
    return q.Filters(now=NOW, **kw).kwargs()  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None) -> Iterator[None]:
    yield


# ---- queries, three engines -------------------------------------------------------------------


def test_facet_counts_over_a_capped_sample_say_so(opp_engine, monkeypatch) -> None:
    with Session(opp_engine) as s:
        whole = q.facet_counts(s, field="symbol", **base())
        assert set(whole["sampled"]) == {VISIBLE} and int(whole["count"].sum()) == VISIBLE
        monkeypatch.setattr(q, "SAMPLE_CAP", 4)
        capped = q.facet_counts(s, field="symbol", **base())
    assert set(capped["sampled"]) == {4} and int(capped["count"].sum()) == 4
    exact = dict(zip(whole["value"], whole["count"], strict=True))
    assert all(
        n <= exact[v] for v, n in zip(capped["value"], capped["count"], strict=True)
    )  # lower bounds


@pytest.mark.parametrize("cap", [10_000, 4])
def test_all_facet_counts_in_one_statement_match_each_facet(opp_engine, monkeypatch, cap) -> None:
    monkeypatch.setattr(q, "SAMPLE_CAP", cap)
    with Session(opp_engine) as s:
        together = q.all_facet_counts(s, **base())
        for field in q.FACET_FIELDS:
            one = q.facet_counts(s, field=field, **base())
            mine = together[together["field"] == field]
            if cap > VISIBLE:  # a capped sample may hold other rows than another statement's
                assert dict(zip(mine["value"], mine["count"], strict=True)) == dict(
                    zip(one["value"], one["count"], strict=True)
                ), field
            assert int(mine["count"].sum()) == min(cap, VISIBLE)
            assert set(mine["sampled"]) == set(one["sampled"]) == {min(cap, VISIBLE)}
    assert list(together["field"].unique()) == list(q.FACET_FIELDS)


def test_slider_bounds_from_a_capped_sample_still_span_every_row(opp_engine, monkeypatch) -> None:
    monkeypatch.setattr(q, "SAMPLE_CAP", 2)
    with Session(opp_engine) as s:
        bounds = q.metric_bounds(s, **base()).iloc[0]
    assert bounds["sampled"] == 2
    # widened to the columns' extremes over the whole table (EV -20 .. 300, the inactive row's)
    assert bounds["ev_min"] <= -20 and bounds["ev_max"] >= 300
    assert bounds["dte_min"] <= 5 and bounds["dte_max"] >= 45


def test_capped_funnel_counts_stop_at_the_cap(opp_engine, monkeypatch) -> None:
    monkeypatch.setattr(q, "COUNT_CAP", 12)
    with Session(opp_engine) as s:
        fun = q.funnel(s, **base(symbols=("AAPL", "MSFT")))
    steps = fun.set_index("step")
    assert steps.loc["all snapshots", "remaining"] == 12  # at the cap: "12+"
    assert steps.loc["active only", "remaining"] == 11 and pd.isna(
        steps.loc["active only", "removed"]
    )
    assert (
        steps.loc["not expired", "removed"] == 1
        and steps.loc["symbol in selection", "removed"] == 6
    )


def test_dense_plan_gives_the_same_pages(opp_engine, monkeypatch) -> None:
    with Session(opp_engine) as s:
        sparse = q.screener_page(s, **base(symbols=("AAPL", "IWM")))
        sample = q.risk_reward_sample(s, limit=3, **base())
        monkeypatch.setattr(q, "COUNT_CAP", 0)  # every set counts as big: SQLite gets the hint
        dense = q.screener_page(s, **base(symbols=("AAPL", "IWM")))
        assert list(q.risk_reward_sample(s, limit=3, **base())["id"]) == list(sample["id"])
    assert list(dense["id"]) == list(sparse["id"]) == [2, 11, 1, 12]  # EV desc, ties by id desc


def test_likely_is_a_plain_condition_on_every_engine(engine) -> None:
    with engine.connect() as conn:
        kept = conn.execute(select(literal(1)).where(likely(literal(2) > 1, 0.99))).all()
        dropped = conn.execute(select(literal(1)).where(likely(literal(2) < 1, 0.99))).all()
    assert kept == [(1,)] and dropped == []
    with pytest.raises(ValueError):
        likely(literal(2) > 1, 1.5)


# ---- what the page says -------------------------------------------------------------------------


def test_funnel_line_with_capped_counts() -> None:
    fun = pd.DataFrame(
        {
            "step": ["all snapshots", "in the time range", "not expired"],
            "remaining": [10_000, 10_000, 2_159],
            "removed": [0, None, None],
        }
    )
    assert uo.funnel_line(fun) == (
        "10,000+ snapshots → in the time range: 10,000+ → not expired: 2,159 → 2,159 left"
    )


def test_facet_label_marks_lower_bounds() -> None:
    assert uo.facet_label("SPY", 343, False) == "SPY (343)"
    assert uo.facet_label("SPY", 343, True) == "SPY (343+)"
    assert "not in the counted rows" in uo.facet_label("XLE", None, True)


def test_page_says_when_counts_are_capped(monkeypatch, sqlite_url) -> None:
    url = _seed_sqlite(sqlite_url)
    monkeypatch.setattr(q, "SAMPLE_CAP", 3)
    monkeypatch.setattr(q, "COUNT_CAP", 5)
    monkeypatch.setattr(uo, "COUNT_CAP", 5)
    # a symbol from the URL outside the counted rows is kept (its count is unknown, not zero)
    at = open_page(
        monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", sym="NVDA,IWM"
    )
    shown = texts(at)
    assert "More than 3 snapshots match" in shown and "4 matching snapshots" in shown
    funnel = next(c.value for c in at.caption if c.value.startswith("Filter funnel"))
    assert (
        funnel.startswith("Filter funnel: 5+ snapshots → in the time range: 5+")
        and "selection: 4 → 4 left" in funnel
    )
    labels = at.multiselect(key="opp_strat").options
    assert labels and all(label.endswith("+)") for label in labels)
    assert at.multiselect(key="opp_sym").value == ["NVDA", "IWM"]


def test_charts_are_read_only_when_their_panel_is_open(monkeypatch, sqlite_url) -> None:
    url = _seed_sqlite(sqlite_url)
    at = open_page(monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1")
    assert not at.get("plotly_chart")
    at.session_state["opp_charts"] = True
    at.run()
    assert not at.exception
    keys = {c.proto.id for c in at.get("plotly_chart")}
    assert len(keys) == 7  # scatter, strategy, symbol, DTE and the three data keys
    assert any(c.value.startswith("Scatter of the best") for c in at.caption)
