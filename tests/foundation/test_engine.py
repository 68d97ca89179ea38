"""Engine safety settings: SQLite locking and deadlines, server statement timeouts, hidden parameters,
and how database failures are classified for users."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from db.engine import dialect_name, make_engine, write_session, writer
from db.errors import classify
from db.models import ScanSession
from db.settings import Settings, load_settings

SLOW_SQLITE = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 500000000) "
    "SELECT COUNT(*) FROM r"
)


def _settings(**changes: float) -> Settings:
    return dataclasses.replace(load_settings(env={}, secrets_path=Path("/nonexistent")), **changes)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    eng = make_engine(url, read_timeout=False)
    with writer(eng).begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    eng.dispose()
    return url


def _other_writer(url: str) -> sqlite3.Connection:
    """A second process-like connection that does not wait for locks."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    return conn


# --- SQLite ------------------------------------------------------------------------------------


def test_sqlite_pragmas_are_in_effect(sqlite_file: str) -> None:
    eng = make_engine(sqlite_file, _settings(sqlite_busy_timeout_s=2.5))
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
    eng.dispose()


def test_dangling_foreign_keys_are_accepted_on_sqlite(sqlite_url: str) -> None:
    from db.models import SandboxTestRun

    eng = make_engine(sqlite_url)
    with write_session(eng) as s:
        s.add(SandboxTestRun(config_id="abc_batch_1", test_parameters={}, test_results={}))
    with Session(eng) as s:
        assert s.query(SandboxTestRun).one().config_id == "abc_batch_1"
    eng.dispose()


def test_writer_transaction_takes_the_write_lock_up_front(sqlite_file: str) -> None:
    eng = make_engine(sqlite_file)
    other = _other_writer(sqlite_file)
    with writer(eng).begin() as conn:
        conn.execute(text("SELECT COUNT(*) FROM t"))  # only a read so far, yet the lock is held
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # released at commit
    other.execute("ROLLBACK")
    other.close()
    eng.dispose()


def test_write_session_takes_the_write_lock_up_front(sqlite_file: str) -> None:
    eng = make_engine(sqlite_file)
    other = _other_writer(sqlite_file)
    with write_session(eng) as s:
        s.execute(text("SELECT 1"))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("INSERT INTO t VALUES (1)")
    other.execute("INSERT INTO t VALUES (2)")
    other.close()
    eng.dispose()


def test_a_plain_read_does_not_take_the_write_lock(sqlite_file: str) -> None:
    eng = make_engine(sqlite_file)
    other = _other_writer(sqlite_file)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM t")).scalar_one() == 0
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")
        other.execute("COMMIT")
        # WAL: the open read transaction still sees its snapshot, and nobody was blocked.
        assert conn.execute(text("SELECT COUNT(*) FROM t")).scalar_one() == 0
    with eng.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM t")).scalar_one() == 1
    other.close()
    eng.dispose()


def test_a_second_writer_gets_busy_and_it_is_classified(sqlite_file: str) -> None:
    first = make_engine(sqlite_file)
    second = make_engine(sqlite_file, _settings(sqlite_busy_timeout_s=0.2))
    with writer(first).begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(OperationalError) as err, writer(second).begin() as c2:
            c2.execute(text("INSERT INTO t VALUES (2)"))
    problem = classify(err.value)
    assert problem.kind == "busy" and "try again" in problem.message
    with writer(second).begin() as c2:  # usable once the lock is gone
        c2.execute(text("INSERT INTO t VALUES (3)"))
    with first.connect() as conn:
        assert sorted(conn.execute(text("SELECT x FROM t")).scalars()) == [1, 3]
    first.dispose()
    second.dispose()


