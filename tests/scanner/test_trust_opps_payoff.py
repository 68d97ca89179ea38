"""A snapshot's payoff is drawn only from the legs its data records (with the stock leg of covered
calls and protective puts), against hand-computed payoffs; where the legs are unknown nothing is
drawn and the reason is said; where the row's figures disagree with its legs, that is a finding."""

from __future__ import annotations

import math

import pytest

from domain import payoff as p

COVERED = {"symbol": "XYZ", "stock_price": 100.0, "short_strike": 105.0, "premium": 2.0}


def snap(
    data: object,
    strategy: str,
    *,
    premium: float | None = None,
    spot: float | None = None,
    max_loss: float | None = None,
) -> p.SnapshotPayoff:
    return p.from_snapshot(
        data,
        strategy=strategy,
        premium=premium,
        spot=spot,
        row=p.row_figures(data, max_loss=max_loss),
    )


def test_covered_call_from_short_strike_and_stock_price() -> None:
    # 100 shares at 100, short 105 call for 2.00: max profit (105 - 100 + 2) x 100 = 700 above 105,
    # break-even 100 - 2 = 98, max loss (100 - 2) x 100 = 9,800 at 0
    got = snap(COVERED, "COVERED_CALL", max_loss=9800)
    pos = got.position
    assert pos is not None and pos.credit
    assert {(leg.action, leg.option_type, leg.strike) for leg in pos.legs} == {
        ("BUY", "STOCK", 100.0),
        ("SELL", "CALL", 105.0),
    }
    assert p.extremes(pos) == (pytest.approx(700), pytest.approx(9800))
    assert p.break_evens(pos) == [pytest.approx(98)]
    assert pos.pnl(0) == pytest.approx(-9800) and pos.pnl(103) == pytest.approx(500)
    assert pos.pnl(130) == pytest.approx(700)  # capped above the strike
    assert got.findings == ()  # the row's max loss agrees


def test_covered_call_from_legs_and_underlying_price() -> None:
    data = {
        "underlying_price": 100.0,
        "premium": 2.0,
        "legs": [{"action": "SELL", "option_type": "CALL", "strike": 105}],
    }
    pos = snap(data, "covered_call").position
    assert pos is not None and p.extremes(pos) == (pytest.approx(700), pytest.approx(9800))


def test_protective_put_from_legs_and_stock_price() -> None:
    # the backend's PROTECTIVE_PUT shape: 100 shares at 50, long 45 put for 1.50 (insurance_cost):
    # max loss (50 - 45 + 1.5) x 100 = 650 at or below 45, profit unlimited, break-even 51.50
    data = {
        "stock_price": 50.0,
        "insurance_cost": 1.5,
        "max_profit": "Unlimited",
        "legs": [{"action": "BUY", "option_type": "PUT", "strike": 45.0, "delta": -0.2}],
    }
    got = snap(data, "PROTECTIVE_PUT", max_loss=650)
    pos = got.position
    assert pos is not None and not pos.credit
    best, worst = p.extremes(pos)
    assert math.isinf(best) and worst == pytest.approx(650)
    assert p.break_evens(pos) == [pytest.approx(51.5)]
    assert pos.pnl(40) == pytest.approx(-650) and pos.pnl(60) == pytest.approx(850)
    assert got.findings == ()


def test_credit_spreads_from_strikes_and_strategy() -> None:
    # sell 100 put, buy 90 put for 3.00: max profit 300, max loss 700, break-even 97
    put = snap({"short_strike": 100, "long_strike": 90}, "CREDIT_SPREAD", premium=3.0).position
    assert put is not None and {leg.option_type for leg in put.legs} == {"PUT"} and put.credit
    assert p.extremes(put) == (pytest.approx(300), pytest.approx(700))
    assert p.break_evens(put) == [pytest.approx(97)]
    assert "assumed a put credit spread" in put.assumption
    # sell 105 call, buy 110 call for 1.20: max profit 120, max loss 380, break-even 106.20
    call = snap(
        {"short_strike": 105, "long_strike": 110, "premium": "1.2"}, "CREDIT_SPREAD"
    ).position
    assert call is not None and {leg.option_type for leg in call.legs} == {"CALL"}
    assert p.extremes(call) == (pytest.approx(120), pytest.approx(380))
    assert p.break_evens(call) == [pytest.approx(106.2)]


def test_iron_condor_legs_agree_with_the_row() -> None:
    # a real theta_harvesting row: puts 518.8/528.8, calls 584.4/594.4 for 2.34: max profit 234,
    # max loss (10 - 2.34) x 100 = 766, break-evens 526.46 and 586.74 (data rounds to .42 / .76)
    data = {
        "underlying_price": 556.59,
        "premium": 2.34,
        "max_profit": 234.0,
        "max_loss": 766.0,
        "break_even_high": 586.76,
        "break_even_low": 526.42,
        "legs": [
            {"action": "SELL", "option_type": "PUT", "strike": 528.8},
            {"action": "BUY", "option_type": "PUT", "strike": 518.8},
            {"action": "SELL", "option_type": "CALL", "strike": 584.4},
            {"action": "BUY", "option_type": "CALL", "strike": 594.4},
        ],
    }
    got = snap(data, "theta_harvesting", max_loss=766.0)
    assert got.position is not None
    assert p.extremes(got.position) == (pytest.approx(234), pytest.approx(766))
    assert p.break_evens(got.position) == [pytest.approx(526.46), pytest.approx(586.74)]
    assert got.findings == ()
    # the same legs beside a row that says otherwise: each disagreement is said
    wrong = {**data, "max_profit": 500.0, "break_even_low": 520.0}
    findings = snap(wrong, "theta_harvesting", max_loss=978.0).findings
    assert findings == (
        "the row says max loss $978.00; its legs give $766.00",
        "the row says max profit $500.00; its legs give $234.00",
        "the row says break_even_low 520.00; its legs give break-evens 526.46, 586.74",
    )


