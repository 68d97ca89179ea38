"""Screener queries against the hand-made snapshots, on sqlite, postgresql and mariadb."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from db.queries import opportunities as q
from tests.scanner.conftest import NOW

VISIBLE = {1, 2, 3, 4, 5, 8, 9, 10, 11, 12}  # 6 is expired, 7 inactive
EV_DESC = [2, 3, 11, 8, 1, 9, 10, 4, 12, 5]  # ties on EV 100 broken by id; no EV (5) last


def base(**kw: object) -> dict[str, object]:
    return q.Filters(now=NOW, **kw).kwargs()  # type: ignore[arg-type]


def page(s: Session, **kw: object):  # type: ignore[no-untyped-def]
    sort = kw.pop("sort", "ev")
    descending = kw.pop("descending", True)
    after = kw.pop("after", None)
    before = kw.pop("before", None)
    return q.screener_page(
        s, sort=sort, descending=descending, after=after, before=before, **base(**kw)
    )


def ids(df) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(v) for v in df["id"]]


def test_default_sort_is_ev_descending_with_nulls_last(opp_engine) -> None:
    with Session(opp_engine) as s:
        assert ids(page(s)) == EV_DESC


def test_ascending_sort_keeps_nulls_last(opp_engine) -> None:
    with Session(opp_engine) as s:
        assert ids(page(s, descending=False)) == [12, 4, 10, 9, 1, 8, 11, 3, 2, 5]


def test_expired_and_inactive_hidden_until_toggled(opp_engine) -> None:
    with Session(opp_engine) as s:
        assert set(ids(page(s))) == VISIBLE
        assert set(ids(page(s, show_expired=True))) == VISIBLE | {6}
        assert set(ids(page(s, show_expired=True, show_inactive=True))) == VISIBLE | {6, 7}
        assert q.filtered_count(s, **base()) == 10


def test_strategy_and_symbol_filters_are_case_sensitive(opp_engine) -> None:
    with Session(opp_engine) as s:
        assert set(ids(page(s, strategies=("theta_harvesting",)))) == {1, 3, 9, 10}
        assert set(ids(page(s, strategies=("THETA_HARVESTING",)))) == {2}
        assert set(ids(page(s, symbols=("AAPL",)))) == {1, 2}
        facets = q.facet_counts(s, field="strategy", **base())
        assert dict(zip(facets["value"], facets["count"], strict=True)) == {
            "theta_harvesting": 4,
            "IRON_CONDOR": 2,
            "quick_scalp": 2,
            "THETA_HARVESTING": 1,
            "RSI_COUPON": 1,
        }


def test_facet_counts_ignore_their_own_selection(opp_engine) -> None:
    with Session(opp_engine) as s:
        kw = base(symbols=("AAPL",))
        symbols = q.facet_counts(s, field="symbol", **kw)
        assert len(symbols) == 6  # every visible symbol stays offered (QQQ is inactive)
        own = q.facet_counts(s, field="symbol", own_filter=True, **kw)
        assert dict(zip(own["value"], own["count"], strict=True)) == {"AAPL": 2}


def test_data_key_facet_and_filter(opp_engine) -> None:
    with Session(opp_engine) as s:
        bias = q.facet_counts(s, field="bias", **base())
        counts = dict(zip(bias["value"], bias["count"], strict=True))
        assert counts["BULLISH"] == 2 and counts["BEARISH"] == 1
        assert set(ids(page(s, bias=("BULLISH",)))) == {2, 8}


def test_range_filters_use_the_metric_with_fallback(opp_engine) -> None:
    with Session(opp_engine) as s:
        assert set(ids(page(s, pop=(0.6, 0.8)))) == {1, 2, 3, 10, 11}
        assert set(ids(page(s, max_loss=(0.0, 400.0)))) == {9}  # column NULL, data 300
        assert set(ids(page(s, ev=(110.0, 1000.0)))) == {2, 3}  # 3 only has EV in data
        assert set(ids(page(s, premium=(1.0, 1.5)))) == {12}  # "1.25" as text in data
        assert set(ids(page(s, dte=(25, 60)))) == {8, 10}


def test_metric_fallback_and_mismatch_marker(opp_engine) -> None:
    with Session(opp_engine) as s:
        df = page(s).set_index("id")
    assert df.loc[3, "ev"] == 120 and df.loc[3, "from_data"] == "ev"
    assert (
        df.loc[4, "ev"] == 50 and df.loc[4, "mismatch"] == "ev"
    )  # column wins, marker says data differs
    assert df.loc[9, "max_loss"] == 300 and df.loc[9, "from_data"] == "max_loss"
    assert df.loc[12, "premium"] == 1.25 and "premium" in df.loc[12, "from_data"]
    assert df.loc[1, "mismatch"] is None and df.loc[1, "from_data"] is None
    assert df.loc[8, "max_profit"] == "Unlimited" and q.is_unlimited(df.loc[8, "max_profit"])


def test_derived_columns(opp_engine) -> None:
    with Session(opp_engine) as s:
        row = page(s).set_index("id").loc[1]
    assert row["ev_per_max_loss"] == pytest.approx(0.2)
    assert row["premium_per_max_loss"] == pytest.approx(0.4)  # 2.00 x 100 / 500
    assert row["annualised_return"] == pytest.approx(0.4 * 365 / 10)


def test_funnel_counts_rows_removed_by_each_filter(opp_engine) -> None:
    with Session(opp_engine) as s:
        fun = q.funnel(s, **base(symbols=("AAPL", "MSFT")))
    steps = dict(zip(fun["step"], zip(fun["remaining"], fun["removed"], strict=True), strict=True))
    assert steps["all snapshots"] == (12, 0)
    assert steps["active only"] == (11, 1)
    assert steps["not expired"] == (10, 1)
    assert steps["symbol in selection"] == (4, 6)


def _walk(s: Session, sort: str, descending: bool, **kw: object) -> list[list[int]]:
    pages, after = [], None
    for _ in range(20):
        df = page(s, sort=sort, descending=descending, after=after, **kw)
        rows = df.head(q.PAGE_SIZE)
        pages.append(ids(rows))
        if len(df) <= q.PAGE_SIZE:
            return pages
        last = rows.iloc[-1]
        after = q.make_cursor(last["sort_value"], last["id"])
    raise AssertionError("keyset pagination did not end")


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("descending", [True, False])
def test_keyset_pages_cover_every_row_once_for_every_sort(
    opp_engine, monkeypatch, descending, dense
) -> None:
    monkeypatch.setattr(
        q, "COUNT_CAP", 0 if dense else 10_000
    )  # dense: the plan for big filtered sets
    with Session(opp_engine) as s:
        full = {sort: ids(page(s, sort=sort, descending=descending)) for sort in q.SORTS}
        monkeypatch.setattr(q, "PAGE_SIZE", 3)
        for sort in q.SORTS:
            pages = _walk(s, sort, descending)
            flat = [i for p in pages for i in p]
            assert flat == full[sort], sort
            assert len(flat) == len(set(flat)) == len(VISIBLE)
            if len(pages) > 1:  # one page back from the second page is the first page
                second = page(
                    s,
                    sort=sort,
                    descending=descending,
                    after=q.make_cursor(*_cursor_parts(s, sort, descending, pages[0][-1])),
                )
                first = second.iloc[0]
                back = page(
                    s,
                    sort=sort,
                    descending=descending,
                    before=q.make_cursor(first["sort_value"], first["id"]),
                )
                assert ids(back) == pages[0], sort


def _cursor_parts(s: Session, sort: str, descending: bool, row_id: int) -> tuple[object, int]:
    df = page(s, sort=sort, descending=descending).set_index("id")
    return df.loc[row_id, "sort_value"], row_id


def test_unknown_sort_column_and_bad_cursor_are_rejected(opp_engine) -> None:
    with Session(opp_engine) as s:
        with pytest.raises(q.BadSort):
            page(s, sort="data; DROP TABLE x")
        with pytest.raises(q.BadSort):
            page(s, sort="ev", after='["not a number", 3]')
        with pytest.raises(q.BadSort):
            page(s, sort="ev", after="garbage")


def test_detail_persistence_and_export(opp_engine) -> None:
    with Session(opp_engine) as s:
        d = q.snapshot_detail(s, snapshot_id=4)
        assert len(d) == 1 and d.loc[0, "data"] == {
            "expected_value": 80,
            "probability_profit": 0.55,
        }
        assert q.snapshot_detail(s, snapshot_id=999).empty
        vals = q.data_values(s, snapshot_id=4).set_index("metric")
        assert vals.loc["ev", "column"] == 50 and vals.loc["ev", "data"] == 80
        hist = q.persistence(s, symbol="AAPL", strategy="theta_harvesting", scan_session_id=None)
        assert list(hist["source"]) == ["snapshots"] and hist.loc[0, "ev"] == 100
        exp = q.export_rows(s, **base())
        assert ids(exp) == EV_DESC and isinstance(exp.set_index("id").loc[8, "data"], dict)


def test_charts_aggregate_the_filtered_set(opp_engine) -> None:
    with Session(opp_engine) as s:
        hist = q.dte_histogram(s, **base())
        assert dict(zip(hist["dte"], hist["count"], strict=True)) == {
            5: 1,
            10: 5,
            20: 2,
            30: 1,
            45: 1,
        }
        sample = q.risk_reward_sample(s, limit=4, **base())
        assert ids(sample) == EV_DESC[:4]
        bounds = q.metric_bounds(s, **base()).iloc[0]
        assert bounds["ev_min"] == -20 and bounds["ev_max"] == 150


def test_empty_database_gives_empty_typed_frames(engine) -> None:
    with Session(engine) as s:
        assert page(s).empty and list(page(s).columns) == list(q.PAGE_COLUMNS)
        assert q.filtered_count(s, **base()) == 0
        assert q.funnel(s, **base()).loc[0, "remaining"] == 0
        assert q.freshness(s).iloc[0].isna().all()