def test_sqlite_read_deadline_interrupts_a_slow_query_and_the_connection_recovers(
    sqlite_file: str,
) -> None:
    eng = make_engine(sqlite_file, _settings(statement_timeout_s=0.3), read_timeout=True)
    with eng.connect() as conn:
        with pytest.raises(OperationalError) as err:
            conn.execute(text(SLOW_SQLITE))
        problem = classify(err.value)
        assert problem.kind == "timeout" and "Narrow the filter" in problem.message
        conn.rollback()
        assert conn.execute(text("SELECT COUNT(*) FROM t")).scalar_one() == 0
    with eng.connect() as conn:  # the pooled connection is fine too
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    eng.dispose()


def test_sqlite_writes_are_not_cut_by_the_read_deadline(sqlite_file: str) -> None:
    eng = make_engine(sqlite_file, _settings(statement_timeout_s=0.05), read_timeout=True)
    q = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 300000) SELECT COUNT(*) FROM r"
    with writer(eng).begin() as conn:
        assert conn.execute(text(q)).scalar_one() == 300000
    eng.dispose()


# --- all engines --------------------------------------------------------------------------------


def _slow(kind: str) -> str:
    return {
        "sqlite": SLOW_SQLITE,
        "postgresql": "SELECT pg_sleep(20)",
        "mysql": "SELECT SLEEP(20)",
    }[kind]


def test_read_engines_have_a_statement_timeout(db_url: str) -> None:
    kind = dialect_name(db_url)
    eng = make_engine(db_url, _settings(statement_timeout_s=0.4), read_timeout=True)
    with eng.connect() as conn:
        if kind == "postgresql":
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "400ms"
            assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
        elif kind == "mysql":
            assert float(
                conn.exec_driver_sql("SELECT @@max_statement_time").scalar()
            ) == pytest.approx(0.4)
            assert conn.exec_driver_sql("SELECT @@time_zone").scalar() == "+00:00"
        with pytest.raises(DBAPIError) as err:
            conn.execute(text(_slow(kind)))
        problem = classify(err.value)
        assert problem.kind == "timeout", str(err.value.orig)
        assert "Narrow the filter" in problem.message
        conn.rollback()
        assert conn.execute(text("SELECT COUNT(*) FROM scan_sessions")).scalar_one() == 0
    eng.dispose()


def test_write_engines_have_no_statement_timeout(db_url: str) -> None:
    kind = dialect_name(db_url)
    eng = make_engine(db_url, _settings(statement_timeout_s=0.01), read_timeout=False)
    with eng.connect() as conn:
        if kind == "sqlite":
            q = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 300000) SELECT COUNT(*) FROM r"
            assert conn.execute(text(q)).scalar_one() == 300000
        elif kind == "postgresql":
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
        else:
            assert float(conn.exec_driver_sql("SELECT @@max_statement_time").scalar()) == 0
    eng.dispose()


def test_server_engines_ping_and_recycle(db_url: str) -> None:
    eng = make_engine(db_url)
    if dialect_name(db_url) != "sqlite":
        assert eng.pool._pre_ping is True
        assert eng.pool._recycle == load_settings(env={}).pool_recycle_s
    assert eng.hide_parameters is True
    eng.dispose()


def test_parameters_never_appear_in_error_text(engine: Engine) -> None:
    with write_session(engine) as s:
        s.add(ScanSession(id="dup", strategy="quick_scalp"))
    with pytest.raises(IntegrityError) as err, write_session(engine) as s:
        s.add(ScanSession(id="dup", strategy="TOP-SECRET-VALUE"))
    assert "TOP-SECRET-VALUE" not in str(err.value)
    assert "hidden" in str(err.value)


def test_missing_table_is_named_with_the_command_that_creates_it(engine: Engine) -> None:
    with writer(engine).begin() as conn:
        conn.execute(text("DROP TABLE critical_error_logs"))
    with pytest.raises(DBAPIError) as err, engine.connect() as conn:
        conn.execute(text("SELECT COUNT(*) FROM critical_error_logs"))
    problem = classify(err.value)
    assert problem.kind == "missing_table" and problem.table == "critical_error_logs"
    assert "python -m db.schema.backend_tables" in problem.message
    assert "SELECT" not in problem.message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:hunter2@127.0.0.1:1/scanner",
        "mysql+pymysql://u:hunter2@127.0.0.1:1/scanner",
    ],
)
def test_unreachable_servers_are_classified(url: str) -> None:
    eng = make_engine(url, _settings(connect_timeout_s=2))
    with pytest.raises(OperationalError) as err, eng.connect():
        pass
    problem = classify(err.value)
    assert problem.kind == "unreachable"
    assert "hunter2" not in problem.message and "127.0.0.1" not in problem.message
    eng.dispose()


