"""Writes under contention and failure: SQLite's write lock held by another process, a writer
committing between the console's read and its write, and a failure between a change and its
audit row. Never half-written, never a bare "database is locked"."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from db.auth import local_identity
from db.commands import audit
from db.commands.errors import resolve_errors
from db.commands.sandbox import create_config, save_config
from db.engine import make_engine, writer
from db.errors import ConflictError, classify
from db.models import CriticalErrorLog, SandboxStrategyConfig
from db.own_models import AuditLog, ConfigHistory

ME = local_identity()
CONFIG = {
    "trading": {
        "target_dte_range": [7, 21],
        "delta_target": 0.15,
        "max_positions": 3,
        "wing_widths": [5, 10, 15],
    },
    "risk": {"profit_target": 0.5, "loss_limit": 2.0},
    "universe": {"primary_symbols": ["AAPL", "MSFT", "GOOGL"]},
}
DRAFT = {
    "name": "ThetaCrop Weekly Test",
    "strategy_id": "thetacrop_weekly",
    "user_id": "default_user",
}

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
if len(sys.argv) > 3:
    conn.execute(sys.argv[3], sys.argv[4:])
conn.execute("COMMIT")
print("done", flush=True)
"""


def _hold_write_lock(
    path: Path, seconds: float, sql: str | None = None, *params: str
) -> subprocess.Popen[str]:
    """Another process: BEGIN IMMEDIATE on the file, optionally a change, COMMIT after `seconds`."""
    args = [sys.executable, "-c", HOLDER, str(path), str(seconds)] + ([sql, *params] if sql else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _add_error(engine: Engine, eid: str = "err-1") -> str:
    with engine.begin() as conn:
        conn.execute(
            CriticalErrorLog.__table__.insert().values(
                id=eid,
                error_type="market_data_unavailable",
                message="Real-time price data unavailable for SPY",
                details={"symbol": "SPY"},
                service="opportunity_cache",
                created_at=datetime(2026, 1, 1, 12, 0),
                severity="HIGH",
            )
        )
    return eid


def _resolved_at(engine: Engine, eid: str) -> datetime | None:
    with engine.connect() as conn:
        return conn.execute(
            select(CriticalErrorLog.resolved_at).where(CriticalErrorLog.id == eid)
        ).scalar_one()


def _config(engine: Engine, cid: str) -> tuple[int, str]:
    with engine.connect() as conn:
        row = conn.execute(
            select(SandboxStrategyConfig.version, SandboxStrategyConfig.name).where(
                SandboxStrategyConfig.id == cid
            )
        ).one()
    return int(row.version), str(row.name)


@pytest.fixture
def sqlite_file(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Path]]:
    """A SQLite database with all tables and a short busy timeout, and its file."""
    monkeypatch.setenv("CONSOLE_SQLITE_BUSY_TIMEOUT_S", "0.3")
    engine = make_engine(sqlite_url, read_timeout=False)
    yield engine, Path(sqlite_url.removeprefix("sqlite:///"))
    engine.dispose()


# --- another process holds the write lock longer than the busy timeout ------------------------


def test_busy_resolve_says_try_again_and_writes_nothing(sqlite_file: tuple[Engine, Path]) -> None:
    engine, path = sqlite_file
    eid = _add_error(engine)
    holder = _hold_write_lock(path, 2.0)
    try:
        with pytest.raises(SQLAlchemyError) as err:
            resolve_errors(engine, identity=ME, ids=[eid], note="restarted the feed")
    finally:
        holder.wait(timeout=30)
    problem = classify(err.value)
    assert problem.kind == "busy", problem
    assert "busy" in problem.message and "try again" in problem.message
    assert "locked" not in problem.message and "sqlite" not in problem.message.lower()
    assert _resolved_at(engine, eid) is None and _count(engine, AuditLog) == 0
    assert (
        resolve_errors(engine, identity=ME, ids=[eid], note="restarted the feed").count == 1
    )  # once free
    assert _resolved_at(engine, eid) is not None and _count(engine, AuditLog) == 1


def test_busy_config_save_writes_nothing(sqlite_file: tuple[Engine, Path]) -> None:
    engine, path = sqlite_file
    cid = create_config(engine, identity=ME, config_data=CONFIG, **DRAFT)
    before = (_count(engine, AuditLog), _count(engine, ConfigHistory))
    holder = _hold_write_lock(path, 2.0)
    try:
        with pytest.raises(SQLAlchemyError) as err:
            save_config(
                engine,
                identity=ME,
                config_id=cid,
                loaded_version=1,
                config_data=CONFIG,
                **{**DRAFT, "name": "edited"},
            )
    finally:
        holder.wait(timeout=30)
    assert classify(err.value).kind == "busy"
    assert _config(engine, cid) == (1, DRAFT["name"])
    assert (_count(engine, AuditLog), _count(engine, ConfigHistory)) == before
    result = save_config(
        engine,
        identity=ME,
        config_id=cid,
        loaded_version=1,
        config_data=CONFIG,
        **{**DRAFT, "name": "edited"},
    )
    assert result.version == 2 and _config(engine, cid) == (2, "edited")


