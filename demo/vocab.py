"""Vocabularies and JSON shapes the scanner backend really writes (BACKEND.md section 2), for demo.generate.

Plain constants and small pure builders; nothing here touches a database.
"""

from __future__ import annotations

import json
from random import Random
from typing import Any

# Tickers with a plausible price level.
PRICES: dict[str, float] = {
    "SPY": 560.0,
    "QQQ": 480.0,
    "IWM": 210.0,
    "DIA": 420.0,
    "AAPL": 202.3,
    "MSFT": 523.7,
    "GOOGL": 188.7,
    "AMZN": 215.0,
    "NVDA": 175.0,
    "TSLA": 310.0,
    "META": 700.0,
    "BRK-B": 470.0,
    "TLT": 88.0,
    "GLD": 300.0,
    "XLF": 50.0,
    "XLE": 85.0,
    "XLK": 230.0,
    "XLV": 140.0,
    "XLI": 135.0,
    "EEM": 45.0,
    "VTI": 290.0,
    "ARKK": 65.0,
    "VIX": 16.0,
    "UVXY": 12.0,
    "SQQQ": 8.0,
}
THETACROP_UNIVERSE = [
    "SPY",
    "QQQ",
    "IWM",
    "TLT",
    "GLD",
    "XLF",
    "XLE",
    "XLK",
    "XLV",
    "XLI",
    "EEM",
    "VTI",
    "ARKK",
]

# The V1 scheduler's strategies: (name, interval_minutes, exact scan_parameters JSON).
SCAN_STRATEGIES: list[tuple[str, float, dict[str, Any]]] = [
    (
        "high_probability",
        4,
        {
            "interval_minutes": 4,
            "enabled": True,
            "market_hours_only": True,
            "symbols": ["SPY", "QQQ", "IWM", "AAPL", "MSFT", "GOOGL", "AMZN"],
        },
    ),
    (
        "quick_scalp",
        1.5,
        {
            "interval_minutes": 1.5,
            "enabled": True,
            "peak_hours_only": True,
            "symbols": ["SPY", "QQQ", "TSLA", "NVDA"],
        },
    ),
    (
        "swing_trade",
        12,
        {
            "interval_minutes": 12,
            "enabled": True,
            "market_hours_only": True,
            "symbols": [
                "SPY",
                "QQQ",
                "IWM",
                "AAPL",
                "MSFT",
                "GOOGL",
                "AMZN",
                "NVDA",
                "TSLA",
                "META",
            ],
        },
    ),
    (
        "volatility_play",
        2.5,
        {
            "interval_minutes": 2.5,
            "enabled": True,
            "market_hours_only": True,
            "event_driven": True,
            "symbols": ["SPY", "QQQ", "VIX", "UVXY", "SQQQ"],
        },
    ),
    (
        "theta_crop",
        7,
        {
            "interval_minutes": 7,
            "enabled": True,
            "market_hours_only": True,
            "symbols": ["SPY", "QQQ", "IWM", "DIA"],
        },
    ),
]
# Mean scan duration in seconds per strategy (real data: 2.2 s, 1.45 s, about 0.02 s for the rest).
SCAN_DURATION_S = {
    "high_probability": 2.2,
    "quick_scalp": 1.45,
    "swing_trade": 0.8,
    "volatility_play": 0.02,
    "theta_crop": 0.02,
}
# At most this many opportunities per completed scan (real: high_probability 3, quick_scalp 2).
SCAN_MAX_OPPS = {
    "high_probability": 3,
    "quick_scalp": 2,
    "swing_trade": 2,
    "volatility_play": 2,
    "theta_crop": 1,
}
SCAN_FAILURES = {
    "opportunity_cache": [
        "Strategy registry not available for {s}",
        "Real-time price data unavailable for SPY",
    ],
    "strategy_specific_scanner": [
        "Strategy-specific scan failed for {S}: division by zero",
        "'NoneType' object has no attribute 'get_strategy'",
    ],
    "yfinance": [
        "HTTPSConnectionPool(host='query1.finance.yahoo.com', port=443): Read timed out. (read timeout=10)",
        "429 Client Error: Too Many Requests for url: https://query1.finance.yahoo.com/v7/finance/quote",
    ],
}

