"""Indexes the console's default views need, recommended and created only on request.

`python -m db.schema.indexes [--url URL] [--apply] [--drop]`

Without `--apply` the command only prints what is missing and the DDL it would run: the
database belongs to the scanner backend, so nothing is ever created silently. With `--apply`
it creates the missing indexes (PostgreSQL: `CREATE INDEX CONCURRENTLY`, so the backend's
writes are not blocked) and refreshes the planner's statistics of the tables it touched.
`--drop` removes the console's indexes again (they all start with `ix_console_view_`).

Each engine gets the best form it has: PostgreSQL covering (`INCLUDE`) and partial (`WHERE`)
indexes; SQLite partial indexes, with covering columns appended to the key; MySQL/MariaDB
neither, so covering columns join the key (within InnoDB's 3072-byte key limit) and a partial
index becomes a full one that leads with its predicate's column.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    inspect,
    text,
)
from sqlalchemy.schema import CreateIndex

from db.engine import dialect_name, make_engine
from db.models import Base
from db.settings import BrokenSettings, configured_url, safe_url
from db.types import MYSQL_VARCHAR_LENGTH

PREFIX = "ix_console_view_"
# InnoDB's largest index key (DYNAMIC rows), and the bytes one utf8mb4 character may take.
MYSQL_KEY_BYTES = 3072
MYSQL_CHAR_BYTES = 4


@dataclass(frozen=True)
class Recommendation:
    """One index a default view needs: key columns, covering columns, partial predicate, reason."""

    name: str
    table: str
    columns: tuple[str, ...]
    why: str
    include: tuple[str, ...] = ()
    where: Callable[[Table], ColumnElement[bool]] | None = None
    # Where an engine has no partial indexes, these columns lead the key instead of the predicate.
    where_columns: tuple[str, ...] = ()
    # The engine kinds ('sqlite', 'postgresql', 'mysql') it is for; empty: every engine.
    engines: tuple[str, ...] = ()

    def applies_to(self, kind: str) -> bool:
        """Whether this index is recommended on an engine kind."""
        return not self.engines or kind in self.engines


def _unresolved(t: Table) -> ColumnElement[bool]:
    return t.c.resolved_at.is_(None)


def _active(t: Table) -> ColumnElement[bool]:
    return t.c.is_active == True  # noqa: E712 - SQL, not Python truthiness


# Each one is used by a default view's plan on at least one engine (`python -m bench.plans`
# reports the use per engine); an index nobody's plan uses would only slow the backend's writes.
RECOMMENDATIONS: tuple[Recommendation, ...] = (
    Recommendation(
        name=f"{PREFIX}health_time",
        table="system_health_status",
        columns=("check_timestamp",),
        include=("service_name", "status", "response_time_ms"),
        why="Health: status counts, uptime and latency buckets over the window read only the window's rows.",
    ),
    Recommendation(
        name=f"{PREFIX}health_service_time",
        table="system_health_status",
        columns=("service_name", "check_timestamp"),
        include=("status", "response_time_ms"),
        why="Health: the latest check per service is one index probe per service, not a scan.",
    ),
    Recommendation(
        name=f"{PREFIX}errors_time",
        table="critical_error_logs",
        columns=("created_at",),
        include=("error_type", "service", "severity", "resolved_at"),
        why="Errors: groups, counts and the timeline over the window (the backend has no created_at index).",
    ),
    Recommendation(
        name=f"{PREFIX}errors_open_time",
        table="critical_error_logs",
        columns=("created_at",),
        include=("error_type", "service", "severity"),
        where=_unresolved,
        where_columns=("resolved_at",),
        why="Errors: the unresolved errors (the triage view) without touching resolved history.",
    ),
    # SQLite only: the whole message in the key. SQLite has no key length limit; PostgreSQL's btree
    # refuses keys over ~2.7 kB (the backend's insert of a long message would then fail) and InnoDB
    # allows only a prefix, which cannot answer the exact-message probes.
    Recommendation(
        name=f"{PREFIX}errors_message",
        table="critical_error_logs",
        columns=("error_type", "service", "message", "created_at"),
        include=("severity",),
        engines=("sqlite",),
        why="Errors: New/Regressed read the 30 days before the window per message of the window (first seen, "
        "counts per period) as index ranges, not by grouping the whole history.",
    ),
    Recommendation(
        name=f"{PREFIX}errors_message_resolved",
        table="critical_error_logs",
        columns=("error_type", "service", "message", "resolved_at", "created_at"),
        engines=("sqlite",),
        why="Errors: a group's last resolution and last unresolved event are one index probe per message.",
    ),
    Recommendation(
        name=f"{PREFIX}scans_time",
        table="scan_sessions",
        columns=("started_at",),
        include=("strategy", "status", "completed_at", "opportunities_found"),
        why="Scans: runs, durations and failures per strategy over the window (no started_at index).",
    ),
    Recommendation(
        name=f"{PREFIX}scans_strategy_time",
        table="scan_sessions",
        columns=("strategy", "started_at"),
        include=("status", "completed_at"),
        why="Scans: the last run per strategy (stall detection) is one probe per strategy.",
    ),
    Recommendation(
        name=f"{PREFIX}scans_status_time",
        table="scan_sessions",
        columns=("status", "started_at"),
        include=("strategy", "completed_at"),
        why="Scans: running scans (stall thresholds, 'Running now') and one state's runs and count are one "
        "index range each, not a walk over the window.",
    ),
    Recommendation(
        name=f"{PREFIX}opps_active_expiry",
        table="opportunity_snapshots",
        columns=("expires_at",),
        include=(
            "symbol",
            "strategy_type",
            "expected_value",
            "probability_profit",
            "premium",
            "created_at",
        ),
        where=_active,
        where_columns=("is_active",),
        why="Opportunities: the active, unexpired set (the screener's default) without the inactive history.",
    ),
)


@cache
def _private_table(name: str) -> Table:
    """A copy of a backend table in a metadata of its own, so the models never gain our indexes."""
    return Base.metadata.tables[name].to_metadata(MetaData())


def _mysql_bytes(table: Table, column: str) -> int:
    col_type = table.c[column].type
    if isinstance(col_type, Boolean):
        return 1
    if isinstance(col_type, Integer):
        return 4
    if isinstance(col_type, DateTime | Float):
        return 8
    length = getattr(col_type, "length", None) or MYSQL_VARCHAR_LENGTH
    return int(length) * MYSQL_CHAR_BYTES


def key_columns(rec: Recommendation, kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(key columns, INCLUDE columns) of `rec` on an engine kind."""
    if kind == "postgresql":
        return rec.columns, rec.include
    if kind == "sqlite":
        return rec.columns + rec.include, ()
    table = _private_table(rec.table)
    key = [*rec.where_columns, *rec.columns] if rec.where else list(rec.columns)
    used = sum(_mysql_bytes(table, c) for c in key)
    for col in rec.include:  # covering columns only as far as the key limit allows
        size = _mysql_bytes(table, col)
        if used + size <= MYSQL_KEY_BYTES:
            key.append(col)
            used += size
    return tuple(key), ()


