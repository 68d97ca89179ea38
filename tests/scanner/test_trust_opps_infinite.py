"""+-Infinity and NaN in metric columns: what each engine can hold, and the Opportunities reads on it.

The backend's NAKED_OPTION rows store max_loss = Inf and expected_value = -Inf (SQLite; PostgreSQL
can hold them and NaN too; MariaDB can hold neither). Slider bounds and averages leave them out,
an open-ended range keeps them, sorting places them as the largest/smallest values and pages
through them, ratios over them are empty, and NaN reads as no value.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.models import OpportunitySnapshot, ScanSession
from db.queries import opportunities as q
from tests.scanner.conftest import NAIVE_NOW, NOW, ago, snapshot

INF = math.inf
NAN = math.nan
WINDOW = {"now": NOW - timedelta(days=1), "show_expired": True}


def kind(engine: Engine) -> str:
    return engine.dialect.name


def seed(engine: Engine) -> None:
    """Five rows: max_loss 100 / 500 / Inf / NULL / 300 and EV 50 / 80 / -Inf / 10 / 20 (NaN rows
    on PostgreSQL: see test_nan_reads_as_no_value)."""
    with Session(engine) as s:
        s.add_all(
            [
                snapshot(1, "AAPL", "CREDIT_SPREAD", ev=50, max_loss=100, premium=1.0),
                snapshot(2, "MSFT", "CREDIT_SPREAD", ev=80, max_loss=500, premium=2.0),
                snapshot(
                    3,
                    "META",
                    "NAKED_OPTION",
                    ev=-INF,
                    max_loss=INF,
                    premium=3.1,
                    data={"premium": 3.1},
                ),
                snapshot(
                    4,
                    "SPY",
                    "CREDIT_SPREAD",
                    ev=10,
                    max_loss=None,
                    premium=1.5,
                    data={"expected_value": 10},
                ),
                snapshot(5, "QQQ", "CREDIT_SPREAD", ev=20, max_loss=300, premium=0.5),
            ]
        )
        s.commit()


@pytest.fixture
def inf_engine(engine: Engine) -> Engine:
    if kind(engine) == "mysql":
        pytest.skip("MariaDB cannot hold +-Infinity (test_mariadb_refuses_infinity)")
    seed(engine)
    return engine


def test_mariadb_refuses_infinity(engine: Engine) -> None:
    # what each engine can hold: SQLite and PostgreSQL keep +-Inf in a Float column, MariaDB refuses it
    with Session(engine) as s:
        # (data without the Infinity token: PostgreSQL's JSON refuses it, as the backend found there)
        s.add(snapshot(1, "META", "NAKED_OPTION", ev=-INF, max_loss=INF, data={"premium": 2.0}))
        if kind(engine) == "mysql":
            with pytest.raises(Exception, match="inf"):
                s.commit()
            return
        s.commit()
        assert s.execute(
            select(OpportunitySnapshot.max_loss, OpportunitySnapshot.expected_value)
        ).one() == (INF, -INF)


def test_slider_bounds_leave_infinity_out(inf_engine: Engine) -> None:
    with Session(inf_engine) as s:
        b = q.metric_bounds(s, **WINDOW).iloc[0]
    assert (b["max_loss_min"], b["max_loss_max"]) == (100, 500)
    assert (b["ev_min"], b["ev_max"]) == (10, 80)
    assert (b["premium_min"], b["premium_max"]) == (0.5, 3.1)


def test_slider_bounds_over_many_rows_probe_finite_ends(inf_engine: Engine, monkeypatch) -> None:
    # more rows than the sample: the bounds are widened to the columns' ends, finite ones only
    monkeypatch.setattr(q, "SAMPLE_CAP", 2)
    with Session(inf_engine) as s:
        b = q.metric_bounds(s, **WINDOW).iloc[0]
    assert (b["max_loss_min"], b["max_loss_max"]) == (100, 500)
    assert (b["ev_min"], b["ev_max"]) == (10, 80)


def ids(engine: Engine, **kw: object) -> list[int]:
    with Session(engine) as s:
        return [int(i) for i in q.screener_page(s, **{**WINDOW, **kw})["id"]]


def test_open_ended_range_keeps_unlimited_rows(inf_engine: Engine) -> None:
    # "max loss at least 200" keeps the unlimited one; "200 to 600" does not; NULL is in neither
    assert sorted(ids(inf_engine, max_loss=(200.0, INF))) == [2, 3, 5]
    assert sorted(ids(inf_engine, max_loss=(200.0, 600.0))) == [2, 5]
    assert sorted(ids(inf_engine, ev=(-INF, 60.0))) == [1, 3, 4, 5]
    assert sorted(ids(inf_engine, ev=(15.0, 60.0))) == [1, 5]
    with Session(inf_engine) as s:
        steps = [r["step"] for _, r in q.funnel(s, **WINDOW, max_loss=(200.0, INF)).iterrows()]
    assert "max_loss ≥ 200" in steps


def test_sorting_places_infinity_and_pages_through_it(inf_engine: Engine, monkeypatch) -> None:
    assert ids(inf_engine, sort="max_loss") == [3, 2, 5, 1, 4]  # Inf first, NULL last
    assert ids(inf_engine, sort="max_loss", descending=False) == [1, 5, 2, 3, 4]
    assert ids(inf_engine, sort="ev", descending=False) == [3, 4, 5, 1, 2]  # -Inf first
    # one row a page: each cursor (Infinity among them) leads to the next row, none skipped
    monkeypatch.setattr(q, "PAGE_SIZE", 1)
    for sort, descending, expected in (
        ("max_loss", True, [3, 2, 5, 1, 4]),
        ("ev", False, [3, 4, 5, 1, 2]),
        ("ev", True, [2, 1, 5, 4, 3]),
    ):
        seen, cursor = [], None
        with Session(inf_engine) as s:
            for _ in range(6):
                page = q.screener_page(s, sort=sort, descending=descending, after=cursor, **WINDOW)
                seen.append(int(page["id"].iloc[0]))
                if len(page) <= 1:
                    break
                cursor = q.make_cursor(page["sort_value"].iloc[0], page["id"].iloc[0])
        assert seen == expected, (sort, descending)
    # and back: the page before the last row (-Inf EV in descending order)
    with Session(inf_engine) as s:
        back = q.screener_page(
            s, sort="ev", descending=True, before=q.make_cursor(-INF, 3), **WINDOW
        )
    assert int(back["id"].iloc[-1]) == 4


def test_ratios_over_infinity_are_empty(inf_engine: Engine) -> None:
    with Session(inf_engine) as s:
        page = q.screener_page(s, **WINDOW).set_index("id")
    for col in ("ev_per_max_loss", "premium_per_max_loss", "annualised_return"):
        assert math.isnan(page.loc[3, col]), col
    assert page.loc[2, "ev_per_max_loss"] == pytest.approx(80 / 500)
    assert ids(inf_engine, sort="ev_per_max_loss")[-2:] == [4, 3]  # no ratio: last, by id


def test_averages_leave_infinity_out(inf_engine: Engine) -> None:
    # a scan with two snapshots of META NAKED_OPTION: EV -Inf and 40 -> the scan's average EV is 40
    with Session(inf_engine) as s:
        s.add(
            ScanSession(
                id="scan-1",
                strategy="naked",
                started_at=ago(3600),
                completed_at=ago(3500),
                status="COMPLETED",
                opportunities_found=2,
            )
        )
        s.flush()
        for row in s.scalars(select(OpportunitySnapshot).where(OpportunitySnapshot.id == 3)):
            row.scan_session_id = "scan-1"
        s.add(
            snapshot(
                6,
                "META",
                "NAKED_OPTION",
                ev=40,
                max_loss=INF,
                scan="scan-1",
                data={"expected_value": 40},
            )
        )
        s.commit()
        hist = q.persistence(s, symbol="META", strategy="NAKED_OPTION", scan_session_id="scan-1")
        own = q.persistence(s, symbol="META", strategy="NAKED_OPTION", scan_session_id=None)
    assert hist.loc[0, "ev"] == pytest.approx(40)
    assert sorted(own["ev"].dropna()) == [40]  # the snapshot history: -Inf left out of the drift


def test_nan_reads_as_no_value(engine: Engine, monkeypatch) -> None:
    if kind(engine) != "postgresql":
        pytest.skip("only PostgreSQL holds NaN (SQLite stores it as NULL, MariaDB refuses it)")
    seed(engine)
    with Session(engine) as s:
        s.add(
            snapshot(
                7,
                "IWM",
                "CREDIT_SPREAD",
                ev=NAN,
                max_loss=NAN,
                premium=NAN,
                data={"expected_value": 30},
            )
        )
        s.commit()
        b = q.metric_bounds(s, **WINDOW).iloc[0]
        page = q.screener_page(s, **WINDOW).set_index("id")
    assert (b["max_loss_min"], b["max_loss_max"]) == (100, 500) and (b["ev_min"], b["ev_max"]) == (
        10,
        80,
    )
    assert (
        page.loc[7, "ev"] == 30 and page.loc[7, "from_data"] == "ev"
    )  # NaN column: the value in data
    assert ids(engine, sort="max_loss") == [3, 2, 5, 1, 7, 4]  # NaN with NULL, last (by id)
    monkeypatch.setattr(q, "PAGE_SIZE", 1)
    seen, cursor = [], None
    with Session(engine) as s:
        for _ in range(8):
            page1 = q.screener_page(s, sort="max_loss", after=cursor, **WINDOW)
            seen.append(int(page1["id"].iloc[0]))
            if len(page1) <= 1:
                break
            cursor = q.make_cursor(page1["sort_value"].iloc[0], page1["id"].iloc[0])
    assert seen == [3, 2, 5, 1, 7, 4]


def test_future_count_finds_rows_after_the_window(engine: Engine) -> None:
    with Session(engine) as s:
        s.add_all(
            [
                snapshot(1, "AAPL", "X", ev=1),
                snapshot(2, "MSFT", "X", ev=2),
                snapshot(3, "SPY", "X", ev=3, active=False),
            ]
        )
        s.flush()
        for i in (2, 3):  # dated 2099, expiring after that
            row = s.get(OpportunitySnapshot, i)
            assert row is not None
            row.created_at = NAIVE_NOW.replace(year=2099)
            row.expires_at = row.created_at + timedelta(minutes=15)
        s.commit()
        window = {"now": NOW, "since": NOW - timedelta(days=1), "until": NOW}
        assert q.future_count(s, **window) == 1  # the inactive one is not shown either
        assert q.future_count(s, **window, show_inactive=True) == 2
        assert q.future_count(s, now=NOW) == 0  # no window end (a scan's rows): nothing left out
        assert ids(engine, **window) == [1]
        future = {"now": NOW, "since": NOW, "until": NOW.replace(year=2200)}
        assert ids(engine, **future) == [2] and q.future_count(s, **future) == 0
        # a row dated in the future does not make old data look fresh
        assert q.freshness(s, now=NOW).loc[0, "newest_snapshot"].year == 2026
