"""Sandbox and audit read questions on all three engines, with hand-made backend rows."""

from __future__ import annotations

from datetime import UTC, timedelta

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.commands import cache as cache_cmd
from db.commands import sandbox as cmd
from db.models import SandboxStats, new_uuid
from db.queries import audit as qa
from db.queries import sandbox as q
from tests.sandbox.sandbox_rows import (
    DAY,
    REAL_CONFIG,
    T0,
    add_cache,
    add_chat,
    add_config,
    add_run,
)

UTC_T0 = T0.replace(tzinfo=UTC)


def read(engine, fn, **kw):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return fn(s, **kw)


def test_configs_list_counts_and_filters(engine):  # type: ignore[no-untyped-def]
    a = add_config(engine, active=True)
    b = add_config(engine, strategy_id="IronCondor", user="alice", version=None, at=T0 + DAY)
    add_run(engine, a, at=T0)
    add_run(engine, a, at=T0 + DAY)
    add_chat(engine, a, at=T0)
    df = read(engine, q.configs)
    assert list(df["id"]) == [b, a]  # newest change first
    assert df.set_index("id").loc[a, ["test_runs", "ai_conversations"]].tolist() == [2, 1]
    assert df.set_index("id").loc[b, "version"] == 1  # NULL version reads as 1
    assert list(read(engine, q.configs, strategy_ids=("IronCondor",))["id"]) == [b]
    assert (
        list(read(engine, q.configs, strategy_ids=("ironcondor",))["id"]) == []
    )  # byte-exact, also MariaDB
    assert list(read(engine, q.configs, user_ids=("alice",))["id"]) == [b]
    assert list(read(engine, q.configs, active="active")["id"]) == [a]
    assert list(read(engine, q.configs, active="inactive")["id"]) == [b]
    assert str(df["created_at"].dtype) == "datetime64[us, UTC]"
    empty = read(engine, q.configs, user_ids=("nobody",))
    assert empty.empty and list(empty.columns) == list(q.CONFIG_COLUMNS)


def test_history_includes_the_backend_version(engine, dev):  # type: ignore[no-untyped-def]
    cid = add_config(engine)
    before = read(engine, q.config_history, config_id=cid)
    assert before["version"].tolist() == [1] and before.loc[0, "changed_by"] == q.BEFORE_CONSOLE
    cmd.save_config(
        engine,
        identity=dev,
        config_id=cid,
        loaded_version=1,
        name="n2",
        strategy_id="S",
        user_id="u",
        config_data={"risk": {"loss_limit": 1.0}},
        note="why",
    )
    hist = read(engine, q.config_history, config_id=cid)
    assert hist["version"].tolist() == [2, 1]
    assert hist.loc[0, "changed_by"] == "dev@example.com" and hist.loc[0, "note"] == "why"
    assert hist.loc[1, "config_data"] == REAL_CONFIG


def test_runs_read_both_result_shapes(engine):  # type: ignore[no-untyped-def]
    cid = add_config(engine)
    new = add_run(engine, cid, at=T0 + DAY, n=4, ev=10.0)
    old = add_run(engine, cid, at=T0, n=6, ev=62.87, legacy=True)
    runs = read(engine, q.config_runs, config_id=cid)
    assert runs["id"].tolist() == [new, old]
    assert runs["shape"].tolist() == ["current", "legacy"]
    assert runs["avg_expected_value"].tolist() == [10.0, 62.87]
    assert runs["total_opportunities"].tolist() == [4.0, 6.0]
    detail = read(engine, q.run_detail, run_id=old)
    assert detail.loc[0, "test_results"]["market_data_used"]["AAPL"]["price"] == 176.46
    assert detail.loc[0, "test_parameters"]["max_opportunities"] == 10