def build_index(rec: Recommendation, kind: str) -> Index:
    """The SQLAlchemy Index for `rec` on an engine kind (on a private copy of the table)."""
    table = _private_table(rec.table)
    key, include = key_columns(rec, kind)
    kw: dict[str, Any] = {}
    if kind == "postgresql":
        kw["postgresql_concurrently"] = True
        if include:
            kw["postgresql_include"] = list(include)
        if rec.where:
            kw["postgresql_where"] = rec.where(table)
    elif kind == "sqlite" and rec.where:
        kw["sqlite_where"] = rec.where(table)
    ix = Index(rec.name, *(table.c[c] for c in key), **kw)
    table.indexes.discard(ix)  # keep even the private copy free of it; DDL does not need the link
    return ix


def ddl(rec: Recommendation, engine: Engine) -> str:
    """The CREATE INDEX statement for `rec` on `engine`."""
    return str(
        CreateIndex(build_index(rec, dialect_name(str(engine.url)))).compile(dialect=engine.dialect)
    )


@dataclass(frozen=True)
class Status:
    """Where a recommendation stands on one database."""

    rec: Recommendation
    present: bool
    table_exists: bool
    sql: str


def for_engine(kind: str, recs: Sequence[Recommendation] = RECOMMENDATIONS) -> list[Recommendation]:
    """The recommendations for an engine kind ('sqlite', 'postgresql', 'mysql')."""
    return [r for r in recs if r.applies_to(kind)]


