"""The risk/reward scatter draws rows whose EV or max loss is +-Infinity (the backend stores them)."""

from __future__ import annotations

import math

import pandas as pd

from ui.charts import scanner as charts


def test_risk_reward_with_unlimited_values() -> None:
    df = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "symbol": ["A", "B", "C"],
            "strategy": ["NAKED_OPTION", "x", "y"],
            "max_loss": [math.inf, 100.0, 200.0],
            "premium": [1.0, 2.0, 3.0],
            "pop": [0.5, 0.6, 0.7],
            "ev": [math.inf, 50.0, -math.inf],
        }
    )
    sizes = list(charts.risk_reward(df).data[0].marker.size)
    # EV 50 is the largest finite one: 6 + 24; the unlimited ones are drawn smallest (6)
    assert sizes == [6.0, 30.0, 6.0]
