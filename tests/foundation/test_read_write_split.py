"""The read/write split on PostgreSQL: queries go to DATABASE_READ_URL, commands to DATABASE_URL.

Two URLs to the same server prove the routing: first the same database under two
`application_name`s (the server tells each connection which name it came in with), then two
different databases (a write through the write engine lands only in the main one, and the
read path sees only the "replica").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import streamlit as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from db import data
from db.auth import RESOLVE_ERRORS, local_identity
from db.commands import audit
from db.engine import make_engine
from db.models import Base
from db.own_models import AuditLog, OwnBase


def application_name(session: Session) -> str:
    """The application_name the server sees for this session's connection."""
    return str(session.execute(text("SELECT current_setting('application_name')")).scalar_one())


def audit_rows(session: Session) -> int:
    """Rows in the console's audit log."""
    return int(session.execute(select(func.count()).select_from(AuditLog)).scalar_one())


def _with_app_name(url: str, name: str) -> str:
    return (
        make_url(url)
        .update_query_dict({"application_name": name})
        .render_as_string(hide_password=False)
    )


def _create_schema(url: str) -> None:
    eng = make_engine(url, read_timeout=False)
    try:
        Base.metadata.create_all(eng)
        OwnBase.metadata.create_all(eng)
    finally:
        eng.dispose()


@pytest.fixture
def pg_url(server_db_url) -> str:  # type: ignore[no-untyped-def]
    """The session's fresh PostgreSQL database, with all tables."""
    url = server_db_url("postgresql")
    _create_schema(url)
    return url


@pytest.fixture
def second_pg_url(pg_url: str) -> Iterator[str]:
    """A second database on the same server (the stand-in replica), with all tables."""
    name = f"console_replica_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    _create_schema(url)
    yield url
    st.cache_resource.clear()  # drop the pools before dropping the database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(autouse=True)
def _fresh_caches(fresh_caches: None) -> Iterator[None]:
    yield


def _audited_insert(note: str) -> str:
    with audit.audited_write(
        data.write_engine(), identity=local_identity(), permission=RESOLVE_ERRORS
    ) as s:
        audit.record(
            s,
            identity=local_identity(),
            action="test_write",
            target_type="test",
            target_id="1",
            note=note,
        )
        return application_name(s)


def test_reads_use_the_read_url_and_writes_the_main_url(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", _with_app_name(pg_url, "console_main"))
    monkeypatch.setenv("DATABASE_READ_URL", _with_app_name(pg_url, "console_replica"))
    assert data.fetch(application_name) == "console_replica"
    assert data.fetch_uncached(application_name) == "console_replica"
    assert _audited_insert("routed") == "console_main"
    with Session(data.write_engine()) as s:
        assert application_name(s) == "console_main"


def test_without_a_read_url_reads_use_the_main_url(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", _with_app_name(pg_url, "console_main"))
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    assert data.fetch(application_name) == "console_main"
    assert _audited_insert("single") == "console_main"


def test_writes_land_in_the_main_database_reads_come_from_the_replica(
    pg_url: str, second_pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("DATABASE_READ_URL", second_pg_url)
    main, replica = make_engine(pg_url), make_engine(second_pg_url)
    try:
        with Session(main) as s:
            before_main = audit_rows(s)
        _audited_insert("to main")
        with Session(main) as s:
            assert audit_rows(s) == before_main + 1
        with Session(replica) as s:
            assert audit_rows(s) == 0
        # The read path answers from the replica: nothing there until the replica has it.
        assert data.fetch_uncached(audit_rows) == 0
        with Session(replica) as s, s.begin():
            s.add(AuditLog(actor="replicated", action="copy", target_type="test", target_id="1"))
        assert data.fetch_uncached(audit_rows) == 1
    finally:
        main.dispose()
        replica.dispose()


def test_the_cache_is_keyed_on_the_read_url(
    pg_url: str, second_pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("DATABASE_READ_URL", _with_app_name(pg_url, "replica_a"))
    assert data.fetch(application_name) == "replica_a"
    monkeypatch.setenv("DATABASE_READ_URL", _with_app_name(second_pg_url, "replica_b"))
    assert data.fetch(application_name) == "replica_b"
