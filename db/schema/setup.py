"""First start on the embedded SQLite default: the schema steps, apart from the screen that shows them."""

from __future__ import annotations

from sqlalchemy import Engine, func, inspect, select

from db.models import Base, ScanSession
from db.schema import migrate


def prepare(engine: Engine) -> bool:
    """Create the backend's missing tables and bring ours up to date; True when demo data is due
    (a table was missing, or there is no scan yet)."""
    missing = [t for t in Base.metadata.tables if not inspect(engine).has_table(t)]
    Base.metadata.create_all(engine)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        empty = conn.execute(select(func.count()).select_from(ScanSession)).scalar_one() == 0
    return bool(missing) or empty
