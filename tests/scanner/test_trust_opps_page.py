"""The Opportunities page as a person meets it: every range slider from the URL, moved, then another
control, then a reload; the backend's own database with +-Infinity; rows dated in the future; the
payoff of a covered call drawn as one, with the row's disagreement said."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from db.engine import make_engine
from db.models import OpportunitySnapshot
from tests.conftest import FIXTURES
from tests.scanner.conftest import snapshot
from tests.scanner.test_pages import WINDOW, _seed_sqlite, open_page, table, texts
from ui.sections import opportunities as uo

TIMEOUT_S = 90
RANGE_PARAMS = ("dte", "pop", "ev", "prem", "loss")


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None) -> Iterator[None]:
    yield


def reload(monkeypatch: pytest.MonkeyPatch, url: str, at: AppTest) -> AppTest:
    """A fresh session on the URL `at` shows now (what a browser reload does)."""
    params = {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}
    return open_page(monkeypatch, url, "pages/opportunities.py", **params)


def slider(at: AppTest, param: str):  # type: ignore[no-untyped-def]
    return next(s for s in at.slider if s.key in (f"opp_{param}", f"opp_{param}_none"))


# ---- range sliders -------------------------------------------------------------------------------


def test_dte_range_from_the_url_then_another_control_then_reload(monkeypatch, sqlite_url) -> None:
    # the hand-made rows have DTE 10 (most), 5 (#9), 20 (#11, #12), 30 (#8), 45 (#10)
    url = _seed_sqlite(sqlite_url)
    at = open_page(monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", dte="7~21")
    dte = slider(at, "dte")
    assert tuple(dte.value) == (7, 21) and all(type(v) is int for v in dte.value)
    assert sorted(table(at, "marker")["id"]) == [1, 2, 3, 4, 5, 6, 11, 12, 13]
    at.toggle(key="opp_inactive").set_value(True).run()  # any other control
    assert not at.exception, [e.value for e in at.exception]
    assert sorted(table(at, "marker")["id"]) == [1, 2, 3, 4, 5, 6, 7, 11, 12, 13]
    slider(at, "dte").set_value((8, 25)).run()  # the slider moved
    assert not at.exception and at.query_params["dte"] == "8~25"
    at.multiselect(key="opp_sym").set_value(["IWM"]).run()  # then another control
    assert not at.exception and sorted(table(at, "marker")["id"]) == [11, 12]
    again = reload(monkeypatch, url, at)
    assert tuple(slider(again, "dte").value) == (8, 25) and sorted(
        table(again, "marker")["id"]
    ) == [11, 12]


def test_every_range_slider_survives_being_moved_and_reloaded(monkeypatch, sqlite_url) -> None:
    url = _seed_sqlite(sqlite_url)
    at = open_page(monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1")
    for param in RANGE_PARAMS:
        s = slider(at, param)
        lo, hi = s.value
        moved = (lo + 1, hi) if param == "dte" else (lo + (hi - lo) / 4, hi)
        s.set_value(moved).run()
        assert not at.exception, (param, [e.value for e in at.exception])
        at.toggle(key="opp_expired").set_value(True).run()
        assert not at.exception, (param, [e.value for e in at.exception])
        again = reload(monkeypatch, url, at)
        assert not again.exception, (param, [e.value for e in again.exception])
        assert tuple(slider(again, param).value) == pytest.approx(tuple(slider(at, param).value)), (
            param
        )


@pytest.mark.parametrize("raw", ["7~21", "7.5~20.2", "0~1e300", "-1e300~1e300", "1~1", "5~5.5"])
@pytest.mark.parametrize("param", RANGE_PARAMS)
def test_range_values_from_the_url_never_crash(monkeypatch, sqlite_url, param, raw) -> None:
    url = _seed_sqlite(sqlite_url)
    at = open_page(
        monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", **{param: raw}
    )
    s = slider(at, param)
    assert {type(v) for v in s.value} == ({int} if param == "dte" else {float})
    assert s.min <= s.value[0] <= s.value[1] <= s.max and not at.exception


@pytest.mark.parametrize("raw", ["nan~1", "inf~3", "-inf~inf", "5~1", "abc", "1~2~3", "~"])
@pytest.mark.parametrize("param", RANGE_PARAMS)
def test_bad_range_values_are_ignored_with_a_message(monkeypatch, sqlite_url, param, raw) -> None:
    url = _seed_sqlite(sqlite_url)
    at = open_page(
        monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", **{param: raw}
    )
    assert f"Ignored the URL parameter `{param}`" in texts(at)
    assert param not in at.query_params and len(table(at, "marker")) == 12


def test_dte_slider_types_agree_for_any_bounds() -> None:
    for lo, hi, wanted in [
        (3.0, 88.0, (7.0, 21.0)),
        (3.0, 88.0, None),
        (3.4, 87.6, (7.5, 20.2)),
        (39.0, 39.0, None),
        (-math.inf, math.inf, None),
        (math.nan, 5.0, (1.0, 2.0)),
        (None, None, (7.0, 21.0)),
        (0.0, 1e300, None),
        (5.0, 1.0, None),
    ]:
        spec = uo.range_slider("dte", lo, hi, wanted)
        assert {type(v) for v in (spec.min_value, spec.max_value, *spec.value, spec.step)} == {
            int
        }, (lo, hi)
        assert spec.min_value <= spec.value[0] <= spec.value[1] <= spec.max_value
        assert abs(spec.max_value) < 2**53
        fl = uo.range_slider("max_loss", lo, hi, wanted)
        assert {type(v) for v in (fl.min_value, fl.max_value, *fl.value, fl.step)} == {float}, (
            lo,
            hi,
        )
        assert fl.min_value <= fl.value[0] <= fl.value[1] <= fl.max_value
    assert uo.range_slider("dte", 3.4, 87.6, (7.5, 20.2)).value == (
        7,
        21,
    )  # whole days, rounded outwards
    assert uo.range_slider("dte", 39.0, 39.0, None).value == (39, 39)  # one value: shown as itself


def test_a_slider_end_at_its_bound_is_open() -> None:
    spec = uo.range_slider("max_loss", 100.0, 500.0, None)
    assert uo.range_filter(spec, (100.0, 500.0)) is None
    assert uo.range_filter(spec, (200.0, 500.0)) == (200.0, math.inf)
    assert uo.range_filter(spec, (100.0, 300.0)) == (-math.inf, 300.0)
    assert uo.range_filter(spec, (200.0, 300.0)) == (200.0, 300.0)
    assert uo.url_number(0.1 + 0.2) == "0.30000000000000004" and uo.url_number(7.0) == "7"


# ---- the backend's own database: +-Infinity ------------------------------------------------------


@pytest.fixture
def head_url(tmp_path: Path) -> str:
    src = FIXTURES / "origin-head.db"
    if not src.exists():
        pytest.skip("origin-head.db not available")
    dst = tmp_path / "origin-head.db"
    shutil.copy(src, dst)
    return f"sqlite:///{dst}"


HEAD_WINDOW = {"range": "custom", "from": "2026-12-01", "to": "2026-12-07", "expired": "1"}


def test_opportunities_on_the_backends_head_database(monkeypatch, head_url) -> None:
    at = open_page(monkeypatch, head_url, "pages/opportunities.py", **HEAD_WINDOW)
    loss = slider(at, "loss")
    assert (loss.min, loss.max) == (250.0, 1370.0)  # NAKED_OPTION's Inf left out of the bounds
    ev = slider(at, "ev")
    assert math.isfinite(ev.min) and math.isfinite(ev.max)
    at = open_page(monkeypatch, head_url, "pages/opportunities.py", **HEAD_WINDOW, sort="max_loss")
    top = table(at, "marker").head(8)
    assert list(top["strategy"]) == ["NAKED_OPTION"] * 8 and all(
        math.isinf(v) for v in top["max_loss"]
    )
    assert all("∞ unlimited: max_loss, ev" in m for m in top["marker"])
    for sort in ("ev_per_max_loss", "premium_per_max_loss", "annualised_return"):
        at = open_page(monkeypatch, head_url, "pages/opportunities.py", **HEAD_WINDOW, sort=sort)
        assert not table(at, "marker").empty, sort
    # "max loss at least 300": the slider's upper end is open, the unlimited rows stay
    at = open_page(
        monkeypatch,
        head_url,
        "pages/opportunities.py",
        **HEAD_WINDOW,
        sort="max_loss",
        loss="300~1370",
    )
    assert math.isinf(table(at, "marker")["max_loss"].iloc[0])


def test_detail_of_an_unlimited_row(monkeypatch, head_url) -> None:
    eng = make_engine(head_url, read_timeout=False)
    with Session(eng) as s:
        naked = (
            s.query(OpportunitySnapshot.id)
            .filter(OpportunitySnapshot.strategy_type == "NAKED_OPTION")
            .first()
        )
    eng.dispose()
    assert naked is not None
    at = open_page(
        monkeypatch, head_url, "pages/opportunities.py", **HEAD_WINDOW, sel=str(naked[0])
    )
    shown = texts(at)
    assert (
        f"Snapshot #{naked[0]}" in shown
        and "No payoff chart: legs not recorded in this snapshot" in shown
    )
    assert not [m for m in at.metric if m.label == "Max loss"]


# ---- rows dated in the future --------------------------------------------------------------------


def _seed_future(url: str) -> str:
    eng = make_engine(url, read_timeout=False)
    with Session(eng) as s:
        row = snapshot(99, "ZZZ", "COVERED_CALL", ev=5)
        row.created_at = row.created_at.replace(year=2099)
        row.expires_at = row.created_at + timedelta(minutes=15)
        s.add(row)
        s.commit()
    eng.dispose()
    return url


def test_rows_dated_in_the_future_are_counted_and_shown(monkeypatch, sqlite_url) -> None:
    url = _seed_future(_seed_sqlite(sqlite_url))
    at = open_page(monkeypatch, url, "pages/opportunities.py")
    assert "1 snapshot dated in the future is not in this window." in texts(at)
    assert 99 not in list(table(at, "marker")["id"])
    link = [p for p in at.get("page_link") if "range=future" in str(p.proto)]
    assert link, "a link to the same page with range=future"
    future = open_page(monkeypatch, url, "pages/opportunities.py", range="future")
    assert list(table(future, "marker")["id"]) == [99]
    assert "dated in the future is not" not in texts(future)


# ---- the payoff -----------------------------------------------------------------------------------


def test_covered_call_payoff_and_its_finding(monkeypatch, sqlite_url) -> None:
    url = _seed_sqlite(sqlite_url)
    eng = make_engine(url, read_timeout=False)
    covered = {
        "strategy_type": "COVERED_CALL",
        "short_strike": 105.0,
        "long_strike": 100.0,
        "premium": 2.0,
        "underlying_price": 100.0,
        "max_loss": 978.0,
    }
    with Session(eng) as s:
        s.add(snapshot(20, "XYZ", "COVERED_CALL", ev=5, premium=2.0, max_loss=978.0, data=covered))
        s.add(
            snapshot(
                21,
                "XYZ",
                "high_probability",
                ev=5,
                data={"short_strike": 98.0, "long_strike": 90.0, "premium": 2.85},
            )
        )
        s.commit()
    eng.dispose()
    at = open_page(monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", sel="20")
    # 100 shares at 100 and a short 105 call for 2.00: max profit 700, max loss 9,800, break-even 98
    assert [m.value for m in at.metric if m.label in ("Max profit", "Max loss")] == [
        "$700.00",
        "$9,800.00",
    ]
    shown = texts(at)
    assert "Break-evens: 98.00" in shown and "assumed" not in shown
    assert "Finding: the row says max loss $978.00; its legs give $9,800.00." in shown
    at = open_page(monkeypatch, url, "pages/opportunities.py", **WINDOW, expired="1", sel="21")
    assert "No payoff chart: legs not recorded in this snapshot" in texts(at)
    titles = [str(c.proto.spec) for c in at.get("plotly_chart")]
    assert not any("Payoff at expiry" in t for t in titles)
