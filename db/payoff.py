"""Payoff at expiry of an options position from its legs: P/L curve, break-evens, max profit/loss.

Pure arithmetic, no database. Prices are per share; P/L is per position in dollars
(`CONTRACT_MULTIPLIER` shares per contract). The snapshots carry one net premium and legs
without prices, so whether the premium was received (credit) or paid (debit) is decided
from the legs: a position whose value at expiry can never be positive was opened for a
credit; otherwise it was bought for a debit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CONTRACT_MULTIPLIER = 100
ACTIONS = {"BUY": 1, "SELL": -1}
OPTION_TYPES = ("CALL", "PUT")


@dataclass(frozen=True)
class Leg:
    """One option leg: BUY or SELL `quantity` CALL/PUT contracts at `strike`."""

    action: str
    option_type: str
    strike: float
    quantity: float = 1.0

    @property
    def sign(self) -> int:
        return ACTIONS[self.action]

    def value_at(self, price: float) -> float:
        """Intrinsic value per share at expiry, signed (+ long, - short)."""
        intrinsic = max(price - self.strike, 0.0) if self.option_type == "CALL" else max(self.strike - price, 0.0)
        return self.sign * self.quantity * intrinsic


@dataclass(frozen=True)
class Position:
    """Legs plus the net premium per share (positive number) and whether it was a credit."""

    legs: tuple[Leg, ...]
    premium: float
    credit: bool
    assumption: str = ""

    def pnl(self, price: float) -> float:
        """Profit or loss in dollars at expiry when the underlying closes at `price`."""
        intrinsic = sum(leg.value_at(price) for leg in self.legs)
        cash = self.premium if self.credit else -self.premium
        return (intrinsic + cash) * CONTRACT_MULTIPLIER

    @property
    def strikes(self) -> list[float]:
        return sorted({leg.strike for leg in self.legs})

    def slope_above(self) -> float:
        """d(P/L)/d(price) beyond the highest strike (calls only matter there)."""
        return sum(leg.sign * leg.quantity for leg in self.legs if leg.option_type == "CALL") * CONTRACT_MULTIPLIER

    def slope_below(self) -> float:
        """d(P/L)/d(price) below the lowest strike (puts only matter there)."""
        return -sum(leg.sign * leg.quantity for leg in self.legs if leg.option_type == "PUT") * CONTRACT_MULTIPLIER


def is_credit(legs: Sequence[Leg]) -> bool:
    """True when the legs' value at expiry is never positive (so the position was sold for a credit)."""
    probe = Position(tuple(legs), 0.0, True)
    points = [0.0, *probe.strikes]
    return max(probe.pnl(p) for p in points) <= 1e-9 and probe.slope_above() <= 0


def build(legs: Sequence[Leg], premium: float, assumption: str = "") -> Position:
    """A position whose credit/debit side follows from its legs."""
    return Position(tuple(legs), abs(premium), is_credit(legs), assumption)


def break_evens(pos: Position) -> list[float]:
    """Underlying prices at expiry where the P/L crosses zero, ascending."""
    strikes = pos.strikes
    if not strikes:
        return []
    points: list[float] = []
    lo, hi = strikes[0], strikes[-1]
    below = pos.slope_below()
    if pos.pnl(lo) * below > 0:
        cross = lo - pos.pnl(lo) / below
        if cross >= 0:
            points.append(cross)
    for a, b in zip(strikes, strikes[1:], strict=False):
        pa, pb = pos.pnl(a), pos.pnl(b)
        if pa == 0:
            points.append(a)
        elif pa * pb < 0:
            points.append(a + (b - a) * pa / (pa - pb))
    if pos.pnl(hi) == 0:
        points.append(hi)
    above = pos.slope_above()
    if pos.pnl(hi) * above < 0:
        points.append(hi - pos.pnl(hi) / above)
    return sorted({round(p, 10) for p in points})


def extremes(pos: Position) -> tuple[float, float]:
    """(max profit, max loss) in dollars; `math.inf` where unlimited. Max loss is a positive number."""
    points = [0.0, *pos.strikes]
    values = [pos.pnl(p) for p in points]
    best, worst = max(values), min(values)
    if pos.slope_above() > 0:
        best = math.inf
    if pos.slope_above() < 0:
        worst = -math.inf
    return best, -worst


def curve(pos: Position, *, points: int = 121, spot: float | None = None) -> tuple[list[float], list[float]]:
    """Prices and P/L for a chart: the strikes (and spot) plus a margin either side."""
    anchors = [*pos.strikes, *([spot] if spot else [])]
    lo, hi = min(anchors), max(anchors)
    pad = max((hi - lo) * 0.5, hi * 0.05, 1.0)
    start, stop = max(lo - pad, 0.0), hi + pad
    step = (stop - start) / (points - 1)
    xs = sorted({*(start + i * step for i in range(points)), *pos.strikes})
    return xs, [pos.pnl(x) for x in xs]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _leg(raw: Any) -> Leg | None:
    if not isinstance(raw, Mapping):
        return None
    action = str(raw.get("action", "")).upper()
    kind = str(raw.get("option_type", raw.get("type", ""))).upper()
    strike = _number(raw.get("strike"))
    qty = _number(raw.get("quantity", raw.get("qty", 1))) or 1.0
    if action not in ACTIONS or kind not in OPTION_TYPES or strike is None:
        return None
    return Leg(action, kind, strike, abs(qty))


def from_data(data: Any, premium: float | None = None) -> Position | None:
    """The position described by a snapshot's `data` (a `legs` list, or short/long strikes); None if unknown.

    With only `short_strike` and `long_strike` the option type is inferred: a short strike
    above the long one is a put credit spread, below it a call credit spread.
    """
    if not isinstance(data, Mapping):
        return None
    prem = premium if premium is not None else _number(data.get("premium"))
    if prem is None:
        prem = _number(data.get("premium_paid"))
    if prem is None:
        return None
    raw_legs = data.get("legs")
    if isinstance(raw_legs, list) and raw_legs:
        legs = [_leg(r) for r in raw_legs]
        if all(legs):
            return build([leg for leg in legs if leg], prem, "legs from data")
        return None
    short, long_ = _number(data.get("short_strike")), _number(data.get("long_strike"))
    if short is None or long_ is None or short == long_:
        return None
    kind = "PUT" if short > long_ else "CALL"
    legs_sl = [Leg("SELL", kind, short), Leg("BUY", kind, long_)]
    return build(legs_sl, prem, f"assumed a {kind.lower()} credit spread from short/long strikes")


def legs_table(pos: Position) -> list[dict[str, Any]]:
    """The legs as rows for a table."""
    return [{"action": leg.action, "type": leg.option_type, "strike": leg.strike, "quantity": leg.quantity}
            for leg in pos.legs]
