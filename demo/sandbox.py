"""The five sandbox tables of the demo data (demo.generate): configs, their test runs and AI chats, the cache, stats.

Config activations change the outcome of later test runs (more opportunities, higher PoP), so the
console can show what an activation did. Small tables: plain json.dumps is fast enough here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from random import Random
from typing import Any

from demo import vocab
from demo.plan import (
    DAY,
    HOUR,
    MINUTE,
    SEC,
    WINDOW_SPAN,
    Clock,
    Plan,
    Row,
    from_us,
    seconds_only,
    uuid_maker,
)

CONFIG_COLUMNS = (
    "id",
    "user_id",
    "strategy_id",
    "name",
    "config_data",
    "version",
    "is_active",
    "created_at",
    "updated_at",
    "deployed_at",
)
RUN_COLUMNS = (
    "id",
    "config_id",
    "test_parameters",
    "execution_time_ms",
    "opportunities_found",
    "test_results",
    "cached_data_used",
    "created_at",
)
AI_COLUMNS = (
    "id",
    "config_id",
    "user_message",
    "ai_response",
    "context_data",
    "model_used",
    "tokens_used",
    "estimated_cost",
    "created_at",
)
CACHE_COLUMNS = ("id", "cache_key", "symbol", "data_type", "data", "cached_at", "expires_at")
STATS_COLUMNS = (
    "id",
    "user_id",
    "date",
    "strategies_created",
    "test_runs_executed",
    "ai_conversations",
    "total_ai_cost",
    "opportunities_generated",
)
CACHE_TTL_H = {"market_data": 24, "options_chain": 12, "historical_prices": 72}


def sandbox_sizes(rows: int) -> dict[str, int]:
    """Rows per sandbox table for a given big-table size."""
    runs = min(800, max(60, rows // 25))
    return {
        "sandbox_strategy_configs": 8 if rows < 1_000 else 10 if rows < 100_000 else 12,
        "sandbox_test_runs": runs,
        "sandbox_ai_conversations": max(12, runs // 4),
        "sandbox_historical_cache": min(400, max(30, rows // 100)),
    }


@dataclass
class Config:
    id: str
    strategy_id: str
    name: str
    data: dict[str, Any]
    activated_at: int | None


class Sandbox:
    """The five sandbox tables: configs, their test runs and AI chats, the cache, daily stats."""

    def __init__(self, plan: Plan, clock: Clock, *, dangling: bool) -> None:
        self.plan, self.clock, self.dangling = plan, clock, dangling
        self.rng = plan.rng("sandbox")
        self.uid = uuid_maker(self.rng)
        self.sizes = sandbox_sizes(plan.rows)
        self.span = (
            WINDOW_SPAN if plan.profile == "window" else 30 * DAY
        )  # runs are purged after 30 days
        self.start = plan.now_us - self.span
        self.configs: list[Config] = []
        self.runs_per_day: dict[tuple[str, int], list[int]] = {}

    def _ts(self, us: int, whole_seconds: bool = True) -> Any:
        """func.now() columns have no fraction on SQLite; those the service sets by hand do."""
        return self.clock.db(seconds_only(us) if whole_seconds else us)

    def config_rows(self) -> list[Row]:
        rng, out = self.rng, []
        shapes = vocab.config_shapes(rng)[: self.sizes["sandbox_strategy_configs"]]
        chosen: set[str] = set()
        for i, (strategy_id, name, data) in enumerate(shapes):
            created = self.start - int(
                rng.random() * (10 * DAY if self.plan.profile == "history" else HOUR)
            )
            activate = i in (0, 3, 4) and strategy_id not in chosen
            at = self.start + int(self.span * (0.35 + 0.4 * rng.random())) if activate else None
            if activate:
                chosen.add(strategy_id)
            cfg = Config(self.uid(), strategy_id, name, data, at)
            self.configs.append(cfg)
            updated = at or (
                created + int(rng.random() * self.span * 0.2) if i % 3 == 1 else created
            )
            user = "default_user" if i % 4 else ["default_user", "alice", "bob"][i % 3]
            out.append(
                (
                    cfg.id,
                    user,
                    strategy_id,
                    name,
                    vocab.dumps(data),
                    1,
                    bool(at),
                    self._ts(created),
                    self._ts(updated, whole_seconds=updated == created),
                    self._ts(at, False) if at else None,
                )
            )
        return out

    def run_rows(self) -> list[Row]:
        rng, out = self.rng, []
        n = self.sizes["sandbox_test_runs"]
        hot = [c for c in self.configs if c.activated_at] or self.configs
        for i, t in enumerate(sorted(self.start + int(rng.random() * self.span) for _ in range(n))):
            cfg = rng.choice(hot) if rng.random() < 0.5 else rng.choice(self.configs)
            batch_id = (
                f"{self.uid()}_batch_{i % 5}"  # the batch endpoints' dangling FK (SQLite only)
            )
            config_id = batch_id if i % 20 == 7 and self.dangling else cfg.id  # 5% of runs
            after = cfg.activated_at is not None and t > cfg.activated_at
            results, count = self._results(cfg, t, after)
            params: dict[str, Any] = (
                {}
                if rng.random() < 0.05
                else {
                    "symbols": rng.choice([None, None, ["AAPL", "MSFT", "GOOGL"], ["SPY", "QQQ"]]),
                    "max_opportunities": rng.choice([10, 10, 10, 5, 3, 2]),
                    "use_cached_data": True,
                }
            )
            day = (t - self.start) // DAY
            self.runs_per_day.setdefault(("default_user", day), []).append(count)
            out.append(
                (
                    self.uid(),
                    config_id,
                    vocab.dumps(params),
                    results["execution_time_ms"],
                    count,
                    vocab.dumps(results),
                    None,
                    self._ts(t),
                )
            )
        return out

    def _results(self, cfg: Config, t: int, after: bool) -> tuple[dict[str, Any], int]:
        """test_results in the old (market_data_used) or the HEAD (performance_metrics) shape."""
        rng = self.rng
        count = rng.randint(6, 9) if after else rng.randint(1, 4)
        pop_base = 0.8 if after else 0.7
        syms = rng.choice([["AAPL", "MSFT", "GOOGL"], ["SPY", "QQQ", "IWM"], ["AAPL", "NVDA"]])
        iso = from_us(t).isoformat()
        opps: list[dict[str, Any]] = []
        for j in range(count):
            sym = syms[j % len(syms)]
            px = vocab.PRICES[sym]
            short = px * (0.78 + rng.random() * 0.04)
            prem, ml = (1.8, 500) if j % 2 == 0 else (2.2, 700)
            pop = pop_base + rng.random() * 0.15
            opps.append(
                {
                    "id": f"json_ThetaCropWeekly_{sym}_{j}_{t // SEC}",
                    "symbol": sym,
                    "strategy_type": "THETA_HARVESTING",
                    "strategy_id": "ThetaCropWeekly",
                    "option_type": None,
                    "short_strike": short,
                    "long_strike": short - 10,
                    "expiration": None if j % 3 else from_us(t + 13 * DAY).date().isoformat(),
                    "days_to_expiration": 30 if j % 3 else 13,
                    "premium": prem,
                    "max_loss": ml,
                    "max_profit": 0.0,
                    "probability_profit": pop,
                    "expected_value": (pop - 0.72) * ml,
                    "delta": 0.1 if j % 2 == 0 else 0.05,
                    "underlying_price": px,
                    "liquidity_score": 8.0 if j % 2 == 0 else 8.3,
                    "market_bias": "NEUTRAL",
                    "universe": "default",
                    "created_at": iso,
                    "is_sandbox_test": True,
                }
            )
        old = t < self.start + self.span * 0.3
        if not old and rng.random() < 0.3:
            opps[0] = {
                "id": f"rsi_{syms[0]}_0_{t // SEC}",
                "symbol": syms[0],
                "strategy_type": "RSI_COUPON",
                "underlying_price": vocab.PRICES[syms[0]],
                "expiration_date": iso[:10],
                "days_to_expiration": 21,
                "score": 7.5,
                "created_at": iso,
                "legs": [{"action": "BUY", "option_type": "CALL", "strike": 210.0, "delta": 0.4}],
                "premium": 3.1,
                "max_profit": "Unlimited",
                "max_loss": 310.0,
                "probability_profit": 0.42,
                "expected_value": 12.5,
                "break_even": 213.1,
                "rsi_level": 27.4,
                "reversal_signal": "OVERSOLD",
            }
        exec_ms = rng.randint(10, 3325)
        metrics = _metrics(opps)
        res: dict[str, Any] = {
            "success": True,
            "opportunities": opps,
            "opportunities_count": count,
            "symbols_tested": syms,
        }
        if old:
            res["market_data_used"] = {s: vocab.market_data(rng, s, iso) for s in syms}
        else:
            res["strategy_type"] = cfg.data.get("strategy", {}).get("id", "THETA_HARVESTING")
        res.update({"performance_metrics": metrics, "execution_time_ms": exec_ms, "timestamp": iso})
        return res, count

    def ai_rows(self) -> list[Row]:
        rng, out = self.rng, []
        for _ in range(self.sizes["sandbox_ai_conversations"]):
            cfg = rng.choice(self.configs)
            t = self.start + int(rng.random() * self.span)
            model = rng.choice(["gpt-4o-mini"] * 7 + ["gpt-3.5-turbo"] * 2 + ["gpt-4o"])
            tin, tout = rng.randint(120, 1800), rng.randint(60, 700)
            rates = vocab.AI_MODELS[model]
            cost = (
                "$0.00"
                if rng.random() < 0.1
                else "$%.4f" % (tin / 1000 * rates[0] + tout / 1000 * rates[1])
            )
            ctx = {
                "strategy_name": cfg.name,
                "strategy_config": cfg.data,
                "performance_data": {
                    "total_opportunities": rng.randint(0, 9),
                    "avg_probability_profit": round(0.6 + rng.random() * 0.3, 3),
                },
            }
            out.append(
                (
                    self.uid(),
                    cfg.id,
                    rng.choice(vocab.AI_QUESTIONS),
                    rng.choice(vocab.AI_ANSWERS),
                    vocab.dumps(ctx) if rng.random() < 0.9 else None,
                    model,
                    tin + tout,
                    cost,
                    self._ts(t),
                )
            )
        return out

    def cache_rows(self) -> list[Row]:
        rng = self.rng
        out: list[Row] = []
        syms = ["AAPL", "MSFT", "GOOGL", "SPY", "QQQ", "NVDA", "AMZN", "IWM", "TSLA", "META"]
        day = 0
        while len(out) < self.sizes["sandbox_historical_cache"]:
            for sym in syms:
                for dtype in ("market_data", "options_chain", "historical_prices"):
                    if dtype != "market_data" and rng.random() < (
                        0.8 if dtype == "options_chain" else 0.85
                    ):
                        continue
                    if len(out) >= self.sizes["sandbox_historical_cache"]:
                        break
                    out.append(self._cache_row(rng, sym, dtype, day))
            day += 1
        return out

    def _cache_row(self, rng: Random, sym: str, dtype: str, day: int) -> Row:
        """One entry cached `day` UTC days ago: the key's date is the UTC date of cached_at."""
        day_start = (self.plan.now_us // DAY - day) * DAY
        latest = min(day_start + DAY, self.plan.now_us - MINUTE)
        cached = day_start + int(rng.random() * max(latest - day_start, SEC))
        d = from_us(cached)
        iso = d.isoformat()
        if dtype == "market_data":
            data: dict[str, Any] = vocab.market_data(rng, sym, iso)
        elif dtype == "options_chain":
            data = vocab.options_chain(rng, sym, (d + timedelta(days=7)).date().isoformat())
        else:
            px = vocab.PRICES[sym]
            data = {
                "symbol": sym,
                "period": "1mo",
                "interval": "1d",
                "prices": [
                    {
                        "date": (d - timedelta(days=k)).date().isoformat(),
                        "close": round(px * (0.95 + rng.random() * 0.1), 2),
                        "volume": rng.randint(1_000_000, 9_000_000),
                    }
                    for k in range(20)
                ],
            }
        key = f"{sym}_{dtype}_{d:%Y%m%d}"  # one per symbol, type and UTC day, as the backend's UNIQUE allows
        expires = cached + CACHE_TTL_H[dtype] * HOUR + int(rng.random() * 1000)
        return (
            self.uid(),
            key,
            sym,
            dtype,
            vocab.dumps(data),
            self._ts(cached),
            self._ts(expires, False),
        )

    def stats_rows(self) -> list[Row]:
        rng, out = self.rng, []
        days = max(1, self.span // DAY)
        for user in ("default_user", "alice"):
            for day in range(days):
                runs = self.runs_per_day.get((user, day), []) if user == "default_user" else []
                t = self.start + day * DAY + 12 * HOUR
                convs = rng.randint(0, 4) if user == "default_user" else rng.randint(0, 1)
                out.append(
                    (
                        self.uid(),
                        user,
                        self._ts(min(t, self.plan.now_us - HOUR)),
                        rng.randint(0, 1),
                        len(runs) if user == "default_user" else rng.randint(0, 3),
                        convs,
                        "$%.4f" % (convs * 0.0003 + rng.random() * 0.001),
                        sum(runs),
                    )
                )
        return out


def _metrics(opps: list[dict[str, Any]]) -> dict[str, Any]:
    """performance_metrics as the backend computes them from a run's opportunities."""
    n = len(opps)
    avg = lambda k: sum(float(o.get(k) or 0) for o in opps) / n if n else 0  # noqa: E731
    ml = avg("max_loss")
    return {
        "total_opportunities": n,
        "avg_probability_profit": round(avg("probability_profit"), 3),
        "avg_expected_value": round(avg("expected_value"), 2),
        "avg_premium": round(avg("premium"), 2),
        "avg_max_loss": round(ml, 2),
        "risk_reward_ratio": round(avg("premium") / ml, 4) if ml else 0,
        "symbols_with_opportunities": len({o["symbol"] for o in opps}),
    }