def test_outcomes_per_version_and_activation_window(engine, dev):  # type: ignore[no-untyped-def]
    cid = add_config(engine)
    add_run(engine, cid, at=T0 - DAY, n=2, ev=10.0, pop=0.5)  # backend version 1, inactive
    cmd.save_config(
        engine,
        identity=dev,
        config_id=cid,
        loaded_version=1,
        name="v2",
        strategy_id="S",
        user_id="u",
        config_data={},
    )
    cmd.set_active(engine, identity=dev, config_id=cid, active=True)
    # Runs written after the save and activation (their created_at is "now").
    now = cmd.audit.utcnow() + timedelta(seconds=5)
    add_run(engine, cid, at=now, n=4, ev=30.0, pop=0.8)
    add_run(engine, cid, at=now, n=6, ev=50.0, pop=0.6)
    out = read(engine, q.outcomes, config_id=cid)
    # v1 inactive, then v2 (inactive for the microseconds between save and activation), then v2 active
    assert out[["version", "state"]].values.tolist()[0] == [1, "inactive"]
    assert out[["version", "state"]].values.tolist()[-1] == [2, "active"]
    assert set(out["version"]) == {1, 2} and len(out) <= 3
    first, last = out.iloc[0], out.iloc[-1]
    assert (first["test_runs"], first["opportunities"], first["avg_expected_value"]) == (1, 2, 10.0)
    assert (last["test_runs"], last["opportunities"], last["avg_expected_value"]) == (2, 10, 40.0)
    assert abs(last["avg_probability_profit"] - 0.7) < 1e-9
    assert out["errors_logged"].notna().all()  # the table exists in the test schema


