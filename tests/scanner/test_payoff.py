"""Payoff at expiry against hand-computed verticals, condors and single options."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import payoff as p
from domain.payoff import Leg


def test_put_credit_spread() -> None:
    # sell 100 put, buy 95 put for 1.50 credit: max profit 150, max loss (5 - 1.5) x 100 = 350, BE 98.50
    pos = p.build([Leg("SELL", "PUT", 100), Leg("BUY", "PUT", 95)], 1.5)
    assert pos.credit
    assert p.extremes(pos) == (pytest.approx(150), pytest.approx(350))
    assert p.break_evens(pos) == [pytest.approx(98.5)]
    assert pos.pnl(90) == pytest.approx(-350) and pos.pnl(120) == pytest.approx(150)
    assert pos.pnl(97) == pytest.approx(-150)  # (1.5 - 3) x 100


def test_call_credit_spread() -> None:
    # sell 105 call, buy 110 call for 1.20: max profit 120, max loss 380, BE 106.20
    pos = p.build([Leg("SELL", "CALL", 105), Leg("BUY", "CALL", 110)], 1.2)
    assert pos.credit
    assert p.extremes(pos) == (pytest.approx(120), pytest.approx(380))
    assert p.break_evens(pos) == [pytest.approx(106.2)]


def test_call_debit_spread() -> None:
    # buy 100 call, sell 110 call for 4.00 debit: max profit 600, max loss 400, BE 104
    pos = p.build([Leg("BUY", "CALL", 100), Leg("SELL", "CALL", 110)], 4.0)
    assert not pos.credit
    assert p.extremes(pos) == (pytest.approx(600), pytest.approx(400))
    assert p.break_evens(pos) == [pytest.approx(104)]


def test_iron_condor() -> None:
    # 90/95 puts, 105/110 calls for 2.00 credit: max profit 200, max loss 300, BEs 93 and 107
    legs = [
        Leg("BUY", "PUT", 90),
        Leg("SELL", "PUT", 95),
        Leg("SELL", "CALL", 105),
        Leg("BUY", "CALL", 110),
    ]
    pos = p.build(legs, 2.0)
    assert pos.credit
    assert p.extremes(pos) == (pytest.approx(200), pytest.approx(300))
    assert p.break_evens(pos) == [pytest.approx(93), pytest.approx(107)]
    assert pos.pnl(100) == pytest.approx(200) and pos.pnl(80) == pytest.approx(-300)


def test_unbalanced_iron_condor() -> None:
    # wings 5 wide on the put side, 10 wide on the call side, 3.00 credit: max loss 700 on the call side
    legs = [
        Leg("BUY", "PUT", 90),
        Leg("SELL", "PUT", 95),
        Leg("SELL", "CALL", 105),
        Leg("BUY", "CALL", 115),
    ]
    pos = p.build(legs, 3.0)
    assert p.extremes(pos) == (pytest.approx(300), pytest.approx(700))
    assert p.break_evens(pos) == [pytest.approx(92), pytest.approx(108)]


def test_long_call_is_unlimited() -> None:
    pos = p.build([Leg("BUY", "CALL", 100)], 3.0)
    best, worst = p.extremes(pos)
    assert math.isinf(best) and worst == pytest.approx(300)
    assert p.break_evens(pos) == [pytest.approx(103)]


def test_short_straddle_loss_is_unlimited() -> None:
    pos = p.build([Leg("SELL", "CALL", 100), Leg("SELL", "PUT", 100)], 6.0)
    best, worst = p.extremes(pos)
    assert best == pytest.approx(600) and math.isinf(worst)
    assert p.break_evens(pos) == [pytest.approx(94), pytest.approx(106)]


def test_from_data_legs_list() -> None:
    data = {
        "premium": 2.0,
        "legs": [
            {"action": "BUY", "option_type": "PUT", "strike": 90, "delta": -0.05},
            {"action": "SELL", "option_type": "PUT", "strike": 95, "delta": -0.15},
            {"action": "SELL", "option_type": "CALL", "strike": 105, "delta": 0.15},
            {"action": "BUY", "option_type": "CALL", "strike": 110, "delta": 0.05},
        ],
    }
    pos = p.from_data(data)
    assert pos is not None and len(pos.legs) == 4
    assert p.break_evens(pos) == [pytest.approx(93), pytest.approx(107)]


def test_short_long_strikes_alone_draw_nothing() -> None:
    # Without a strategy that fixes their option types, two strikes are no legs (the chart once drew
    # a COVERED_CALL as an "assumed put credit spread").
    assert p.from_data({"short_strike": 100, "long_strike": 95, "premium": 1.5}) is None
    why = p.from_snapshot(
        {"short_strike": 100, "long_strike": 95, "premium": 1.5}, strategy="", premium=None
    )
    assert why.position is None and why.reason.startswith("legs not recorded")


def test_a_credit_spread_names_its_assumption_and_agrees_by_hand() -> None:
    put = p.from_snapshot(
        {"short_strike": 100, "long_strike": 95}, strategy="CREDIT_SPREAD", premium=1.5
    ).position
    assert put is not None and {leg.option_type for leg in put.legs} == {"PUT"}
    assert p.break_evens(put) == [pytest.approx(98.5)]  # short strike 100 - credit 1.50
    assert "assumed" in put.assumption


@pytest.mark.parametrize(
    "data",
    [
        None,
        "text",
        {},
        {"premium": 1},
        {"strike": 100, "premium": 1.2},  # V1 quick_scalp: one strike, no type
        {"short_strike": 100, "long_strike": 100, "premium": 1},
        {"legs": [{"action": "HOLD"}], "premium": 1},
        {"short_strike": 100, "long_strike": None, "premium": 1},
    ],
)
def test_from_data_unknown_shapes_give_none(data: object) -> None:
    assert p.from_data(data) is None


@given(st.floats(50, 150), st.floats(1, 20), st.floats(0.05, 0.95), st.floats(0, 300))
def test_credit_vertical_invariants(
    short: float, width: float, credit_frac: float, price: float
) -> None:
    credit = width * credit_frac
    pos = p.build([Leg("SELL", "PUT", short), Leg("BUY", "PUT", short - width)], credit)
    best, worst = p.extremes(pos)
    assert best == pytest.approx(credit * 100) and worst == pytest.approx((width - credit) * 100)
    assert -worst - 1e-6 <= pos.pnl(price) <= best + 1e-6
    (be,) = p.break_evens(pos)
    assert pos.pnl(be) == pytest.approx(0, abs=1e-6)
