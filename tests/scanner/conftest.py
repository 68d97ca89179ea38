"""Scanner fixtures: small hand-made scan and snapshot sets with known answers, on every engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, null
from sqlalchemy.orm import Session

from db.models import CriticalErrorLog, OpportunitySnapshot, ScanSession

ROOT_DIR = Path(__file__).resolve().parents[2]
# A fixed "now" (aware UTC) and its naive form as the backend stores it.
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
NAIVE_NOW = NOW.replace(tzinfo=None)


def ago(seconds: float) -> datetime:
    return NAIVE_NOW - timedelta(seconds=seconds)


def snapshot(
    i: int,
    symbol: str,
    strategy: str,
    *,
    ev: float | None,
    pop: float | None = 0.7,
    premium: float | None = 2.0,
    max_loss: float | None = 500.0,
    dte: int | None = 10,
    data: dict[str, Any] | None = None,
    expired: bool = False,
    active: bool = True,
    scan: str | None = None,
    created_s: float = 600,
) -> OpportunitySnapshot:
    """One snapshot; `data` defaults to the same metrics as the columns."""
    if data is None:
        data = {
            "symbol": symbol,
            "strategy_type": strategy,
            "expected_value": ev,
            "probability_profit": pop,
            "premium": premium,
            "max_loss": max_loss,
            "days_to_expiration": dte,
            "bias": "NEUTRAL",
        }
        data = {k: v for k, v in data.items() if v is not None}

    def col(v: Any) -> Any:  # explicit NULL: None would get the backend's column default 0
        return null() if v is None else v

    return OpportunitySnapshot(
        id=i,
        opportunity_id=f"opp-{i}",
        symbol=symbol,
        strategy_type=strategy,
        data=data,
        created_at=ago(created_s),
        expires_at=ago(60) if expired else NAIVE_NOW + timedelta(minutes=10),
        last_updated=ago(created_s),
        scan_session_id=scan,
        is_active=active,
        cache_hits=i % 3,
        premium=col(premium),
        max_loss=col(max_loss),
        probability_profit=col(pop),
        expected_value=col(ev),
        days_to_expiration=col(dte),
        underlying_price=100.0,
        liquidity_score=8.0,
    )


def hand_made_snapshots() -> list[OpportunitySnapshot]:
    """Twelve snapshots with known metrics (see each comment)."""
    return [
        snapshot(1, "AAPL", "theta_harvesting", ev=100, pop=0.80),
        snapshot(
            2,
            "AAPL",
            "THETA_HARVESTING",
            ev=150,
            pop=0.60,
            data={"bias": "BULLISH", "expected_value": 150},
        ),
        # column NULL: EV comes from data (120) -> from_data marker
        snapshot(
            3,
            "MSFT",
            "theta_harvesting",
            ev=None,
            pop=0.75,
            data={"expected_value": 120, "bias": "BEARISH", "probability_profit": 0.75},
        ),
        # stale column: column EV 50, data EV 80 -> mismatch marker, value shown 50
        snapshot(
            4,
            "MSFT",
            "quick_scalp",
            ev=50,
            pop=0.55,
            data={"expected_value": 80, "probability_profit": 0.55},
        ),
        # no EV anywhere: sorts last
        snapshot(5, "SPY", "quick_scalp", ev=None, pop=None, data={"bias": "NEUTRAL"}),
        snapshot(6, "SPY", "IRON_CONDOR", ev=200, pop=0.65, expired=True),
        snapshot(7, "QQQ", "IRON_CONDOR", ev=300, pop=0.9, active=False),
        snapshot(
            8,
            "NVDA",
            "RSI_COUPON",
            ev=100,
            pop=0.45,
            dte=30,
            data={"expected_value": 100, "max_profit": "Unlimited", "bias": "BULLISH"},
        ),
        snapshot(
            9,
            "NVDA",
            "theta_harvesting",
            ev=90,
            pop=0.82,
            dte=5,
            max_loss=None,
            data={"expected_value": 90, "max_loss": 300},
        ),
        snapshot(10, "aapl", "theta_harvesting", ev=75, pop=0.70, dte=45),
        snapshot(11, "IWM", "IRON_CONDOR", ev=100, pop=0.70, dte=20),
        snapshot(
            12,
            "IWM",
            "IRON_CONDOR",
            ev=-20,
            pop=0.30,
            dte=20,
            premium=None,
            data={"expected_value": -20, "premium": "1.25"},
        ),
    ]


@pytest.fixture
def opp_engine(engine: Engine) -> Iterator[Engine]:
    """An engine with the hand-made snapshots (no scans)."""
    with Session(engine) as s:
        s.add_all(hand_made_snapshots())
        s.commit()
    yield engine


def completed(
    sid: str,
    strategy: str,
    *,
    started_s: float,
    duration_s: float,
    found: int = 1,
    params: dict[str, Any] | None = None,
) -> ScanSession:
    start = ago(started_s)
    return ScanSession(
        id=sid,
        strategy=strategy,
        symbols_scanned=["SPY", "QQQ"],
        started_at=start,
        completed_at=start + timedelta(seconds=duration_s),
        opportunities_found=found,
        status="COMPLETED",
        scan_parameters=params or {"interval_minutes": 4, "symbols": ["SPY"]},
    )


def hand_made_scans() -> list[ScanSession]:
    """'fast' runs 1..20 s (p50 10 s, p95 19 s, threshold = floor 600 s);
    'slow' runs 100..2000 s (p95 1900 s, threshold 3800 s); running, failed and broken rows."""
    rows = [
        completed(f"fast-{i}", "fast", started_s=20_000 + i * 60, duration_s=i, found=2)
        for i in range(1, 21)
    ]
    rows += [
        completed(f"slow-{i}", "slow", started_s=40_000 + i * 100, duration_s=100 * i, found=0)
        for i in range(1, 21)
    ]
    rows += [
        ScanSession(id="run-fast-stalled", strategy="fast", started_at=ago(700), status="RUNNING"),
        ScanSession(id="run-fast-ok", strategy="fast", started_at=ago(300), status="RUNNING"),
        ScanSession(id="run-slow-ok", strategy="slow", started_at=ago(3000), status="RUNNING"),
        ScanSession(id="run-slow-stalled", strategy="slow", started_at=ago(4000), status="RUNNING"),
        ScanSession(
            id="failed-1",
            strategy="fast",
            started_at=ago(1000),
            completed_at=ago(990),
            status="FAILED",
            error_message="**boom** <b>x</b> [link](http://evil)",
            opportunities_found=0,
        ),
        ScanSession(
            id="backwards",
            strategy="FAST",
            started_at=ago(500),
            completed_at=ago(800),
            status="COMPLETED",
            opportunities_found=1,
        ),
    ]
    return rows


@pytest.fixture
def scan_engine(engine: Engine) -> Iterator[Engine]:
    """An engine with the hand-made scans, two snapshots of `fast-1` and critical errors around `failed-1`."""
    with Session(engine) as s:
        s.add_all(hand_made_scans())
        s.flush()
        s.add_all(
            [
                snapshot(101, "SPY", "theta_harvesting", ev=10, scan="fast-1", created_s=20_000),
                snapshot(102, "QQQ", "theta_harvesting", ev=30, scan="fast-1", created_s=20_000),
            ]
        )
        s.add_all(
            [
                CriticalErrorLog(
                    id="e-in",
                    error_type="strategy_scan_failure",
                    message="during",
                    service="opportunity_cache",
                    details={"strategy": "fast"},
                    created_at=ago(995),
                ),
                CriticalErrorLog(
                    id="e-other",
                    error_type="ai_service_error",
                    message="other service",
                    service="strategy_ai_service",
                    details={},
                    created_at=ago(995),
                ),
                CriticalErrorLog(
                    id="e-strategy",
                    error_type="x",
                    message="names strategy",
                    service=None,
                    details={"strategy": "fast"},
                    created_at=ago(992),
                ),
                CriticalErrorLog(
                    id="e-after",
                    error_type="strategy_scan_failure",
                    message="after",
                    service="opportunity_cache",
                    details={},
                    created_at=ago(900),
                ),
            ]
        )
        s.commit()
    yield engine
