"""The data layer: the backend's models, engines, queries and commands, and the seed's names.

The seed exposed `SessionLocal`, `Base`, `get_db()`, `create_tables()` and `drop_tables()`;
they are kept here, bound lazily to the configured database.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, writer
from db.models import Base
from db.settings import load_settings


@lru_cache(maxsize=1)
def default_engine() -> Engine:
    """The engine for the configured main URL (writes go through `writer()` of it)."""
    return make_engine(load_settings().database_url, read_timeout=False)


class _LazySessionLocal:
    """`SessionLocal()` as in the seed, bound on first use to the configured database."""

    def __call__(self) -> Session:
        return sessionmaker(bind=writer(default_engine()), autoflush=False)()


SessionLocal = _LazySessionLocal()


def get_db() -> Iterator[Session]:
    """The seed's session generator: yields a session and closes it."""
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def create_tables(engine: Engine | None = None) -> None:
    """Create the backend's tables that do not exist yet (never alters existing ones)."""
    Base.metadata.create_all(engine or default_engine())


def drop_tables(engine: Engine | None = None) -> None:
    """Drop the backend's tables (tests and demo resets only)."""
    Base.metadata.drop_all(engine or default_engine())


__all__ = ["Base", "SessionLocal", "create_tables", "drop_tables", "get_db"]
