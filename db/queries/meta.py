"""Questions about the database itself: which tables exist, how big they are."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import Session


def existing_tables(session: Session) -> frozenset[str]:
    """The names of the tables in the database."""
    return frozenset(inspect(session.connection()).get_table_names())


def table_missing_message(table: str) -> str:
    """What to tell the user when `table` does not exist, with the command that creates it."""
    from db.errors import MIGRATION_HINT

    hint = MIGRATION_HINT.get(
        table, "start the scanner backend once, or `python -m demo.generate` for demo data"
    )
    return f"The table {table} does not exist in this database yet. Create it with: {hint}"