def test_unopenable_sqlite_file_is_classified_unreachable(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    eng = create_engine(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    with pytest.raises(OperationalError) as err, eng.connect():
        pass
    assert classify(err.value).kind == "unreachable"
    assert str(tmp_path) not in classify(err.value).message


def test_sqlite_locked_message_is_busy() -> None:
    exc = OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    assert classify(exc).kind == "busy"


def test_other_errors_never_leak_sql() -> None:
    exc = OperationalError(
        "SELECT secret FROM x WHERE token='abc'", {}, Exception("disk I/O error")
    )
    problem = classify(exc)
    assert "secret" not in problem.message and "abc" not in problem.message
    assert classify(ValueError("boom")).kind == "error"


# --- URLs -------------------------------------------------------------------------------------


def test_unsupported_engine_is_a_config_problem_not_a_crash() -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from db.engine import UnsupportedDatabaseError

    with pytest.raises(UnsupportedDatabaseError) as err:
        make_engine("mssql+pyodbc://u:hunter2@h/db")
    assert isinstance(err.value, ValueError) and isinstance(err.value, SQLAlchemyError)
    problem = classify(err.value)
    assert (
        problem.kind == "config"
        and "DATABASE_URL" in problem.message
        and "hunter2" not in problem.message
    )
    from sqlalchemy.exc import ArgumentError

    with pytest.raises(ArgumentError) as bad:
        make_engine("not a url")
    assert classify(bad.value).kind == "config"


def test_postgres_scheme_and_bare_drivers_are_normalised() -> None:
    pg = make_engine("postgres://u:pw@127.0.0.1:1/db")
    assert (
        pg.url.drivername == "postgresql+psycopg"
        and dialect_name("postgres://h/db") == "postgresql"
    )
    my = make_engine("mysql://u:pw@127.0.0.1:1/db")
    assert my.url.drivername == "mysql+pymysql" and my.url.query["charset"] == "utf8mb4"
    maria = make_engine("mariadb://u:pw@127.0.0.1:1/db")
    assert maria.url.drivername == "mariadb+pymysql" and dialect_name(str(maria.url)) == "mysql"
    for e in (pg, my, maria):
        e.dispose()


def test_sqlite_folder_that_cannot_be_created_fails_on_connect_as_unreachable(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    eng = make_engine(f"sqlite:///{blocker}/sub/x.db")  # no exception while building the engine
    with pytest.raises(OperationalError) as err, eng.connect():
        pass
    assert classify(err.value).kind == "unreachable"
    eng.dispose()


def test_sqlite_uri_filenames_create_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "ro.db"
    sqlite3.connect(src).close()
    eng = make_engine(f"sqlite:///file:{src}?mode=ro&uri=true")
    with eng.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    eng.dispose()
    assert not (tmp_path / "file:").exists()


def test_sqlite_deadline_is_per_statement_not_per_transaction(sqlite_file: str) -> None:
    """Like PostgreSQL's statement_timeout: a read transaction with many quick statements (a
    session walking keyset pages) is never cut because their sum exceeds the limit."""
    import time

    eng = make_engine(sqlite_file, _settings(statement_timeout_s=1.0), read_timeout=True)
    q = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 50000) SELECT COUNT(*) FROM r"
    with Session(eng) as s:
        assert s.execute(text(q)).scalar_one() == 50000
        time.sleep(1.3)  # the transaction is now older than the limit; the next statement is not
        assert s.execute(text(q)).scalar_one() == 50000
        s.commit()
    eng.dispose()
