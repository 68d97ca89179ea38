"""Values as the backend writes them: malformed JSON text, naive UTC of mixed precision."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from db.engine import make_engine, write_session
from db.models import (
    CriticalErrorLog,
    SandboxStrategyConfig,
    SandboxTestRun,
    ScanSession,
    SystemHealthStatus,
)
from db.queries.common import frame, to_utc
from db.types import InvalidJSON, parse_json_text
from tests.foundation.conftest import FIXTURES

BAD = ["not json {", "", "{'single': 'quotes'}", "[1,", "NaN-ish"]


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Engine:
    eng = make_engine(sqlite_url)
    yield eng
    eng.dispose()


def test_invalid_json_text_reads_back_as_invalid_json(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        for i, raw in enumerate([*BAD, '{"ok": 1}']):
            conn.execute(
                text(
                    "INSERT INTO system_health_status (id, check_timestamp, service_name, status, details) "
                    "VALUES (:i, '2025-08-01 00:00:00', 'db', 'DOWN', :d)"
                ),
                {"i": f"h{i}", "d": raw},
            )
    with Session(sqlite_engine) as s:
        rows = s.scalars(select(SystemHealthStatus).order_by(SystemHealthStatus.id)).all()
        core = (
            s.execute(select(SystemHealthStatus.details).order_by(SystemHealthStatus.id))
            .scalars()
            .all()
        )
    details = [r.details for r in rows]
    assert details[-1] == {"ok": 1} and core[-1] == {"ok": 1}
    for raw, got, got_core in zip(BAD, details, core, strict=False):
        assert isinstance(got, InvalidJSON) and got == raw
        assert isinstance(got_core, InvalidJSON) and got_core == raw


def test_invalid_json_in_a_not_null_column_does_not_break_relationships(
    sqlite_engine: Engine,
) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sandbox_strategy_configs (id, user_id, strategy_id, name, config_data) "
                "VALUES ('c1', 'default_user', 'ThetaCropWeekly', 'T', '{broken')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO sandbox_test_runs (id, config_id, test_parameters, test_results) "
                "VALUES ('r1', 'c1', '{}', 'also broken')"
            )
        )
    with Session(sqlite_engine) as s:
        cfg = s.get(SandboxStrategyConfig, "c1")
        assert cfg.config_data == InvalidJSON("{broken")
        assert [r.test_results for r in cfg.test_runs] == ["also broken"]
        assert isinstance(cfg.test_runs[0].test_results, InvalidJSON)


def test_json_values_of_every_kind_round_trip(engine: Engine) -> None:
    values = [{"a": 1}, [1, "x"], "plain string", 12.5, True, {"nested": {"deep": [None, False]}}]
    with write_session(engine) as s:
        for i, v in enumerate(values):
            s.add(CriticalErrorLog(id=f"e{i}", error_type="x", message="m", details=v))
    with Session(engine) as s:
        got = s.scalars(select(CriticalErrorLog.details).order_by(CriticalErrorLog.id)).all()
    assert got == values
    assert not any(isinstance(g, InvalidJSON) for g in got)


def test_a_json_string_that_looks_broken_stays_a_valid_string(engine: Engine) -> None:
    with write_session(engine) as s:
        s.add(CriticalErrorLog(id="e1", error_type="x", message="m", details="{not json"))
    with Session(engine) as s:
        got = s.scalars(select(CriticalErrorLog.details)).one()
    assert got == "{not json" and not isinstance(got, InvalidJSON)


def test_parse_json_text() -> None:
    assert parse_json_text('{"a": [1]}') == {"a": [1]}
    assert parse_json_text(b"[1, 2]") == [1, 2]
    assert isinstance(parse_json_text("{x"), InvalidJSON)
    assert parse_json_text(b"\xff{") == InvalidJSON("\ufffd{")
    assert parse_json_text(None) is None and parse_json_text({"a": 1}) == {"a": 1}


# --- timestamps --------------------------------------------------------------------------------


def test_to_utc_handles_mixed_precision_text() -> None:
    got = to_utc(pd.Series(["2025-07-31 03:34:01", "2025-08-01 23:14:38.655839", None, "garbage"]))
    assert str(got.dtype) == "datetime64[us, UTC]"
    assert got[0] == pd.Timestamp("2025-07-31 03:34:01", tz="UTC")
    assert got[1] == pd.Timestamp("2025-08-01 23:14:38.655839", tz="UTC")
    assert got[1].microsecond == 655839
    assert pd.isna(got[2]) and pd.isna(got[3])


def test_to_utc_reads_naive_datetimes_as_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        got = to_utc(pd.Series([datetime(2025, 8, 1, 13, 30), datetime(2025, 8, 1, 13, 30, 0, 5)]))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert list(got) == [
        pd.Timestamp("2025-08-01 13:30", tz="UTC"),
        pd.Timestamp("2025-08-01 13:30:00.000005", tz="UTC"),
    ]


def test_to_utc_keeps_aware_values_and_converts_epoch_numbers() -> None:
    aware = to_utc(pd.Series([pd.Timestamp("2025-08-01 15:30", tz="Europe/Berlin")]))
    assert aware[0] == pd.Timestamp("2025-08-01 13:30", tz="UTC")
    epoch = to_utc(pd.Series([1754055000]))
    assert epoch[0] == pd.Timestamp("2025-08-01 13:30", tz="UTC")
    empty = to_utc(pd.Series([], dtype=object))
    assert str(empty.dtype) == "datetime64[us, UTC]" and empty.empty


def test_frame_gives_typed_columns_even_when_empty() -> None:
    dtypes = {"at": "utc", "n": "Int64", "x": "float", "ok": "bool", "s": "str", "j": "object"}
    empty = frame([], dtypes)
    assert list(empty.columns) == list(dtypes) and empty.empty
    assert str(empty["at"].dtype) == "datetime64[us, UTC]" and str(empty["n"].dtype) == "Int64"
    full = frame(
        [{"at": "2025-07-31 03:34:01", "n": 3, "x": "0.5", "ok": 1, "s": 5, "j": {"a": 1}}], dtypes
    )
    assert full.loc[0, "at"] == pd.Timestamp("2025-07-31 03:34:01", tz="UTC")
    assert full.loc[0, "n"] == 3 and full.loc[0, "x"] == 0.5 and bool(full.loc[0, "ok"]) is True
    assert full.loc[0, "s"] == "5" and full.loc[0, "j"] == {"a": 1}


@pytest.mark.parametrize("name", ["origin-dev.db", "origin-dev-early.db"])
def test_real_mixed_precision_rows_read_as_datetimes(tmp_path: Path, name: str) -> None:
    src = FIXTURES / name
    if not src.exists():
        pytest.skip(f"{name} not found")
    shutil.copy(src, tmp_path / name)
    eng = make_engine(f"sqlite:///{tmp_path / name}")
    with Session(eng) as s:
        runs = s.execute(select(SandboxTestRun.created_at, SandboxTestRun.test_results)).all()
        scans = s.scalars(select(ScanSession.started_at)).all()
    assert runs and scans
    assert all(
        isinstance(at, datetime) and at.microsecond == 0 for at, _ in runs
    )  # CURRENT_TIMESTAMP
    assert any(at.microsecond for at in scans)
    assert all(isinstance(r, dict) for _, r in runs)
    utc = to_utc(pd.Series([at for at, _ in runs] + list(scans)))
    assert utc.notna().all() and str(utc.dtype) == "datetime64[us, UTC]"
    assert (utc >= pd.Timestamp(2025, 7, 1, tz=UTC)).all()
    eng.dispose()
