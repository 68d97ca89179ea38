"""The models match the backend's real schema (origin-dev.db) and work on all three engines."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import Engine, create_engine, inspect, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from db.models import (
    BACKEND_TABLES,
    Base,
    CriticalErrorLog,
    OpportunitySnapshot,
    SandboxAIConversation,
    SandboxHistoricalCache,
    SandboxStats,
    SandboxStrategyConfig,
    SandboxTestRun,
    ScanSession,
    SystemHealthStatus,
)
from tests.foundation.conftest import FIXTURES

REAL_TABLES = (
    "scan_sessions",
    "opportunity_snapshots",
    "sandbox_strategy_configs",
    "sandbox_test_runs",
    "sandbox_ai_conversations",
    "sandbox_historical_cache",
    "sandbox_stats",
)


def _describe(engine: Engine, table: str) -> dict[str, object]:
    insp = inspect(engine)
    return {
        "columns": [(c["name"], c["nullable"]) for c in insp.get_columns(table)],
        "indexes": sorted(
            (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
            for ix in insp.get_indexes(table)
        ),
        "uniques": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
        "fks": sorted(
            (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
            for fk in insp.get_foreign_keys(table)
        ),
        "pk": insp.get_pk_constraint(table)["constrained_columns"],
    }


@pytest.fixture(scope="module")
def real_and_ours(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Engine]:
    src = FIXTURES / "origin-dev.db"
    if not src.exists():
        pytest.skip("origin-dev.db not found")
    real = create_engine(f"sqlite:///file:{src}?mode=ro&uri=true")
    ours = create_engine(f"sqlite:///{tmp_path_factory.mktemp('schema') / 'ours.db'}")
    Base.metadata.create_all(ours)
    yield real, ours
    real.dispose()
    ours.dispose()


def test_the_real_database_has_exactly_the_seven_tables_we_compare(
    real_and_ours: tuple[Engine, Engine],
) -> None:
    real, ours = real_and_ours
    assert set(inspect(real).get_table_names()) == set(REAL_TABLES)
    assert set(REAL_TABLES) <= set(inspect(ours).get_table_names())
    assert set(inspect(ours).get_table_names()) == set(BACKEND_TABLES)
    assert {"critical_error_logs", "system_health_status"} <= set(BACKEND_TABLES)
    assert len(BACKEND_TABLES) == 9


@pytest.mark.parametrize("table", REAL_TABLES)
def test_create_all_matches_the_backends_real_sqlite_schema(
    real_and_ours: tuple[Engine, Engine], table: str
) -> None:
    real, ours = real_and_ours
    assert _describe(ours, table) == _describe(real, table)


@pytest.mark.parametrize("table", REAL_TABLES)
def test_column_types_match_the_real_ddl(real_and_ours: tuple[Engine, Engine], table: str) -> None:
    real, ours = real_and_ours
    real_types = [(c["name"], str(c["type"])) for c in inspect(real).get_columns(table)]
    our_types = [(c["name"], str(c["type"])) for c in inspect(ours).get_columns(table)]
    assert our_types == real_types


def test_bare_strings_stay_bare_on_sqlite_and_postgresql_but_are_bounded_on_mysql() -> None:
    table = ScanSession.__table__
    sqlite_ddl = str(CreateTable(table).compile(dialect=sqlite.dialect()))
    pg_ddl = str(CreateTable(table).compile(dialect=postgresql.dialect()))
    my_ddl = str(CreateTable(table).compile(dialect=mysql.dialect()))
    assert "id VARCHAR NOT NULL" in sqlite_ddl and "strategy VARCHAR NOT NULL" in sqlite_ddl
    assert "id VARCHAR NOT NULL" in pg_ddl and "VARCHAR(" not in pg_ddl
    assert "id VARCHAR(255) NOT NULL" in my_ddl
    cfg = str(CreateTable(SandboxStrategyConfig.__table__).compile(dialect=postgresql.dialect()))
    assert "user_id VARCHAR(50) NOT NULL" in cfg and "name VARCHAR(200) NOT NULL" in cfg


def test_mysql_keeps_microseconds_and_double_precision_in_ddl() -> None:
    ddl = str(CreateTable(OpportunitySnapshot.__table__).compile(dialect=mysql.dialect()))
    assert "created_at DATETIME(6) NOT NULL" in ddl
    assert "probability_profit DOUBLE" in ddl


def test_relationships_exist() -> None:
    assert ScanSession.opportunities.property.mapper.class_ is OpportunitySnapshot
    assert "delete-orphan" in ScanSession.opportunities.property.cascade
    assert SandboxStrategyConfig.test_runs.property.mapper.class_ is SandboxTestRun
    assert SandboxStrategyConfig.ai_conversations.property.mapper.class_ is SandboxAIConversation


def test_named_indexes_exist_in_the_models() -> None:
    names = {ix.name for t in Base.metadata.tables.values() for ix in t.indexes}
    expected = {
        "idx_user_strategy",
        "idx_active",
        "idx_config_id",
        "idx_created_at",
        "idx_config_id_ai",
        "idx_created_at_ai",
        "idx_symbol_type",
        "idx_expires_at",
        "idx_cache_key",
        "idx_user_date",
        "ix_critical_error_logs_error_type",
        "ix_system_health_status_service_name",
        "ix_scan_sessions_strategy",
        "ix_scan_sessions_status",
        "ix_opportunity_snapshots_opportunity_id",
    }
    assert expected <= names


# --- round trip of every table, on every engine ---------------------------------------------

MICRO = datetime(2025, 8, 1, 19, 59, 38, 30316)
SECOND = datetime(2025, 7, 31, 3, 34, 1)
UGLY_FLOAT = 0.8500000000000001
PAYLOAD = {
    "a": [1, 2.5, None, True],
    "nested": {"k": "THETA_HARVESTING", "ev": 137.20000000000007},
    "u": "é€",
}


def _rows() -> list[Base]:
    cfg = SandboxStrategyConfig(
        id="cfg-1",
        strategy_id="thetacrop_weekly",
        name="ThetaCrop Weekly Test",
        config_data=PAYLOAD,
        is_active=True,
        created_at=SECOND,
        updated_at=MICRO,
    )
    scan = ScanSession(
        id="scan-1",
        strategy="quick_scalp",
        symbols_scanned=["SPY", "QQQ"],
        started_at=MICRO,
        completed_at=MICRO,
        opportunities_found=2,
        status="COMPLETED",
        scan_parameters=PAYLOAD,
    )
    return [
        CriticalErrorLog(
            id="err-1",
            error_type="strategy_scan_failure",
            message="boom",
            details=PAYLOAD,
            created_at=MICRO,
        ),
        SystemHealthStatus(
            id="h-1",
            check_timestamp=MICRO,
            service_name="yfinance",
            status="HEALTHY",
            response_time_ms="12",
            error_count_24h=None,
            details={},
        ),
        scan,
        OpportunitySnapshot(
            opportunity_id="demo_opp_1",
            symbol="AAPL",
            strategy_type="theta_harvesting",
            data=PAYLOAD,
            created_at=MICRO,
            expires_at=SECOND,
            scan_session=scan,
            is_active=False,
            probability_profit=UGLY_FLOAT,
            expected_value=137.20000000000007,
        ),
        cfg,
        SandboxTestRun(
            id="run-1", config=cfg, test_parameters={}, test_results=PAYLOAD, created_at=SECOND
        ),
        SandboxAIConversation(
            id="ai-1",
            config=cfg,
            user_message="hi",
            ai_response="hello",
            context_data=[1, "x"],
            created_at=MICRO,
        ),
        SandboxHistoricalCache(
            id="c-1",
            cache_key="AAPL_market_data_20250801",
            symbol="AAPL",
            data_type="market_data",
            data=PAYLOAD,
            expires_at=MICRO,
        ),
        SandboxStats(id="s-1", date=MICRO),
    ]


def test_every_table_round_trips(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        s.add_all(_rows())
    with Session(engine) as s:
        err = s.get(CriticalErrorLog, "err-1")
        assert err.details == PAYLOAD and err.created_at == MICRO and err.severity == "HIGH"
        health = s.get(SystemHealthStatus, "h-1")
        assert (
            health.details == {}
            and health.response_time_ms == "12"
            and health.error_count_24h is None
        )
        scan = s.get(ScanSession, "scan-1")
        assert scan.started_at == MICRO and scan.symbols_scanned == ["SPY", "QQQ"]
        assert [o.opportunity_id for o in scan.opportunities] == ["demo_opp_1"]
        opp = scan.opportunities[0]
        assert (
            opp.probability_profit == UGLY_FLOAT
            and repr(opp.probability_profit) == "0.8500000000000001"
        )
        assert opp.expected_value == 137.20000000000007
        assert opp.is_active is False and opp.cache_hits == 0 and isinstance(opp.id, int)
        assert opp.data == PAYLOAD and opp.expires_at == SECOND
        cfg = s.get(SandboxStrategyConfig, "cfg-1")
        assert cfg.is_active is True and cfg.user_id == "default_user" and cfg.version == 1
        assert cfg.created_at == SECOND and cfg.updated_at == MICRO
        assert [r.id for r in cfg.test_runs] == ["run-1"] and cfg.test_runs[0].test_parameters == {}
        assert [c.id for c in cfg.ai_conversations] == ["ai-1"]
        ai = cfg.ai_conversations[0]
        assert (
            ai.context_data == [1, "x"]
            and ai.model_used == "gpt-4o-mini"
            and ai.estimated_cost == "$0.00"
        )
        assert s.get(SandboxHistoricalCache, "c-1").expires_at == MICRO
        stats = s.get(SandboxStats, "s-1")
        assert stats.total_ai_cost == "$0.00" and stats.strategies_created == 0


def test_uuid_keys_and_server_side_now_defaults(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        cfg = SandboxStrategyConfig(
            strategy_id="IronCondor", name="Iron Condor - Custom", config_data={}
        )
        s.add(cfg)
    with Session(engine) as s:
        got = s.scalars(select(SandboxStrategyConfig)).one()
        assert len(got.id) == 36 and got.id.count("-") == 4
        assert isinstance(got.created_at, datetime) and got.is_active is False


def test_historical_cache_key_is_unique(engine: Engine) -> None:
    from sqlalchemy.exc import IntegrityError

    with Session(engine) as s, s.begin():
        s.add(
            SandboxHistoricalCache(
                cache_key="k", symbol="AAPL", data_type="market_data", data={}, expires_at=MICRO
            )
        )
    with pytest.raises(IntegrityError), Session(engine) as s, s.begin():
        s.add(
            SandboxHistoricalCache(
                cache_key="k", symbol="MSFT", data_type="market_data", data={}, expires_at=MICRO
            )
        )


def test_named_indexes_and_fks_exist_on_every_engine(engine: Engine) -> None:
    insp = inspect(engine)
    runs = {ix["name"] for ix in insp.get_indexes("sandbox_test_runs")}
    assert {"idx_config_id", "idx_created_at"} <= runs
    cache = {ix["name"] for ix in insp.get_indexes("sandbox_historical_cache")}
    assert {"idx_symbol_type", "idx_expires_at", "idx_cache_key"} <= cache
    fks = {
        (fk["referred_table"], tuple(fk["constrained_columns"]))
        for fk in insp.get_foreign_keys("sandbox_test_runs")
    }
    assert ("sandbox_strategy_configs", ("config_id",)) in fks
    opp_fks = {fk["referred_table"] for fk in insp.get_foreign_keys("opportunity_snapshots")}
    assert opp_fks == {"scan_sessions"}


def test_json_columns_store_plain_json_text_on_sqlite(sqlite_url: str) -> None:
    eng = create_engine(sqlite_url)
    with Session(eng) as s, s.begin():
        s.add(
            SandboxHistoricalCache(
                cache_key="k",
                symbol="AAPL",
                data_type="market_data",
                data=PAYLOAD,
                expires_at=MICRO,
            )
        )
    with eng.connect() as conn:
        raw = conn.exec_driver_sql("SELECT data FROM sandbox_historical_cache").scalar_one()
    assert json.loads(raw) == PAYLOAD
    eng.dispose()
