"""Hand-made backend rows for the sandbox tests (the demo generator is another issue's)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.models import (
    SandboxAIConversation,
    SandboxHistoricalCache,
    SandboxStrategyConfig,
    SandboxTestRun,
    new_uuid,
)

REAL_CONFIG = {
    "trading": {
        "target_dte_range": [7, 21],
        "delta_target": 0.15,
        "max_positions": 3,
        "wing_widths": [5, 10, 15],
    },
    "risk": {"profit_target": 0.5, "loss_limit": 2.0},
    "universe": {"primary_symbols": ["AAPL", "MSFT", "GOOGL"]},
}
T0 = datetime(2025, 8, 1, 12, 0, 0)


def add_config(
    engine: Engine,
    *,
    strategy_id: str = "ThetaCropWeekly",
    name: str = "ThetaCrop Weekly Test",
    data: Any = None,
    version: int | None = 1,
    active: bool = False,
    user: str = "default_user",
    at: datetime = T0,
) -> str:
    """A backend-written config row (no history of ours), as the backend leaves it."""
    cid = new_uuid()
    with Session(engine) as s, s.begin():
        s.add(
            SandboxStrategyConfig(
                id=cid,
                user_id=user,
                strategy_id=strategy_id,
                name=name,
                config_data=REAL_CONFIG if data is None else data,
                version=version,
                is_active=active,
                created_at=at,
                updated_at=at,
            )
        )
    return cid


def metrics(n: int, ev: float, pop: float) -> dict[str, Any]:
    return {
        "total_opportunities": n,
        "avg_probability_profit": pop,
        "avg_expected_value": ev,
        "avg_premium": 2.0,
        "avg_max_loss": 600.0,
        "risk_reward_ratio": 0.0033,
        "symbols_with_opportunities": 3,
    }


def add_run(
    engine: Engine,
    config_id: str,
    *,
    at: datetime,
    n: int = 6,
    ev: float = 62.87,
    pop: float = 0.828,
    legacy: bool = False,
    params: Any = None,
) -> str:
    """A test run in one of the two shapes the backend wrote (HEAD, or legacy with market_data_used)."""
    rid = new_uuid()
    opps = [
        {
            "id": f"json_ThetaCropWeekly_AAPL_{i}",
            "symbol": "AAPL",
            "premium": 1.8,
            "expected_value": ev,
            "probability_profit": pop,
        }
        for i in range(n)
    ]
    results: dict[str, Any] = {
        "success": True,
        "opportunities": opps,
        "opportunities_count": n,
        "symbols_tested": ["AAPL"],
        "performance_metrics": metrics(n, ev, pop),
        "execution_time_ms": 120,
        "timestamp": at.isoformat(),
    }
    if legacy:
        results["market_data_used"] = {"AAPL": {"symbol": "AAPL", "price": 176.46}}
    else:
        results["strategy_type"] = "THETA_HARVESTING"
    with Session(engine) as s, s.begin():
        s.add(
            SandboxTestRun(
                id=rid,
                config_id=config_id,
                created_at=at,
                execution_time_ms=120,
                opportunities_found=n,
                test_results=results,
                test_parameters=params
                if params is not None
                else {"symbols": None, "max_opportunities": 10, "use_cached_data": True},
            )
        )
    return rid


def add_chat(
    engine: Engine,
    config_id: str,
    *,
    at: datetime,
    cost: str = "$0.0003",
    model: str = "gpt-4o-mini",
    tokens: int = 420,
    user_message: str = "How is **this** doing?",
    reply: str = "[link](http://x) fine",
) -> str:
    cid = new_uuid()
    with Session(engine) as s, s.begin():
        s.add(
            SandboxAIConversation(
                id=cid,
                config_id=config_id,
                user_message=user_message,
                ai_response=reply,
                model_used=model,
                tokens_used=tokens,
                estimated_cost=cost,
                created_at=at,
            )
        )
    return cid


def add_cache(
    engine: Engine, *, key: str, expires: datetime, symbol: str = "AAPL", at: datetime = T0
) -> str:
    eid = new_uuid()
    with Session(engine) as s, s.begin():
        s.add(
            SandboxHistoricalCache(
                id=eid,
                cache_key=key,
                symbol=symbol,
                data_type="market_data",
                data={"symbol": symbol, "price": 176.46},
                cached_at=at,
                expires_at=expires,
            )
        )
    return eid


DAY = timedelta(days=1)
