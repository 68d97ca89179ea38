"""Engines for the three supported databases, with the safety settings each one needs."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from db.settings import Settings, load_settings

# Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE.
SQLITE_IMMEDIATE = "sqlite_begin_immediate"


def dialect_name(url: str) -> str:
    """'sqlite', 'postgresql' or 'mysql' (MariaDB included) for a URL."""
    name = make_url(url).get_backend_name()
    if name == "postgres":
        return "postgresql"
    return "mysql" if name in ("mysql", "mariadb") else name


class UnsupportedDatabaseError(ArgumentError, ValueError):
    """A URL naming an engine the console does not support (a SQLAlchemyError, so pages' guard shows it)."""


def _normalise_url(url: str) -> str:
    """Pick the supported drivers (psycopg 3, PyMySQL) and utf8mb4 where none is named."""
    u = make_url(url)
    if u.drivername in ("postgres", "postgres+psycopg", "postgres+psycopg2"):  # Heroku-style URLs
        u = u.set(drivername="postgresql+psycopg")
    backend, driver = u.get_backend_name(), u.get_driver_name()
    if backend == "postgresql" and driver in ("psycopg2", ""):
        u = u.set(drivername="postgresql+psycopg")
    elif backend in ("mysql", "mariadb"):
        if driver in ("mysqldb", ""):
            u = u.set(drivername=f"{backend}+pymysql")
        if "charset" not in u.query:
            u = u.update_query_dict({"charset": "utf8mb4"})
    return u.render_as_string(hide_password=False)


def _sqlite_engine(url: str, settings: Settings, *, read_timeout: bool) -> Engine:
    u = make_url(url)
    if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
        try:
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # connecting then fails as an OperationalError ("unable to open"), which pages report
    engine = create_engine(
        url,
        connect_args={"timeout": settings.sqlite_busy_timeout_s, "check_same_thread": False},
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            pass  # a read-only file (mode=ro, read-only mount) keeps its journal mode and is still readable
        cur.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_s * 1000)}")
        cur.execute("PRAGMA foreign_keys=OFF")  # the backend's data has dangling references
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    # The deadline is per statement, like PostgreSQL's statement_timeout: armed before each
    # statement of a read (it then also bounds fetching that statement's rows), never for writes,
    # and dropped at commit/rollback so ending a transaction is never interrupted.
    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(
        conn: Any, _cursor: Any, _stmt: Any, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        dbapi_conn = conn.connection.dbapi_connection
        if read_timeout and not conn.get_execution_options().get(SQLITE_IMMEDIATE):
            _arm_sqlite_deadline(dbapi_conn, settings.statement_timeout_s)
        else:
            dbapi_conn.set_progress_handler(None, 0)

    def _disarm_conn(conn: Any) -> None:
        if conn.connection.dbapi_connection is not None:
            conn.connection.dbapi_connection.set_progress_handler(None, 0)

    event.listen(engine, "commit", _disarm_conn)
    event.listen(engine, "rollback", _disarm_conn)

    @event.listens_for(engine.pool, "reset")
    def _on_reset(dbapi_conn: sqlite3.Connection, _record: Any, _state: Any) -> None:
        dbapi_conn.set_progress_handler(None, 0)

    return engine


def _arm_sqlite_deadline(dbapi_conn: sqlite3.Connection, seconds: float) -> None:
    """SQLite has no statement timeout: interrupt the current statement after `seconds`."""
    deadline = time.monotonic() + seconds
    dbapi_conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)


def _postgres_engine(url: str, settings: Settings, *, read_timeout: bool) -> Engine:
    options = (
        f"-c statement_timeout={int(settings.statement_timeout_s * 1000)}" if read_timeout else ""
    )
    options += " -c lock_timeout=5000 -c TimeZone=UTC"
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=settings.pool_recycle_s,
        hide_parameters=True,
        connect_args={
            "connect_timeout": int(settings.connect_timeout_s),
            "options": options.strip(),
        },
    )


def _mysql_engine(url: str, settings: Settings, *, read_timeout: bool) -> Engine:
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=settings.pool_recycle_s,
        hide_parameters=True,
        connect_args={"connect_timeout": int(settings.connect_timeout_s)},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("SELECT VERSION()")
        is_mariadb = "mariadb" in str(cur.fetchone()[0]).lower()
        cur.execute("SET time_zone = '+00:00'")
        if read_timeout:
            if is_mariadb:
                cur.execute(f"SET SESSION max_statement_time = {settings.statement_timeout_s:.3f}")
            else:
                cur.execute(
                    f"SET SESSION max_execution_time = {int(settings.statement_timeout_s * 1000)}"
                )
        cur.close()

    return engine


def make_engine(url: str, settings: Settings | None = None, *, read_timeout: bool = True) -> Engine:
    """An engine for `url`; `read_timeout` bounds every statement by the settings' timeout."""
    settings = settings or load_settings()
    url = _normalise_url(url)
    kind = dialect_name(url)
    if kind == "sqlite":
        return _sqlite_engine(url, settings, read_timeout=read_timeout)
    if kind == "postgresql":
        return _postgres_engine(url, settings, read_timeout=read_timeout)
    if kind == "mysql":
        return _mysql_engine(url, settings, read_timeout=read_timeout)
    raise UnsupportedDatabaseError(
        f"unsupported database engine: {kind} (use sqlite, postgresql or mysql/mariadb)"
    )


def writer(engine: Engine) -> Engine:
    """The same engine whose transactions take SQLite's write lock up front (BEGIN IMMEDIATE)."""
    return engine.execution_options(**{SQLITE_IMMEDIATE: True})


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write transaction: committed on success, rolled back on any error."""
    with Session(writer(engine), expire_on_commit=False) as session, session.begin():
        yield session
