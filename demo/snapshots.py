"""The `data` JSON of opportunity snapshots in the backend's shapes (V2 live, V1 scheduler, HEAD scanner).

Built as text from templates rather than with json.dumps: a million snapshots must be cheap.
Every builder returns (opportunity_id, strategy_type, data JSON, metric columns) where the metric
columns are (premium, max_loss, probability_profit, expected_value, days_to_expiration,
underlying_price, liquidity_score), as the backend copies them out of `data`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache

Metrics = tuple[float, float, float, float, int, float, float]
Snapshot = tuple[str, str, str, Metrics]

# Epoch suffixes of V1/fallback ids read naive UTC as local time (EDT): +4 h (BACKEND.md section 3).
EDT_SKEW_S = 4 * 3600
V2_TYPES = [
    "THETA_HARVESTING",
    "CREDIT_SPREAD",
    "VERTICAL_SPREAD",
    "theta_decay",
    "PROTECTIVE_PUT",
    "BUTTERFLY",
    "COVERED_CALL",
    "COLLAR",
    "theta_harvesting",
    "IRON_CONDOR",
]
TYPE_STEMS = {
    "THETA_HARVESTING": "ThetaCropWeekly",
    "CREDIT_SPREAD": "CreditSpread",
    "VERTICAL_SPREAD": "VerticalSpread",
    "PROTECTIVE_PUT": "ProtectivePut",
    "BUTTERFLY": "Butterfly",
    "COVERED_CALL": "CoveredCall",
    "COLLAR": "Collar",
    "IRON_CONDOR": "IronCondor",
}
BIASES = ["NEUTRAL", "BULLISH", "BEARISH"]
SOURCES = ["strategy_plugin", "strategy_registry"]
UNIVERSES = ["default", "default", "thetacrop", "etf_core"]


def v2_live(
    r: Callable[[], float], i: int, sym: str, px: float, iso: str, day: int, epoch: int
) -> Snapshot:
    """A V2 live-scan opportunity (the current backend's shape)."""
    st = V2_TYPES[int(r() * len(V2_TYPES))]
    stem = TYPE_STEMS.get(st)
    oid = f"json_{stem}_{sym}_{i}_{epoch}" if stem else f"{sym}_{st}_{epoch + EDT_SKEW_S}_{i}"
    short = round(px * (0.9 + r() * 0.08), 1)
    long_ = "null" if r() < 0.15 else repr(round(short - (5 if r() < 0.7 else 10), 1))
    prem = round(1 + r() * 3, 2)
    ml = float(int(300 + r() * 700))
    pop = round(0.6 + r() * 0.32, 3)
    ev = round((pop - 0.55) * ml * 1.2, 2)
    dte = int(5 + r() * 40)
    liq = round(8 + r() * 1.2, 1)
    data = (
        f'{{"id": "{oid}", "symbol": "{sym}", "strategy_type": "{st}", "short_strike": {short!r}, '
        f'"long_strike": {long_}, "premium": {prem!r}, "max_loss": {ml!r}, "delta": {-round(0.05 + r() * 0.2, 2)!r}, '
        f'"probability_profit": {pop!r}, "expected_value": {ev!r}, "days_to_expiration": {dte}, '
        f'"underlying_price": {px!r}, "liquidity_score": {liq!r}, "bias": "{BIASES[int(r() * 3)]}", '
        f'"rsi": {round(30 + r() * 40, 1)!r}, "created_at": "{iso}", "is_demo": false, '
        f'"scan_source": "{SOURCES[int(r() * 2)]}", "universe": "{UNIVERSES[int(r() * 4)]}"}}'
    )
    return oid, st, data, (prem, ml, pop, ev, dte, px, liq)


def fallback(
    r: Callable[[], float], i: int, sym: str, px: float, iso: str, day: int, epoch: int
) -> Snapshot:
    """The older fallback scan's shape (`fallback_None_{SYM}_{epoch}`, theta_decay, price ~625-633)."""
    oid = f"fallback_None_{sym}_{epoch + EDT_SKEW_S}"
    under = round(625 + r() * 8, 2)
    prem = round(2.5 + r() * 1.3, 2)
    pop = round(0.72 + r() * 0.06, 3)
    st = "theta_decay" if r() < 0.8 else "PROTECTIVE_PUT"
    data = (
        f'{{"id": "{oid}", "symbol": "{sym}", "strategy_type": "{st}", "short_strike": 630, '
        f'"long_strike": 617, "premium": {prem!r}, "max_loss": 750, "delta": -0.15, '
        f'"probability_profit": {pop!r}, "expected_value": 180, "days_to_expiration": 30, '
        f'"underlying_price": {under!r}, "liquidity_score": 9.0, "bias": "BULLISH", "rsi": {int(30 + r() * 25)}, '
        f'"created_at": "{iso}", "is_demo": false, "scan_source": "fallback_scan", "universe": "default"}}'
    )
    return oid, st, data, (prem, 750.0, pop, 180.0, 30, under, 9.0)


def v1_high_probability(
    r: Callable[[], float], i: int, sym: str, px: float, iso: str, day: int, epoch: int
) -> Snapshot:
    """The V1 scheduler's high_probability shape (strikes at 0.98/0.90 of the price, scan_timestamp, is_live)."""
    oid = f"{sym}_high_probability_{epoch + EDT_SKEW_S}"
    data = (
        f'{{"id": "{oid}", "symbol": "{sym}", "strategy_type": "high_probability", '
        f'"short_strike": {px * 0.98!r}, "long_strike": {px * 0.9!r}, "premium": 2.85, "max_loss": 715, '
        f'"delta": -0.12, "probability_profit": 0.78, "expected_value": 195.5, "days_to_expiration": 28, '
        f'"underlying_price": {px!r}, "liquidity_score": 8.5, "bias": "BULLISH", "rsi": 50.0, '
        f'"created_at": "{iso}", "scan_timestamp": "{iso}", "is_live": true}}'
    )
    return oid, "high_probability", data, (2.85, 715.0, 0.78, 195.5, 28, px, 8.5)


def v1_quick_scalp(
    r: Callable[[], float], i: int, sym: str, px: float, iso: str, day: int, epoch: int
) -> Snapshot:
    """The V1 quick_scalp shape: a single `strike` in place of short and long."""
    oid = f"{sym}_quick_scalp_{epoch + EDT_SKEW_S}"
    data = (
        f'{{"id": "{oid}", "symbol": "{sym}", "strategy_type": "quick_scalp", "strike": {round(px, 0)!r}, '
        f'"premium": 1.2, "max_loss": 120, "delta": 0.45, "probability_profit": 0.55, "expected_value": 12.0, '
        f'"days_to_expiration": 3, "underlying_price": {px!r}, "liquidity_score": 9.1, "bias": "NEUTRAL", '
        f'"rsi": 50.0, "created_at": "{iso}", "scan_timestamp": "{iso}", "is_live": true}}'
    )
    return oid, "quick_scalp", data, (1.2, 120.0, 0.55, 12.0, 3, px, 9.1)


def _legs(r: Callable[[], float], px: float, width: float) -> str:
    sp, lp = round(px * 0.95, 1), round(px * 0.95 - width, 1)
    sc, lc = round(px * 1.05, 1), round(px * 1.05 + width, 1)
    return (
        f'[{{"action": "SELL", "option_type": "PUT", "strike": {sp!r}, "delta": -0.16}}, '
        f'{{"action": "BUY", "option_type": "PUT", "strike": {lp!r}, "delta": -0.08}}, '
        f'{{"action": "SELL", "option_type": "CALL", "strike": {sc!r}, "delta": 0.15}}, '
        f'{{"action": "BUY", "option_type": "CALL", "strike": {lc!r}, "delta": 0.07}}]'
    )


@lru_cache(maxsize=4096)
def day_iso(day: int) -> str:
    """'YYYY-MM-DD' of a day number since 1970-01-01."""
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def _head_common(
    oid: str,
    sym: str,
    st: str,
    px_key: str,
    px: float,
    iso: str,
    exp_day: int,
    dte: int,
    score: float,
) -> str:
    return (
        f'"id": "{oid}", "symbol": "{sym}", "strategy_type": "{st}", "{px_key}": {px!r}, '
        f'"expiration_date": "{day_iso(exp_day)}", "days_to_expiration": {dte}, "score": {score!r}, '
        f'"created_at": "{iso}"'
    )


def head_condor(
    r: Callable[[], float],
    i: int,
    sym: str,
    px: float,
    iso: str,
    day: int,
    epoch: int,
    st: str = "IRON_CONDOR",
) -> Snapshot:
    """HEAD strategy_specific_scanner: THETA_HARVESTING / IRON_CONDOR with 4 legs."""
    prefix = "ic" if st == "IRON_CONDOR" else "theta"
    oid = f"{prefix}_{sym}_{i}_{epoch}"
    width = 5.0 if r() < 0.6 else 10.0
    prem = round(0.8 + r() * 2.2, 2)
    ml = round(width * 100 - prem * 100, 2)
    pop = r() * 0.25 + 0.62
    ev = pop * prem * 100 - (1 - pop) * ml
    dte = int(7 + r() * 38)
    extra = (
        f', "profit_zone_width": {round(px * 0.1, 2)!r}'
        if st == "IRON_CONDOR"
        else f', "theta": {round(r() * 0.3, 3)!r}'
    )
    data = (
        f"{{{_head_common(oid, sym, st, 'underlying_price', px, iso, day + dte, dte, round(1 + r() * 9, 1))}, "
        f'"legs": {_legs(r, px, width)}, "premium": {prem!r}, "max_profit": {prem * 100!r}, "max_loss": {ml!r}, '
        f'"probability_profit": {pop!r}, "expected_value": {ev!r}, "break_even_high": {round(px * 1.05 + prem, 2)!r}, '
        f'"break_even_low": {round(px * 0.95 - prem, 2)!r}{extra}}}'
    )
    return oid, st, data, (prem, ml, pop, ev, dte, px, 0.0)


def head_theta(
    r: Callable[[], float], i: int, sym: str, px: float, iso: str, day: int, epoch: int
) -> Snapshot:
    """The ThetaCropWeekly plugin's lower-case theta_harvesting, with legs."""
    return head_condor(r, i, sym, px, iso, day, epoch, st="theta_harvesting")


def head_rsi(
    r: Callable[[], float], i: int, sym: str, px: float, iso: str, day: int, epoch: int
) -> Snapshot:
    """HEAD RSI_COUPON: one BUY CALL leg and max_profit "Unlimited"."""
    oid = f"rsi_{sym}_{i}_{epoch}"
    prem = round(1.5 + r() * 4, 2)
    strike = round(px * 1.02, 1)
    pop = round(0.35 + r() * 0.25, 3)
    dte = int(14 + r() * 30)
    ev = round(pop * 250 - (1 - pop) * prem * 100, 2)
    data = (
        f"{{{_head_common(oid, sym, 'RSI_COUPON', 'underlying_price', px, iso, day + dte, dte, round(1 + r() * 9, 1))}, "
        f'"legs": [{{"action": "BUY", "option_type": "CALL", "strike": {strike!r}, "delta": 0.4}}], '
        f'"premium": {prem!r}, "max_profit": "Unlimited", "max_loss": {prem * 100!r}, '
        f'"probability_profit": {pop!r}, "expected_value": {ev!r}, "break_even": {round(strike + prem, 2)!r}, '
        f'"rsi_level": {round(22 + r() * 10, 1)!r}, "reversal_signal": "{"OVERSOLD" if r() < 0.6 else "BULLISH"}"}}'
    )
    return oid, "RSI_COUPON", data, (prem, prem * 100, pop, ev, dte, px, 0.0)


def head_protective_put(
    r: Callable[[], float], i: int, sym: str, px: float, iso: str, day: int, epoch: int
) -> Snapshot:
    """HEAD PROTECTIVE_PUT: `stock_price` instead of underlying_price, insurance figures."""
    oid = f"pp_{sym}_{i}_{epoch}"
    cost = round(px * (0.01 + r() * 0.02), 2)
    dte = int(30 + r() * 60)
    pop = round(0.45 + r() * 0.2, 3)
    with_put = round(px * 0.1 + cost, 2)
    data = (
        f"{{{_head_common(oid, sym, 'PROTECTIVE_PUT', 'stock_price', px, iso, day + dte, dte, round(1 + r() * 9, 1))}, "
        f'"legs": [{{"action": "BUY", "option_type": "PUT", "strike": {round(px * 0.9, 1)!r}, "delta": -0.2}}], '
        f'"premium": {cost!r}, "insurance_cost": {cost!r}, "protection_level": 90.0, '
        f'"max_loss_with_put": {with_put!r}, "max_loss_without_put": {px!r}, "max_profit": "Unlimited", '
        f'"probability_profit": {pop!r}}}'
    )
    return oid, "PROTECTIVE_PUT", data, (cost, with_put, pop, 0.0, dte, px, 0.0)


def head_volatility(
    r: Callable[[], float], i: int, sym: str, px: float, iso: str, day: int, epoch: int
) -> Snapshot:
    """HEAD STRADDLE / STRANGLE: premium_paid, iv_rank, expected_move."""
    st = "STRADDLE" if r() < 0.5 else "STRANGLE"
    oid = f"{st.lower()}_{sym}_{i}_{epoch}"
    paid = round(px * (0.02 + r() * 0.04), 2)
    dte = int(7 + r() * 30)
    pop = round(0.3 + r() * 0.2, 3)
    data = (
        f"{{{_head_common(oid, sym, st, 'underlying_price', px, iso, day + dte, dte, round(1 + r() * 9, 1))}, "
        f'"premium_paid": {paid!r}, "iv_rank": {int(15 + r() * 70)}, "expected_move": {round(px * 0.05, 2)!r}, '
        f'"max_loss": {paid * 100!r}, "max_profit": "Unlimited", "probability_profit": {pop!r}}}'
    )
    return oid, st, data, (paid, paid * 100, pop, 0.0, dte, px, 0.0)


def head_generic(
    r: Callable[[], float], i: int, sym: str, px: float, iso: str, day: int, epoch: int
) -> Snapshot:
    """HEAD generic types: premium and probability_profit only."""
    st = ["CALENDAR_SPREAD", "BUTTERFLY", "COLLAR", "NAKED_OPTION", "CUSTOM"][int(r() * 5)]
    oid = f"{st.lower()}_{sym}_{i}_{epoch}"
    prem = round(0.5 + r() * 3, 2)
    pop = round(0.5 + r() * 0.3, 3)
    dte = int(10 + r() * 40)
    data = (
        f"{{{_head_common(oid, sym, st, 'underlying_price', px, iso, day + dte, dte, round(1 + r() * 9, 1))}, "
        f'"premium": {prem!r}, "probability_profit": {pop!r}}}'
    )
    return oid, st, data, (prem, 0.0, pop, 0.0, dte, px, 0.0)


# Which shape a scan's opportunities take, per V1 strategy.
BY_SCAN_STRATEGY = {
    "high_probability": v1_high_probability,
    "quick_scalp": v1_quick_scalp,
    "theta_crop": head_theta,
    "volatility_play": head_volatility,
    "swing_trade": v2_live,
}
# Shapes of snapshots written without a scan (V2 live scans), cumulative weights.
FREE_SHAPES = [
    (0.55, v2_live),
    (0.68, head_condor),
    (0.78, head_rsi),
    (0.88, head_protective_put),
    (0.93, head_generic),
    (1.0, fallback),
]
# Keys kept by old rows that hold only part of `data`.
PARTIAL_KEYS = ("id", "symbol", "strategy_type", "premium", "probability_profit")


def partial(oid: str, sym: str, st: str, m: Metrics) -> str:
    """An older row's `data` that keeps only some keys."""
    return (
        f'{{"id": "{oid}", "symbol": "{sym}", "strategy_type": "{st}", "premium": {m[0]!r}, '
        f'"probability_profit": {m[2]!r}}}'
    )