def test_long_call_unlimited_profit_agrees_with_unlimited() -> None:
    data = {
        "premium": 2.02,
        "max_profit": "Unlimited",
        "break_even": 147.22,
        "legs": [{"action": "BUY", "option_type": "CALL", "strike": 145.2}],
    }
    got = snap(data, "RSI_COUPON", max_loss=202.0)
    assert got.position is not None and got.findings == ()
    assert snap({**data, "max_profit": 300}, "RSI_COUPON", max_loss=202.0).findings == (
        "the row says max profit $300.00; its legs give unlimited",
    )


def test_covered_call_drawn_as_a_covered_call_and_its_row_disagrees() -> None:
    # the demo COVERED_CALL row that was drawn as an "assumed put credit spread" (max loss $296):
    # 100 shares at 224.18 and a short 210.7 call for 2.04: max loss (224.18 - 2.04) x 100 = 22,214
    # at 0, max profit (210.7 - 224.18 + 2.04) x 100 = -1,144 (a loss at every price)
    data = {
        "strategy_type": "COVERED_CALL",
        "short_strike": 210.7,
        "long_strike": 205.7,
        "premium": 2.04,
        "max_loss": 484.0,
        "underlying_price": 224.18,
    }
    got = snap(data, "COVERED_CALL", premium=2.04, max_loss=484.0)
    assert got.position is not None
    assert [leg.option_type for leg in got.position.legs] == ["STOCK", "CALL"]
    assert p.extremes(got.position) == (pytest.approx(-1144), pytest.approx(22214))
    assert "long_strike 205.70 is no part of a covered call" in got.source
    assert got.findings == ("the row says max loss $484.00; its legs give $22,214.00",)


@pytest.mark.parametrize(
    ("data", "strategy", "why"),
    [
        # V1 high_probability and the fallback theta_decay: strikes without option types
        (
            {"short_strike": 539.9996, "long_strike": 495.918, "premium": 2.85},
            "high_probability",
            "option types",
        ),
        ({"short_strike": 630, "long_strike": 617, "premium": 3.38}, "theta_decay", "option types"),
        (
            {"short_strike": 131.4, "long_strike": 126.4, "premium": 1.44},
            "VERTICAL_SPREAD",
            "option types",
        ),
        ({"short_strike": 100, "long_strike": 90, "premium": 1.0}, "", "option types"),
        ({"strike": 314.0, "premium": 1.2}, "quick_scalp", "legs not recorded"),  # V1 quick_scalp
        ({"premium_paid": 0.73, "underlying_price": 15.65}, "STRADDLE", "legs not recorded"),
        # the backend without a quote: strikes and price 0.0
        (
            {"short_strike": 0.0, "long_strike": None, "premium": 1.8, "underlying_price": 0.0},
            "COVERED_CALL",
            "legs not recorded",
        ),
        (
            {"short_strike": None, "long_strike": None, "premium": 2.5, "max_loss": math.inf},
            "NAKED_OPTION",
            "legs not recorded",
        ),
        (
            {"short_strike": 105.0, "premium": 2.0},
            "COVERED_CALL",
            "no price",
        ),  # shares without a price
        (
            {"legs": [{"action": "HOLD", "option_type": "CALL", "strike": 1}], "premium": 1},
            "CUSTOM",
            "legs not usable",
        ),
        (
            {"legs": [{"action": "BUY", "option_type": "CALL", "strike": 0}], "premium": 1},
            "CUSTOM",
            "legs not usable",
        ),
        (
            {"legs": [{"action": "BUY", "option_type": "CALL", "strike": 100}]},
            "CUSTOM",
            "no premium",
        ),
        # a collar: bought and sold legs with one net premium: its side is unknown
        (
            {
                "stock_price": 100,
                "premium": 0.5,
                "legs": [
                    {"action": "BUY", "option_type": "PUT", "strike": 95},
                    {"action": "SELL", "option_type": "CALL", "strike": 110},
                ],
            },
            "COLLAR",
            "paid or received",
        ),
        ("not-a-dict", "COVERED_CALL", "legs not recorded"),
        (None, "COVERED_CALL", "legs not recorded"),
    ],
)
def test_unknown_legs_draw_nothing_and_say_why(data: object, strategy: str, why: str) -> None:
    got = snap(data, strategy)
    assert got.position is None and why in got.reason
    assert p.from_data(data) is None or strategy == ""


def test_short_long_strikes_alone_are_not_a_position() -> None:
    # the old reading drew any short/long pair as an "assumed" credit spread
    assert p.from_data({"short_strike": 100, "long_strike": 95, "premium": 1.5}) is None