def test_outcomes_without_error_table(engine, dev):  # type: ignore[no-untyped-def]
    cid = add_config(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE critical_error_logs"))
    out = read(engine, q.outcomes, config_id=cid)
    assert len(out) == 1 and out["errors_logged"].isna().all()


def test_ai_conversations_and_totals(engine):  # type: ignore[no-untyped-def]
    a, b = add_config(engine), add_config(engine, name="Other")
    add_chat(engine, a, at=T0, cost="$0.0003", tokens=100)
    add_chat(engine, a, at=T0 + DAY, cost="$0.0010", tokens=300, model="gpt-4o")
    add_chat(engine, a, at=T0 + 2 * DAY, cost="n/a", tokens=50)
    add_chat(engine, b, at=T0, cost="$0.00", tokens=10)
    chats = read(engine, q.ai_conversations, config_id=a)
    assert chats["created_at"].is_monotonic_increasing and len(chats) == 3
    assert chats["cost_usd"].tolist()[:2] == [0.0003, 0.001] and pd.isna(chats["cost_usd"].iloc[2])
    totals = read(engine, q.ai_totals).set_index(["config_id", "model_used"])
    mini = totals.loc[(a, "gpt-4o-mini")]
    assert (mini["conversations"], mini["tokens"], mini["unparsed_costs"]) == (2, 150, 1)
    assert abs(mini["cost_usd"] - 0.0003) < 1e-12
    assert totals.loc[(b, "gpt-4o-mini"), "cost_usd"] == 0.0
    assert len(read(engine, q.ai_totals, config_id=b)) == 1


def test_cache_entries_summary_and_purge(engine, admin, ops):  # type: ignore[no-untyped-def]
    old = add_cache(engine, key="AAPL_market_data_20250731", expires=T0 - DAY)
    add_cache(engine, key="AAPL_market_data_20250801", expires=T0 + DAY)
    add_cache(engine, key="MSFT_market_data_20250801", expires=T0 + DAY, symbol="MSFT")
    page = read(engine, q.cache_entries, now=UTC_T0, limit=2)
    assert page["cache_key"].tolist() == ["AAPL_market_data_20250731", "AAPL_market_data_20250801"]
    assert page["expired"].tolist() == [True, False] and (page["size_bytes"] > 10).all()
    nxt = read(engine, q.cache_entries, now=UTC_T0, after_key=page["cache_key"].iloc[-1])
    assert nxt["symbol"].tolist() == ["MSFT"]
    assert read(engine, q.cache_entries, now=UTC_T0, expired_only=True)["id"].tolist() == [old]
    summary = read(engine, q.cache_summary, now=UTC_T0).set_index("symbol")
    assert summary.loc["AAPL", ["entries", "expired"]].tolist() == [2, 1]
    assert read(engine, q.cache_entry, entry_id=old).loc[0, "data"] == {
        "symbol": "AAPL",
        "price": 176.46,
    }
    assert cache_cmd.purge_expired(engine, identity=ops, now=T0) == 1
    assert len(read(engine, q.cache_entries, now=UTC_T0)) == 2
    log = read(engine, qa.audit_entries, since=UTC_T0 - 1000 * DAY, until=UTC_T0 + 1000 * DAY)
    assert (
        log.loc[0, "action"] == "cache.purge_expired" and log.loc[0, "actor"] == "ops@example.com"
    )
    assert log.loc[0, "before"]["first_keys"] == ["AAPL_market_data_20250731"]


def test_usage_live_then_from_stats(engine):  # type: ignore[no-untyped-def]
    a = add_config(engine, user="alice")
    add_run(engine, a, at=T0, n=6)
    add_run(engine, a, at=T0 + timedelta(hours=1), n=4)
    add_chat(engine, a, at=T0, cost="$0.0005")
    live = read(engine, q.usage_stats, since=UTC_T0 - DAY, until=UTC_T0 + DAY)
    assert live["source"].unique().tolist() == ["live"]
    row = live.iloc[0]
    assert (
        row["user_id"],
        row["strategies_created"],
        row["test_runs_executed"],
        row["opportunities_generated"],
        row["ai_conversations"],
    ) == ("alice", 1, 2, 10, 1)
    assert (
        row["day"] == pd.Timestamp("2025-08-01", tz="UTC")
        and abs(row["total_ai_cost_usd"] - 0.0005) < 1e-12
    )
    with Session(engine) as s, s.begin():
        s.add(
            SandboxStats(
                id=new_uuid(),
                user_id="bob",
                date=T0,
                strategies_created=3,
                test_runs_executed=7,
                ai_conversations=2,
                opportunities_generated=40,
                total_ai_cost="$0.02",
            )
        )
    stored = read(engine, q.usage_stats, since=UTC_T0 - DAY, until=UTC_T0 + DAY)
    assert stored[["user_id", "test_runs_executed", "source"]].values.tolist() == [
        ["bob", 7, "sandbox_stats"]
    ]


def test_audit_entries_filters_and_keyset(engine, dev):  # type: ignore[no-untyped-def]
    ids = [add_config(engine) for _ in range(3)]
    for cid in ids:
        cmd.set_active(engine, identity=dev, config_id=cid, active=True)
    window = dict(since=UTC_T0, until=pd.Timestamp.now(tz="UTC").to_pydatetime() + DAY)
    total = read(engine, qa.audit_count, **window)
    assert total == 5  # 3 activations, 2 deactivations of the previous one
    first = read(engine, qa.audit_entries, limit=2, **window)
    rest = read(
        engine,
        qa.audit_entries,
        before_at=first["at"].iloc[-1].to_pydatetime(),
        before_id=first["id"].iloc[-1],
        **window,
    )
    assert len(first) == 2 and len(rest) == 3 and not set(first["id"]) & set(rest["id"])
    acts = read(engine, qa.audit_entries, actions=("config.deactivate",), **window)
    assert len(acts) == 2 and set(acts["target_id"]) == set(ids[:2])
    assert read(engine, qa.audit_count, actors=("nobody",), **window) == 0
    assert read(engine, qa.audit_count, target_id=ids[2], **window) == 1
    values = read(engine, qa.audit_filter_values, **window)
    assert values["entries"].sum() == 5 and set(values["actor"]) == {"dev@example.com"}


def test_real_backend_rows(fixture_db_url):  # type: ignore[no-untyped-def]
    """The backend's own databases: both configs, runs with metrics in the legacy shape, dotted keys flagged."""
    import json

    from db.engine import make_engine
    from domain import config_schema as cs

    eng = make_engine(fixture_db_url)
    try:
        configs = read(eng, q.configs)
        assert len(configs) == 2 and set(configs["strategy_id"]) == {"thetacrop_weekly"}
        runs = pd.concat([read(eng, q.config_runs, config_id=cid) for cid in configs["id"]])
        assert len(runs) >= 12 and set(runs["shape"]) == {"legacy"}
        assert (
            runs["avg_probability_profit"].between(0.5, 1).all()
            and runs["total_opportunities"].notna().all()
        )
        dotted = []
        for cid in configs["id"]:
            data = read(eng, q.config_detail, config_id=cid).loc[0, "config_data"]
            _, report = cs.validate(
                name="n", strategy_id="s", user_id="u", config_json=json.dumps(data)
            )
            dotted += report.dotted_keys
        assert "universe.primary_symbols" in dotted  # the backend's PUT merge bug, real row 2
        first = configs["id"].iloc[0]
        out = read(eng, q.outcomes, config_id=first)
        assert out["test_runs"].sum() == len(read(eng, q.config_runs, config_id=first)) > 0
    finally:
        eng.dispose()