# Health: service -> typical response time in ms. Names are inferred (BACKEND.md 2.2).
HEALTH_SERVICES: dict[str, int] = {
    "opportunity_cache": 45,
    "strategy_specific_scanner": 320,
    "universe_loader": 12,
    "strategy_ai_service": 900,
    "yfinance": 260,
    "database": 4,
    "alpaca_provider": 180,
}
HEALTH_ERRORS = {
    "opportunity_cache": ["Strategy registry unavailable", "cache refresh took 41.2s"],
    "strategy_specific_scanner": ["scan worker not responding", "division by zero"],
    "universe_loader": [
        "[Errno 2] No such file or directory: 'data/universes/thetacrop_symbols.txt'"
    ],
    "strategy_ai_service": ["Rate limit reached for gpt-4o-mini", "Request timed out."],
    "yfinance": ["HTTP 429 Too Many Requests", "Read timed out. (read timeout=10)"],
    "database": ["database is locked", "QueuePool limit of size 5 overflow 10 reached"],
    "alpaca_provider": ["401 Unauthorized", "connection refused"],
}
# Incidents per service: (mean hours between incidents, share that are DOWN rather than DEGRADED).
INCIDENT_RATE = {
    "opportunity_cache": (10.0, 0.35),
    "strategy_specific_scanner": (14.0, 0.3),
    "universe_loader": (30.0, 0.4),
    "strategy_ai_service": (12.0, 0.2),
    "yfinance": (16.0, 0.3),
    "database": (60.0, 0.5),
    "alpaca_provider": (40.0, 0.3),
}
# Services whose outage makes V1 scans fail.
SCAN_DEPENDENCIES = ("opportunity_cache", "strategy_specific_scanner", "yfinance")
# Statuses outside and inside incidents, with the backend's odd spellings (cumulative picks).
ODD_HEALTHY = ["healthy", "healthy", "UNKNOWN", "OFFLINE", "starting", "ERROR"]
ODD_UNHEALTHY = ["degraded", "unhealthy", "ERROR", "OFFLINE", "DEGRADED", "DOWN"]
ODD_NUMBERS = ["", "N/A", "abc", None, "n/a", " "]

UNIVERSE_ERRORS = [
    "[Errno 2] No such file or directory: 'backend/data/universes/thetacrop_symbols.txt'",
    "Expecting value: line 1 column 1 (char 0)",
    "'NoneType' object is not iterable",
    "Universe file is empty",
]
MARKET_ERRORS = [
    "HTTPSConnectionPool(host='query1.finance.yahoo.com', port=443): Read timed out. (read timeout=10)",
    "429 Client Error: Too Many Requests for url: https://query1.finance.yahoo.com/v7/finance/quote?symbols=SPY",
    "No data found, symbol may be delisted",
    "Expecting value: line 1 column 1 (char 0)",
]
SCANNER_ERRORS = [
    "'NoneType' object has no attribute 'get_strategy'",
    "division by zero",
    "'options_chain'",
    "Scan timed out after 30 seconds",
]
AI_ERRORS = [
    "Rate limit reached for gpt-4o-mini in organization org-demo on tokens per min (TPM): "
    "Limit 200000, Used 199980, Requested 512.",
    "Request timed out.",
    "The server had an error while processing your request. Sorry about that!",
]
UPPER_TYPES = [
    "THETA_HARVESTING",
    "IRON_CONDOR",
    "RSI_COUPON",
    "PROTECTIVE_PUT",
    "BUTTERFLY",
    "CALENDAR_SPREAD",
    "COLLAR",
    "COVERED_CALL",
    "CREDIT_SPREAD",
    "NAKED_OPTION",
    "STRADDLE",
    "STRANGLE",
    "VERTICAL_SPREAD",
    "CUSTOM",
]
V1_STRATEGIES = ["high_probability", "quick_scalp", "theta_crop", "volatility_play", None]
RESOLUTION_NOTES = [
    "Restarted the opportunity cache worker",
    "Upstream yfinance outage, recovered on its own",
    "Universe file restored from backup",
    "Rotated the OpenAI API key",
    "Duplicate of an earlier incident",
    "Known issue, fixed in 4c2f180",
    "False alarm during deploy",
    "Registry re-initialised after restart",
]


def dumps(value: Any) -> str:
    """JSON text as the backend stores it: json.dumps with its default separators."""
    return json.dumps(value)


def error_pool(rng: Random, service: str | None, size: int = 24) -> list[tuple[str, str, str]]:
    """(error_type, message, details JSON) variants that the backend logs for `service`."""
    out: list[tuple[str, str, str]] = []
    for _ in range(size):
        out.append(_error_variant(rng, service))
    return out


