"""Database failures as the user should hear of them: a kind and a plain message, no SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)


class PermissionDenied(Exception):
    """A write refused by the caller's roles; nothing was written."""


class ConflictError(Exception):
    """Someone else changed the record since it was loaded; nothing was written."""


class ValidationFailed(Exception):
    """Input that fails validation; `errors` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class DbProblem:
    """What went wrong, for the user: `kind` is one of unreachable, timeout, busy, missing_table, config, error."""

    kind: str
    message: str
    table: str | None = None


MIGRATION_HINT = {
    "critical_error_logs": "python -m db.schema.backend_tables",
    "system_health_status": "python -m db.schema.backend_tables",
    "console_audit_log": "python -m db.schema.migrate",
    "console_config_history": "python -m db.schema.migrate",
    "console_error_resolution_history": "python -m db.schema.migrate",
}
_MISSING = [
    re.compile(r"no such table: (?:main\.)?[`\"]?(\w+)"),
    re.compile(r'relation "(?:\w+\.)?(\w+)" does not exist'),
    re.compile(r"Table '(?:\w+\.)?(\w+)' doesn't exist"),
]
_TIMEOUT = (
    "interrupted",
    "statement timeout",
    "canceling statement",
    "max_statement_time",
    "max_execution_time",
    "query execution was interrupted",
)
# Waiting for rows another writer holds (PostgreSQL lock_timeout, InnoDB lock wait): busy, not slow.
_BUSY = (
    "database is locked",
    "database is busy",
    "deadlock",
    "lock timeout",
    "lock wait timeout",
    "could not obtain lock",
)
_UNREACHABLE = (
    "connection refused",
    "could not connect",
    "can't connect",
    "unable to open database",
    "connection failed",
    "server closed the connection",
    "lost connection",
    "gone away",
    "timeout expired",
    "name or service not known",
    "connection timed out",
)


def classify(exc: BaseException) -> DbProblem:
    """Turn a database exception into a user-facing problem (never SQL, parameters or paths)."""
    if isinstance(
        exc, ArgumentError
    ):  # includes NoSuchModuleError: a URL that names no usable engine
        return DbProblem(
            "config",
            "The configured database URL is not usable. Check DATABASE_URL (or "
            "[database] url in .streamlit/secrets.toml): the console supports sqlite, "
            "postgresql+psycopg and mysql+pymysql URLs.",
        )
    raw = str(getattr(exc, "orig", None) or exc)
    low = raw.lower()
    for rx in _MISSING:
        m = rx.search(raw)
        if m:
            table = m.group(1)
            hint = MIGRATION_HINT.get(
                table, "python -m demo.generate (demo data) or start the scanner backend once"
            )
            return DbProblem(
                "missing_table",
                f"The table `{table}` does not exist in this database yet. Create it with: {hint}",
                table,
            )
    if any(s in low for s in _BUSY):
        return DbProblem(
            "busy",
            "The database is busy (another process holds a write lock). "
            "Nothing was changed; try again in a moment.",
        )
    if any(s in low for s in _TIMEOUT):
        return DbProblem(
            "timeout",
            "The query took longer than the time limit and was cancelled. "
            "Narrow the filter (a shorter time range or fewer values) and try again.",
        )
    if (
        isinstance(exc, OperationalError)
        and any(s in low for s in _UNREACHABLE)
        or not isinstance(exc, (SQLAlchemyError, DBAPIError))
        and isinstance(exc, (ConnectionError, OSError))
    ):
        return DbProblem(
            "unreachable",
            "The database cannot be reached right now. The console retries on the next refresh.",
        )
    if isinstance(exc, OperationalError):
        return DbProblem(
            "unreachable",
            "The database reported an operational problem "
            "(it may be down or restarting). Try again in a moment.",
        )
    if isinstance(exc, ProgrammingError):
        return DbProblem(
            "error",
            "The database rejected a query of the console; its schema may differ "
            "from what the console expects.",
        )
    return DbProblem(
        "error",
        "The database returned an unexpected error. Try again; if it persists, "
        "check the server logs.",
    )
