"""The index recommendations: printed without changes by default, created only with --apply."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from db.engine import dialect_name
from db.models import Base, SystemHealthStatus
from db.schema import indexes


def _index_names(engine: Engine) -> set[str]:
    insp = inspect(engine)
    return {
        ix["name"]
        for table in insp.get_table_names()
        for ix in insp.get_indexes(table)
        if ix["name"]
    }


def _ours(engine: Engine) -> set[str]:
    return {n for n in _index_names(engine) if n.startswith(indexes.PREFIX)}


def test_every_recommendation_names_real_columns() -> None:
    for rec in indexes.RECOMMENDATIONS:
        table = Base.metadata.tables[rec.table]
        for col in (*rec.columns, *rec.include, *rec.where_columns):
            assert col in table.c, f"{rec.name}: {rec.table}.{col}"
        assert rec.name.startswith(indexes.PREFIX) and len(rec.name) <= 63
        assert rec.why


def test_the_command_changes_nothing_without_apply(engine: Engine, db_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    before = _index_names(engine)
    assert indexes.main(["--url", db_url]) == 0
    out = capsys.readouterr().out
    assert "MISSING" in out and "CREATE INDEX" in out and "--apply" in out
    assert _index_names(engine) == before


def _mine(engine: Engine) -> list[indexes.Recommendation]:
    return indexes.for_engine(dialect_name(str(engine.url)))


def test_apply_creates_each_once_and_drop_removes_them(engine: Engine) -> None:
    names = {r.name for r in _mine(engine)}
    assert indexes.apply(engine) == [r.name for r in _mine(engine)]
    assert _ours(engine) == names
    assert all(s.present for s in indexes.check(engine))
    assert indexes.apply(engine) == []  # idempotent
    assert set(indexes.drop(engine)) == names
    assert _ours(engine) == set()


def test_the_cli_applies(engine: Engine, db_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert indexes.main(["--url", db_url, "--apply"]) == 0
    assert "created:" in capsys.readouterr().out
    assert len(_ours(engine)) == len(_mine(engine))


MESSAGE_INDEXES = (f"{indexes.PREFIX}errors_message", f"{indexes.PREFIX}errors_message_resolved")


def test_the_whole_message_indexes_are_recommended_on_sqlite_only(
    engine: Engine, db_url: str, capsys
) -> None:  # type: ignore[no-untyped-def]
    assert indexes.main(["--url", db_url]) == 0
    out = capsys.readouterr().out
    on_sqlite = engine.dialect.name == "sqlite"
    for name in MESSAGE_INDEXES:  # PostgreSQL's btree refuses long keys; InnoDB takes a prefix only
        assert (name in out) is on_sqlite
    indexes.apply(engine)
    assert (
        set(MESSAGE_INDEXES) <= _ours(engine)
        if on_sqlite
        else not set(MESSAGE_INDEXES) & _ours(engine)
    )


def test_the_models_never_gain_the_indexes(engine: Engine) -> None:
    indexes.apply(engine)
    for table in Base.metadata.tables.values():
        assert not any(str(ix.name).startswith(indexes.PREFIX) for ix in table.indexes)


def test_engine_forms(engine: Engine) -> None:
    kind = engine.dialect.name
    partial = next(r for r in indexes.RECOMMENDATIONS if r.where is not None)
    sql = " ".join(indexes.ddl(partial, engine).split())
    if kind == "postgresql":
        assert "CONCURRENTLY" in sql and "INCLUDE" in sql and "WHERE" in sql
    elif kind == "sqlite":
        assert "WHERE" in sql and "INCLUDE" not in sql
    else:  # MariaDB: no partial index; the predicate's column leads the key instead
        assert "WHERE" not in sql and f"({partial.where_columns[0]}," in sql


def test_a_bad_url_is_reported_not_raised(capsys) -> None:  # type: ignore[no-untyped-def]
    assert (
        indexes.main(["--url", "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"])
        == 1
    )
    assert "index command failed" in capsys.readouterr().err


def test_sqlite_window_query_uses_the_covering_index(sqlite_url: str) -> None:
    from db.engine import make_engine

    engine = make_engine(sqlite_url, read_timeout=False)
    try:
        now = datetime(2026, 1, 1)
        with Session(engine) as s, s.begin():
            s.add_all(
                SystemHealthStatus(
                    service_name=f"svc{i % 5}",
                    status="HEALTHY",
                    check_timestamp=now - timedelta(minutes=i),
                )
                for i in range(500)
            )
        indexes.apply(engine)
        stmt = select(SystemHealthStatus.service_name, SystemHealthStatus.status).where(
            SystemHealthStatus.check_timestamp >= now - timedelta(hours=1)
        )
        compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
        with engine.connect() as conn:
            plan = " ".join(
                str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
        assert f"COVERING INDEX {indexes.PREFIX}health_time" in plan, plan
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_mysql_keys_stay_within_innodb_limit(kind: str) -> None:
    for rec in indexes.for_engine(kind):
        key, include = indexes.key_columns(rec, kind)
        assert set(rec.columns) <= set(key)
        if kind == "mysql":
            table = indexes._private_table(rec.table)
            assert sum(indexes._mysql_bytes(table, c) for c in key) <= indexes.MYSQL_KEY_BYTES
            assert include == ()