# --- a writer commits between the console's read and its write -------------------------------


def test_config_changed_between_load_and_save_is_a_conflict(
    sqlite_file: tuple[Engine, Path],
) -> None:
    engine, path = sqlite_file
    cid = create_config(engine, identity=ME, config_data=CONFIG, **DRAFT)
    loaded = _config(engine, cid)[0]
    # The backend (another process) saves while the user edits.
    _hold_write_lock(
        path,
        0.0,
        "UPDATE sandbox_strategy_configs SET version = 2, name = ? WHERE id = ?",
        "theirs",
        cid,
    ).wait(timeout=30)
    with pytest.raises(ConflictError) as err:
        save_config(
            engine,
            identity=ME,
            config_id=cid,
            loaded_version=loaded,
            config_data=CONFIG,
            **{**DRAFT, "name": "mine"},
        )
    assert "version 2" in str(err.value)
    assert _config(engine, cid) == (2, "theirs")


def test_writer_holding_the_lock_briefly_then_committing(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    """The other writer holds the lock for less than the busy timeout and bumps the version: the
    console's save waits, then reports a conflict or succeeds, never "database is locked"."""
    monkeypatch.setenv("CONSOLE_SQLITE_BUSY_TIMEOUT_S", "10")
    engine = make_engine(sqlite_url, read_timeout=False)
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    cid = create_config(engine, identity=ME, config_data=CONFIG, **DRAFT)
    holder = _hold_write_lock(
        path, 1.0, "UPDATE sandbox_strategy_configs SET version = version + 1 WHERE id = ?", cid
    )
    try:
        outcome = save_config(
            engine,
            identity=ME,
            config_id=cid,
            loaded_version=1,
            config_data=CONFIG,
            **{**DRAFT, "name": "mine"},
        )
        assert outcome.version >= 2
    except ConflictError as exc:
        assert "Nothing was saved" in str(exc)
    finally:
        holder.wait(timeout=30)
        engine.dispose()


def test_error_resolved_by_someone_else_in_between(sqlite_file: tuple[Engine, Path]) -> None:
    engine, path = sqlite_file
    eid = _add_error(engine)
    _hold_write_lock(
        path,
        0.0,
        "UPDATE critical_error_logs SET resolved_at = '2026-01-02 00:00:00', "
        "resolution_notes = 'by the backend' WHERE id = ?",
        eid,
    ).wait(timeout=30)
    result = resolve_errors(engine, identity=ME, ids=[eid], note="mine")
    assert result.count == 0 and [a.id for a in result.already] == [eid]
    with engine.connect() as conn:
        notes = conn.execute(
            select(CriticalErrorLog.resolution_notes).where(CriticalErrorLog.id == eid)
        ).scalar()
    assert notes == "by the backend" and _count(engine, AuditLog) == 0


# --- a failure between a change and its audit row (all three engines) ------------------------


class AuditDown(RuntimeError):
    pass


def _audit_fails(*_args: object, **_kwargs: object) -> None:
    raise AuditDown("the audit insert failed")


def test_resolve_without_audit_row_writes_nothing(
    write_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    eid = _add_error(write_engine)
    monkeypatch.setattr(audit, "record", _audit_fails)
    with pytest.raises(AuditDown):
        resolve_errors(write_engine, identity=ME, ids=[eid], note="fixed")
    assert _resolved_at(write_engine, eid) is None and _count(write_engine, AuditLog) == 0


def test_config_save_without_audit_row_writes_nothing(
    write_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = create_config(write_engine, identity=ME, config_data=CONFIG, **DRAFT)
    history, audits = _count(write_engine, ConfigHistory), _count(write_engine, AuditLog)
    monkeypatch.setattr(audit, "record", _audit_fails)
    with pytest.raises(AuditDown):
        save_config(
            write_engine,
            identity=ME,
            config_id=cid,
            loaded_version=1,
            config_data=CONFIG,
            **{**DRAFT, "name": "edited"},
        )
    with pytest.raises(AuditDown):
        create_config(write_engine, identity=ME, config_data=CONFIG, **{**DRAFT, "name": "another"})
    assert _config(write_engine, cid) == (1, DRAFT["name"])
    assert (_count(write_engine, ConfigHistory), _count(write_engine, AuditLog)) == (
        history,
        audits,
    )
    assert _count(write_engine, SandboxStrategyConfig) == 1


def test_change_without_audit_row_rolls_back_on_the_writer(write_engine: Engine) -> None:
    """The shared audited_write: an exception after the change and before the audit row commits nothing."""
    eid = _add_error(write_engine)
    with (
        pytest.raises(AuditDown),
        audit.audited_write(write_engine, identity=ME, permission="resolve_errors") as s,
    ):
        s.execute(
            update(CriticalErrorLog)
            .where(CriticalErrorLog.id == eid)
            .values(resolution_notes="half")
        )
        raise AuditDown("crash before the audit row")
    with writer(write_engine).connect() as conn:
        assert (
            conn.execute(
                select(CriticalErrorLog.resolution_notes).where(CriticalErrorLog.id == eid)
            ).scalar()
            is None
        )
