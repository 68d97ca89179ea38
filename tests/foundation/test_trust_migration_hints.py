"""A page whose table is missing names the command that creates it, for every table we know."""

from __future__ import annotations

import pytest

from db.errors import classify
from db.models import Base
from db.own_models import OwnBase

OWN_TABLES = sorted(OwnBase.metadata.tables)


@pytest.mark.parametrize("table", OWN_TABLES)
def test_a_missing_console_table_names_the_console_migration(table: str) -> None:
    problem = classify(Exception(f"(sqlite3.OperationalError) no such table: {table}"))
    assert problem.kind == "missing_table"
    assert "python -m db.schema.migrate" in problem.message


def test_a_missing_backend_table_never_points_at_our_migration() -> None:
    problem = classify(Exception('relation "scan_sessions" does not exist'))
    assert "db.schema.migrate" not in problem.message and "scan_sessions" in problem.message
    assert (
        "console_error_resolution_history" in OWN_TABLES and "scan_sessions" in Base.metadata.tables
    )