def _error_variant(rng: Random, service: str | None) -> tuple[str, str, str]:
    sym = rng.choice(["SPY", "QQQ", "AAPL", "MSFT", "NVDA", "TSLA"])
    strat = rng.choice(V1_STRATEGIES)
    syms = rng.choice([None, ["SPY", "QQQ"], ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"]])
    if service is None:
        name = rng.choice(["thetacrop", "sp500_top50", "etf_core", "my_universe_2"])
        err = rng.choice(UNIVERSE_ERRORS)
        return (
            "universe_loading_failed",
            f"Failed to load universe '{name}' from universe loader: {err}",
            dumps(
                {
                    "universe_name": name,
                    "actual_universe_name": name.replace("thetacrop", "thetacrop_symbols"),
                    "error": err,
                }
            ),
        )
    if service == "universe_loader":
        err = rng.choice(UNIVERSE_ERRORS)
        return (
            "universe_loading_failure",
            f"ThetaCrop universe file failed to load: {err}",
            dumps({"universe_name": "thetacrop_symbols", "error": err}),
        )
    if service == "strategy_specific_scanner":
        err = rng.choice(SCANNER_ERRORS)
        return (
            "strategy_scan_failure",
            f"Strategy-specific scan failed for THETA_HARVESTING: {err}",
            dumps({"strategy_type": "THETA_HARVESTING", "error": err}),
        )
    if service == "strategy_ai_service":
        err = rng.choice(AI_ERRORS)
        msg = rng.choice(
            [
                "How can I raise the win rate of this strategy?",
                "Explain the delta target",
                "Why did my last test run find only 2 opportunities? Please be **specific**",
            ]
        )
        name = rng.choice(["ThetaCrop Weekly", "Iron Condor - Custom", "RSI Coupon"])
        return (
            "ai_service_error",
            f"AI service error: {err}",
            dumps(
                {
                    "strategy_name": name,
                    "user_message": msg[:100],
                    "model": rng.choice(["gpt-4o-mini", "gpt-4o-mini", "gpt-3.5-turbo"]),
                    "error": err,
                }
            ),
        )
    kind = rng.random()
    if kind < 0.35:
        return (
            "strategy_registry_unavailable",
            f"Strategy registry not available for {strat}",
            dumps({"strategy": strat, "symbols": syms}),
        )
    if kind < 0.6:
        return (
            "strategy_scan_failure",
            f"Strategy scan failed for {strat}: Strategy registry unavailable",
            dumps({"strategy": strat, "symbols": syms, "reason": "Strategy registry unavailable"}),
        )
    err = rng.choice(MARKET_ERRORS)
    return (
        "market_data_unavailable",
        f"Real-time price data unavailable for {sym}",
        dumps({"symbol": sym, "error": err}),
    )


# ---------------------------------------------------------------- sandbox shapes

CONFIG_STEMS = [
    "ThetaCropWeekly",
    "IronCondor",
    "RSICouponStrategy",
    "CreditSpread",
    "ProtectivePut",
    "Butterfly",
    "Straddle",
    "Strangle",
    "CoveredCall",
    "CalendarSpread",
    "VerticalSpread",
    "SingleOption",
    "Collar",
]
STEM_TYPES = {
    "ThetaCropWeekly": "THETA_HARVESTING",
    "IronCondor": "IRON_CONDOR",
    "RSICouponStrategy": "RSI_COUPON",
    "CreditSpread": "CREDIT_SPREAD",
    "ProtectivePut": "PROTECTIVE_PUT",
    "Butterfly": "BUTTERFLY",
    "Straddle": "STRADDLE",
    "Strangle": "STRANGLE",
    "CoveredCall": "COVERED_CALL",
    "CalendarSpread": "CALENDAR_SPREAD",
    "VerticalSpread": "VERTICAL_SPREAD",
    "SingleOption": "NAKED_OPTION",
    "Collar": "COLLAR",
}
AI_MODELS = {
    "gpt-4o-mini": (0.00015, 0.0006),
    "gpt-3.5-turbo": (0.0005, 0.0015),
    "gpt-4o": (0.0025, 0.01),
}
AI_QUESTIONS = [
    "How can I improve the win rate of this strategy?",
    "Is a delta target of 0.15 too aggressive for weekly expirations?",
    "Why did the last test run find so few opportunities?",
    "Suggest wing widths for SPY iron condors",
    "Explain **profit_target** vs loss_limit in my config",
    "<b>What</b> does the universe setting do? [docs](http://example.com)",
]
AI_ANSWERS = [
    "Consider narrowing the DTE range to 7-14 days and raising the delta target to 0.20. "
    "This usually increases premium while keeping probability of profit above 75%.",
    "A delta of 0.15 is moderate. For weekly expirations many traders use 0.10-0.20.\n\n"
    "* Lower delta: higher PoP, less premium\n* Higher delta: more premium, more risk",
    "Your universe only has 3 symbols and max_positions is 3, so the scanner stops early. "
    "Add ETFs such as IWM and TLT, or raise max_opportunities.",
    "For SPY a wing width of $5-10 balances max loss and credit. Use `wing_widths: [5, 10]`.",
    "profit_target 0.5 closes at 50% of max profit; loss_limit -2.0 stops at 2x the credit received. "
    "Note: a **negative** loss_limit is what the UI writes.",
]


def config_shapes(rng: Random) -> list[tuple[str, str, dict[str, Any]]]:
    """(strategy_id, name, config_data) in every shape the backend writes (real, UI, sync, dotted bug)."""
    real1 = {
        "trading": {
            "target_dte_range": [7, 21],
            "delta_target": 0.15,
            "max_positions": 3,
            "wing_widths": [5, 10, 15],
        },
        "risk": {"profit_target": 0.5, "loss_limit": 2.0},
        "universe": {"primary_symbols": ["AAPL", "MSFT", "GOOGL"]},
    }
    real2 = {
        "trading": {
            "target_dte_range": [7, 28],
            "delta_target": 0.15,
            "max_positions": 3,
            "wing_widths": [5, 10, 15],
        },
        "risk": {"profit_target": 0.5, "loss_limit": 2},
        "universe": {"primary_symbols": ["AAPL", "MSFT", "GOOGL"]},
        "universe.primary_symbols": [
            "AAPL",
            "MSFT",
            "GOOGL",
            "AMZN",
            "NVDA",
            "BRK-B",
            "TSLA",
            "META",
        ],
        "trading.target_dte_range": [7, 28],
    }
    sync = {
        "universe": {
            "primary_symbols": THETACROP_UNIVERSE,
            "universe_name": "thetacrop",
            "symbol_type": "ETF",
            "max_symbols": 13,
        },
        "trading": {
            "target_dte_range": [5, 10],
            "delta_target": 0.2,
            "max_positions": 5,
            "wing_widths": [2, 3, 4],
        },
        "risk": {"profit_target": 0.5, "loss_limit": 0.9},
        "scoring": {"base_probability_weight": 4.0, "premium_weight": 2.0, "liquidity_weight": 1.5},
        "strategy": {
            "id": "THETA_HARVESTING",
            "name": "ThetaCrop Weekly",
            "description": "Weekly theta harvesting on liquid ETFs",
            "risk_level": "MEDIUM",
        },
    }
    shapes: list[tuple[str, str, dict[str, Any]]] = [
        ("thetacrop_weekly", "ThetaCrop Weekly Test", real1),
        ("thetacrop_weekly", "ThetaCrop Weekly Test", real2),
        ("THETA_HARVESTING", "ThetaCrop Weekly", sync),
    ]
    stems = CONFIG_STEMS[1:]
    rng.shuffle(stems)
    for stem in stems:
        lo = rng.choice([5, 7, 14])
        ui = {
            "universe": {"universe_name": "thetacrop"},
            "trading": {"target_dte_range": [lo, lo + rng.choice([7, 14, 21])], "max_positions": 5},
            "risk": {"profit_target": 0.5, "loss_limit": -2.0},
        }
        shapes.append((stem, f"{stem} - Custom", ui))
    return shapes


def market_data(rng: Random, sym: str, iso: str) -> dict[str, Any]:
    """The market_data payload of the historical cache and of old test runs."""
    price = round(PRICES.get(sym, 100.0) * (0.9 + rng.random() * 0.2), 2)
    change = round((rng.random() - 0.5) * price * 0.04, 2)
    return {
        "symbol": sym,
        "price": price,
        "change": change,
        "change_percent": round(change / price * 100, 2),
        "volume": rng.randint(1_000_000, 12_000_000),
        "bid": round(price - 0.01, 2),
        "ask": round(price + 0.01, 2),
        "iv_rank": rng.randint(15, 85),
        "timestamp": iso,
    }


def options_chain(rng: Random, sym: str, expiration: str) -> dict[str, Any]:
    """The options_chain payload: 21 strikes at $5 steps around the price."""
    price = PRICES.get(sym, 100.0)
    center = round(price / 5) * 5
    calls: dict[str, Any] = {}
    puts: dict[str, Any] = {}
    for i in range(-10, 11):
        k = float(center + 5 * i)
        for side, book in (("call", calls), ("put", puts)):
            intrinsic = max(0.0, price - k) if side == "call" else max(0.0, k - price)
            mid = round(intrinsic + 2 + rng.random() * 3, 2)
            delta = round(
                max(0.01, min(0.99, 0.5 - i * 0.045 if side == "call" else 0.5 + i * 0.045)), 3
            )
            book[str(k)] = {
                "strike": k,
                "bid": round(mid - 0.05, 2),
                "ask": round(mid + 0.05, 2),
                "mid": mid,
                "volume": rng.randint(0, 5000),
                "open_interest": rng.randint(0, 40000),
                "delta": delta if side == "call" else -delta,
                "gamma": round(rng.random() * 0.05, 4),
                "theta": -round(rng.random() * 0.3, 4),
                "vega": round(rng.random() * 0.4, 4),
                "iv": round(0.15 + rng.random() * 0.4, 4),
            }
    return {
        "symbol": sym,
        "expiration": expiration,
        "underlying_price": price,
        "calls": calls,
        "puts": puts,
    }
