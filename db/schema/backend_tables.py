"""Create the backend's two error-logging tables and their indexes, on any engine.

`python -m db.schema.backend_tables [URL]`

The backend's own script only works on SQLite (DATETIME is invalid on PostgreSQL and its
errors are only printed). This one emits each engine's DDL through the models, adds the
script's `idx_*` indexes, is idempotent, and exits non-zero with a clear message on failure.
"""

from __future__ import annotations

import sys

from sqlalchemy import DefaultClause, Engine, Index, MetaData, Table, inspect, text

from db.engine import make_engine
from db.models import Base
from db.settings import BrokenSettings, configured_url, safe_url

_ERRORS: Table = Base.metadata.tables["critical_error_logs"]
_HEALTH: Table = Base.metadata.tables["system_health_status"]
TABLES = (_ERRORS, _HEALTH)
INDEXES = (
    ("idx_critical_error_logs_error_type", _ERRORS, "error_type"),
    ("idx_critical_error_logs_created_at", _ERRORS, "created_at"),
    ("idx_critical_error_logs_resolved_at", _ERRORS, "resolved_at"),
    ("idx_system_health_service_name", _HEALTH, "service_name"),
    ("idx_system_health_check_timestamp", _HEALTH, "check_timestamp"),
)


# The backend's raw SQL gives these columns server defaults (the models only have Python ones).
SERVER_DEFAULTS = {
    ("critical_error_logs", "created_at"): "now",
    ("critical_error_logs", "severity"): "'HIGH'",
    ("system_health_status", "check_timestamp"): "now",
}


def _with_server_defaults(table: Table, dialect: str) -> Table:
    """A copy of a model table whose columns carry the backend script's server defaults."""
    copy = table.to_metadata(MetaData())
    for (tname, cname), default in SERVER_DEFAULTS.items():
        if tname == table.name:
            # MySQL/MariaDB need the default's precision to match DATETIME(6).
            now = "CURRENT_TIMESTAMP(6)" if dialect == "mysql" else "CURRENT_TIMESTAMP"
            copy.c[cname].server_default = DefaultClause(text(now if default == "now" else default))
    return copy


def apply(engine: Engine) -> list[str]:
    """Create what is missing; returns the names of the tables and indexes created."""
    created: list[str] = []
    with engine.begin() as conn:
        insp = inspect(conn)
        for table in TABLES:
            if not insp.has_table(table.name):
                _with_server_defaults(table, conn.dialect.name).create(conn)
                created.append(table.name)
        for name, table, column in INDEXES:
            existing = {ix["name"] for ix in inspect(conn).get_indexes(table.name)}
            if name not in existing:
                # A standalone Index object, so the models' metadata does not gain it.
                Index(name, table.c[column]).create(conn)
                created.append(name)
    return created


def main(argv: list[str]) -> int:
    try:
        url = argv[0] if argv else configured_url()
    except BrokenSettings as exc:
        print(exc, file=sys.stderr)
        return 2
    engine: Engine | None = None
    try:
        # Inside the try: a bad URL or an uncreatable SQLite folder fails here, not in apply().
        engine = make_engine(url, read_timeout=False)
        created = apply(engine)
    except Exception as exc:  # noqa: BLE001 - a CLI reports the failure, not a traceback
        first = str(exc).splitlines()[0][:300] if str(exc) else ""
        print(
            f"error-logging migration failed on {safe_url(url)}: {type(exc).__name__}: {first}",
            file=sys.stderr,
        )
        return 1
    finally:
        if engine is not None:
            engine.dispose()
    print(
        f"created: {', '.join(created)}"
        if created
        else "nothing to do: tables and indexes already exist"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