def check(engine: Engine, recs: Sequence[Recommendation] = RECOMMENDATIONS) -> list[Status]:
    """Each recommendation for `engine`'s kind with whether it exists and the DDL that would create it."""
    insp = inspect(engine)
    out: list[Status] = []
    for rec in for_engine(dialect_name(str(engine.url)), recs):
        exists = insp.has_table(rec.table)
        names = {ix["name"] for ix in insp.get_indexes(rec.table)} if exists else set()
        out.append(
            Status(rec=rec, present=rec.name in names, table_exists=exists, sql=ddl(rec, engine))
        )
    return out


@contextmanager
def _ddl_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for DDL: autocommit on PostgreSQL (CONCURRENTLY refuses transaction blocks),
    one committed transaction elsewhere (SQLite's engine emits its own BEGIN)."""
    if dialect_name(str(engine.url)) == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn
    else:
        with engine.begin() as conn:
            yield conn


def _analyze(engine: Engine, tables: set[str]) -> None:
    kind = dialect_name(str(engine.url))
    for table in sorted(tables):
        quoted = engine.dialect.identifier_preparer.quote(table)
        with _ddl_connection(engine) as conn:
            result = conn.execute(
                text(f"ANALYZE TABLE {quoted}" if kind == "mysql" else f"ANALYZE {quoted}")
            )
            if result.returns_rows:
                result.fetchall()


def apply(engine: Engine, recs: Sequence[Recommendation] = RECOMMENDATIONS) -> list[str]:
    """Create the missing indexes (never called implicitly); returns the names created."""
    created: list[str] = []
    kind = dialect_name(str(engine.url))
    for status in check(engine, recs):
        if status.present or not status.table_exists:
            continue
        with _ddl_connection(engine) as conn:
            conn.execute(CreateIndex(build_index(status.rec, kind)))
        created.append(status.rec.name)
    if created:
        _analyze(engine, {r.table for r in recs if r.name in created})
    return created


def drop(engine: Engine, recs: Sequence[Recommendation] = RECOMMENDATIONS) -> list[str]:
    """Drop the console's indexes that exist (for before/after measurements); returns their names."""
    dropped: list[str] = []
    kind = dialect_name(str(engine.url))
    for status in check(engine, recs):
        if not status.present:
            continue
        name = engine.dialect.identifier_preparer.quote(status.rec.name)
        table = engine.dialect.identifier_preparer.quote(status.rec.table)
        sql = f"DROP INDEX {name} ON {table}" if kind == "mysql" else f"DROP INDEX {name}"
        with _ddl_connection(engine) as conn:
            conn.execute(text(sql))
        dropped.append(status.rec.name)
    return dropped


def report(statuses: Sequence[Status]) -> str:
    """The recommendations as text: state, reason and DDL of each."""
    lines: list[str] = []
    for s in statuses:
        state = "present" if s.present else ("no such table" if not s.table_exists else "MISSING")
        lines += [f"[{state}] {s.rec.name} on {s.rec.table}", f"    why: {s.rec.why}"]
        if not s.present and s.table_exists:
            lines.append(f"    sql: {' '.join(s.sql.split())};")
    missing = sum(1 for s in statuses if not s.present and s.table_exists)
    lines.append(f"{missing} of {len(statuses)} recommended indexes missing.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m db.schema.indexes", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", help="database URL (default: the configured main URL)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--apply", action="store_true", help="create the missing indexes")
    group.add_argument("--drop", action="store_true", help="drop the console's indexes")
    args = parser.parse_args(argv)
    try:
        url = args.url or configured_url()
    except BrokenSettings as exc:
        print(exc, file=sys.stderr)
        return 2
    engine = make_engine(url, read_timeout=False)
    try:
        print(f"database: {safe_url(url)}")
        print(report(check(engine)))
        if args.apply:
            created = apply(engine)
            print(f"created: {', '.join(created)}" if created else "nothing to create")
        elif args.drop:
            dropped = drop(engine)
            print(f"dropped: {', '.join(dropped)}" if dropped else "nothing to drop")
        else:
            print("Nothing was changed. Run again with --apply to create the missing indexes.")
    except Exception as exc:  # noqa: BLE001 - a CLI reports the failure, not a traceback
        first = str(exc).splitlines()[0][:300] if str(exc) else ""
        print(
            f"index command failed on {safe_url(url)}: {type(exc).__name__}: {first}",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
