"""Payoff at expiry of an options position from its legs: P/L curve, break-evens, max profit/loss.

Pure arithmetic, no database. Prices are per share; P/L is per position in dollars
(`CONTRACT_MULTIPLIER` shares per contract, and a stock leg is that many shares).

`from_snapshot` draws only what a snapshot really records (BACKEND.md 2.4 and 2.6):
- a `legs` list (action BUY/SELL, option_type CALL/PUT, strike, optional quantity), plus the
  long stock of a covered call, protective put or collar, bought at `stock_price` (else
  `underlying_price`);
- without `legs`, only where the strategy itself fixes the option types of `short_strike` /
  `long_strike`: a covered call (stock + short call at short_strike), a protective put (stock +
  long put at long_strike), a put or call spread, and a credit spread (a credit vertical whose
  short strike is above its long strike is a put spread, below it a call spread).
Anything else (strikes without types, strikes of 0 written when the backend had no quote, legs it
cannot read) is "legs not recorded": nothing is drawn, and the reason is said.

The snapshots carry one net premium and legs without prices, so whether it was received
(credit) or paid (debit) follows from the option legs: legs whose value at expiry is never
positive were sold for a credit, never negative bought for a debit; otherwise it is unknown and
nothing is drawn. The result's max profit, max loss and break-evens are compared with what the
row says (`findings`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CONTRACT_MULTIPLIER = 100
ACTIONS = {"BUY": 1, "SELL": -1}
OPTION_TYPES = ("CALL", "PUT")
STOCK = "STOCK"
# Strategies holding 100 shares beside their options.
WITH_STOCK = ("COVERED_CALL", "PROTECTIVE_PUT", "COLLAR")
# Strategies whose name fixes the option type of short_strike / long_strike (None: a credit
# spread, whose type follows from the order of the strikes).
SPREAD_TYPES: dict[str, str | None] = {
    "PUT_SPREAD": "PUT",
    "CALL_SPREAD": "CALL",
    "CREDIT_SPREAD": None,
}
# How far the row's figures may lie from the legs' before it is said (rounding in the backend).
MONEY_TOLERANCE = (1.0, 0.005)  # dollars, relative
PRICE_TOLERANCE = (0.05, 0.001)


@dataclass(frozen=True)
class Leg:
    """BUY or SELL `quantity` CALL/PUT contracts at `strike`, or `quantity` x 100 shares of STOCK
    bought (or sold) at `strike` (the entry price)."""

    action: str
    option_type: str
    strike: float
    quantity: float = 1.0

    @property
    def sign(self) -> int:
        return ACTIONS[self.action]

    def value_at(self, price: float) -> float:
        """Value per share at expiry, signed (+ long, - short); a stock leg counts from its entry price."""
        if self.option_type == STOCK:
            return self.sign * self.quantity * (price - self.strike)
        intrinsic = (
            max(price - self.strike, 0.0)
            if self.option_type == "CALL"
            else max(self.strike - price, 0.0)
        )
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
        """The prices where the P/L bends (and stock entry prices), ascending."""
        return sorted({leg.strike for leg in self.legs})

    def slope_above(self) -> float:
        """d(P/L)/d(price) beyond the highest strike (calls and stock)."""
        return (
            sum(leg.sign * leg.quantity for leg in self.legs if leg.option_type in ("CALL", STOCK))
            * CONTRACT_MULTIPLIER
        )

    def slope_below(self) -> float:
        """d(P/L)/d(price) below the lowest strike (puts and stock)."""
        puts = sum(leg.sign * leg.quantity for leg in self.legs if leg.option_type == "PUT")
        stock = sum(leg.sign * leg.quantity for leg in self.legs if leg.option_type == STOCK)
        return (stock - puts) * CONTRACT_MULTIPLIER


def premium_side(legs: Sequence[Leg]) -> bool | None:
    """True (credit) when the option legs' value at expiry is never positive, False (debit) when it
    is never negative, None when it can be either (the premium's side is then unknown)."""
    options = tuple(leg for leg in legs if leg.option_type != STOCK)
    if not options:
        return None
    probe = Position(options, 0.0, True)
    values = [probe.pnl(p) for p in [0.0, *probe.strikes]]
    up = probe.slope_above()
    if max(values) <= 1e-9 and up <= 0:
        return True
    if min(values) >= -1e-9 and up >= 0:
        return False
    return None


def is_credit(legs: Sequence[Leg]) -> bool:
    """True when the option legs were sold for a credit (see `premium_side`)."""
    return premium_side(legs) is True


def build(legs: Sequence[Leg], premium: float, assumption: str = "") -> Position:
    """A position whose credit/debit side follows from its option legs (a debit when unknown:
    `from_snapshot` never builds those)."""
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
    """(max profit, max loss) in dollars; `math.inf` where unlimited. Max loss is a positive number
    (a loss at every price gives a negative max profit; a profit at every price a negative max loss)."""
    points = [0.0, *pos.strikes]
    values = [pos.pnl(p) for p in points]
    best, worst = max(values), min(values)
    if pos.slope_above() > 0:
        best = math.inf
    if pos.slope_above() < 0:
        worst = -math.inf
    return best, -worst


def curve(
    pos: Position, *, points: int = 121, spot: float | None = None
) -> tuple[list[float], list[float]]:
    """Prices and P/L for a chart: the strikes (and spot) plus a margin either side."""
    anchors = [*pos.strikes, *([spot] if spot and math.isfinite(spot) and spot > 0 else [])]
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
    except (TypeError, ValueError, OverflowError):
        return None
    return out if math.isfinite(out) else None


def _price(value: Any) -> float | None:
    """A strike or share price: a positive finite number (the backend writes 0.0 without a quote)."""
    out = _number(value)
    return out if out is not None and out > 0 else None


def _leg(raw: Any) -> Leg | None:
    if not isinstance(raw, Mapping):
        return None
    action = str(raw.get("action", "")).strip().upper()
    kind = str(raw.get("option_type", raw.get("type", ""))).strip().upper()
    strike = _price(raw.get("strike"))
    qty = _number(raw.get("quantity", raw.get("qty", 1)))
    if action not in ACTIONS or kind not in OPTION_TYPES or strike is None or not qty:
        return None
    return Leg(action, kind, strike, abs(qty))


def from_data(data: Any, premium: float | None = None) -> Position | None:
    """The position of a `legs` list in `data` (no strategy known: short/long strikes alone say
    nothing of their option types); None when not recorded. See `from_snapshot`."""
    return from_snapshot(data, strategy="", premium=premium).position


# ---- a snapshot's payoff, and how it agrees with the row ---------------------------------------


@dataclass(frozen=True)
class RowFigures:
    """What the row itself says (None where it says nothing): max loss and max profit in dollars
    (`math.inf` for unlimited), break-evens as data names them."""

    max_loss: float | None = None
    max_profit: float | None = None
    break_evens: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class SnapshotPayoff:
    """A snapshot's position, or why none can be drawn; and where the row disagrees with its legs."""

    position: Position | None
    reason: str = ""
    source: str = ""
    findings: tuple[str, ...] = ()


def _strategy(name: Any) -> str:
    return str(name or "").strip().upper()


def _stock_price(data: Mapping[str, Any], spot: float | None) -> float | None:
    for value in (data.get("stock_price"), data.get("underlying_price"), spot):
        price = _price(value)
        if price is not None:
            return price
    return None


def _legs_from_list(raw: list[Any]) -> tuple[list[Leg] | None, str]:
    legs = [_leg(r) for r in raw]
    if not all(legs):
        return None, "a leg in data lacks a BUY/SELL action, a CALL/PUT type or a positive strike"
    return [leg for leg in legs if leg], "legs from data"


def _legs_from_strikes(data: Mapping[str, Any], strategy: str) -> tuple[list[Leg] | None, str]:
    """Option legs from short_strike / long_strike where the strategy fixes their types."""
    short, long_ = _price(data.get("short_strike")), _price(data.get("long_strike"))
    if strategy == "COVERED_CALL" and short is not None:
        extra = (
            f"; long_strike {long_:,.2f} is no part of a covered call, left out"
            if long_ is not None
            else ""
        )
        return [Leg("SELL", "CALL", short)], f"short call at short_strike (a covered call){extra}"
    if strategy == "PROTECTIVE_PUT" and long_ is not None:
        return [Leg("BUY", "PUT", long_)], "long put at long_strike (a protective put)"
    if strategy in SPREAD_TYPES and short is not None and long_ is not None and short != long_:
        kind = SPREAD_TYPES[strategy] or ("PUT" if short > long_ else "CALL")
        side = "credit" if (short > long_) == (kind == "PUT") else "debit"
        return (
            [Leg("SELL", kind, short), Leg("BUY", kind, long_)],
            f"assumed a {kind.lower()} {side} spread from short/long strikes and the strategy {strategy}",
        )
    if short is not None or long_ is not None:
        return None, (
            "legs not recorded in this snapshot: it holds short/long strikes, but not their "
            "option types, and its strategy does not fix them"
        )
    return None, "legs not recorded in this snapshot"


def from_snapshot(
    data: Any,
    *,
    strategy: Any,
    premium: float | None,
    spot: float | None = None,
    row: RowFigures | None = None,
) -> SnapshotPayoff:
    """The payoff a snapshot's `data` records (see the module docstring), with `premium` the row's
    net premium per share (else data's premium, premium_paid or insurance_cost) and `spot` its
    underlying price (the stock leg's price when data has neither stock_price nor underlying_price)."""
    if not isinstance(data, Mapping):
        return SnapshotPayoff(
            None, "legs not recorded in this snapshot (its data is not an object)"
        )
    kind = _strategy(strategy if strategy else data.get("strategy_type"))
    raw_legs = data.get("legs")
    if isinstance(raw_legs, list) and raw_legs:
        legs, source = _legs_from_list(raw_legs)
    else:
        legs, source = _legs_from_strikes(data, kind)
    if legs is None:
        return SnapshotPayoff(
            None, source if source.startswith("legs not") else f"legs not usable: {source}"
        )
    prem = _number(premium)
    for key in ("premium", "premium_paid", "insurance_cost"):
        prem = prem if prem is not None else _number(data.get(key))
    if prem is None:
        return SnapshotPayoff(None, "no premium recorded in this snapshot: its P/L cannot be drawn")
    if kind in WITH_STOCK:
        price = _stock_price(data, spot)
        if price is None:
            return SnapshotPayoff(
                None,
                f"a {kind.lower().replace('_', ' ')} holds 100 shares, but this snapshot "
                "records no price for them (stock_price / underlying_price)",
            )
        legs = [Leg("BUY", STOCK, price), *legs]
        source += f"; 100 shares at {price:,.2f}"
    side = premium_side(legs)
    if side is None:
        return SnapshotPayoff(
            None,
            "the legs are both bought and sold, and the snapshot records one net "
            "premium: whether it was paid or received is not recorded",
        )
    pos = Position(tuple(legs), abs(prem), side, source)
    return SnapshotPayoff(pos, source=source, findings=tuple(compare(pos, row or RowFigures())))


def _close(a: float, b: float, tolerance: tuple[float, float]) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    absolute, relative = tolerance
    return abs(a - b) <= max(absolute, relative * abs(b))


def _money(value: float) -> str:
    return "unlimited" if math.isinf(value) else f"${value:,.2f}"


def compare(pos: Position, row: RowFigures) -> list[str]:
    """Where the row's max loss, max profit and break-evens disagree with its legs', in words."""
    best, worst = extremes(pos)
    out = []
    if row.max_loss is not None and not _close(row.max_loss, worst, MONEY_TOLERANCE):
        out.append(f"the row says max loss {_money(row.max_loss)}; its legs give {_money(worst)}")
    if row.max_profit is not None and not _close(row.max_profit, best, MONEY_TOLERANCE):
        out.append(
            f"the row says max profit {_money(row.max_profit)}; its legs give {_money(best)}"
        )
    bes = break_evens(pos)
    for name, value in row.break_evens:
        wanted = {"break_even_low": bes[:1], "break_even_high": bes[-1:]}.get(name, bes)
        if not any(_close(value, b, PRICE_TOLERANCE) for b in wanted):
            got = ", ".join(f"{b:,.2f}" for b in bes) or "none"
            out.append(f"the row says {name} {value:,.2f}; its legs give break-evens {got}")
    return out


def row_figures(data: Any, *, max_loss: float | None) -> RowFigures:
    """The row's own figures: its max loss (the row's metric), and from data max_profit (a number or
    'Unlimited') and break_even / break_even_low / break_even_high."""
    if not isinstance(data, Mapping):
        return RowFigures(max_loss=max_loss)
    raw = data.get("max_profit")
    unlimited = isinstance(raw, str) and raw.strip().lower() in ("unlimited", "inf", "infinity")
    max_profit = math.inf if unlimited else _number(raw)
    bes = tuple(
        (k, v)
        for k in ("break_even", "break_even_low", "break_even_high")
        if (v := _number(data.get(k))) is not None
    )
    loss = max_loss if max_loss is None or not math.isnan(max_loss) else None
    return RowFigures(max_loss=loss, max_profit=max_profit, break_evens=bes)


def legs_table(pos: Position) -> list[dict[str, Any]]:
    """The legs as rows for a table (a stock leg's price is its entry price; its quantity in lots of 100 shares)."""
    return [
        {
            "action": leg.action,
            "type": "STOCK (100 shares)" if leg.option_type == STOCK else leg.option_type,
            "strike / price": leg.strike,
            "quantity": leg.quantity,
        }
        for leg in pos.legs
    ]
