"""Alembic environment: only the console's own tables, with a version table of our own."""

from __future__ import annotations

from typing import Any

from alembic import context

from db.engine import make_engine
from db.own_models import OwnBase
from db.settings import load_settings

VERSION_TABLE = "console_alembic_version"
OWN = set(OwnBase.metadata.tables)


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    """Reflect and compare only our own tables; the backend's are invisible to autogenerate."""
    if type_ == "table":
        return name in OWN
    return True


def run_migrations_online() -> None:
    config = context.config
    url = (
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or load_settings().database_url
    )
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url, read_timeout=False)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=OwnBase.metadata,
        version_table=VERSION_TABLE,
        include_name=include_name,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


run_migrations_online()
