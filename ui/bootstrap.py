"""First start on the embedded SQLite default: create the tables and load demo data, once."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import func, inspect, select

from db import data
from db.models import Base, ScanSession
from db.settings import Settings

DEMO_ROWS = 20_000  # rows per big table on first start: tens of thousands in all
DEMO_SEED = 7


@st.cache_resource(show_spinner=False)
def _seeded(url: str) -> bool:
    """Run the first-start set-up once per process and database URL."""
    from db import demo, migrate

    engine = data.write_engine()
    missing = [t for t in Base.metadata.tables if not inspect(engine).has_table(t)]
    Base.metadata.create_all(engine)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        empty = conn.execute(select(func.count()).select_from(ScanSession)).scalar_one() == 0
    if missing or empty:
        bar = st.progress(0.0, text="First start: loading demo data…")
        demo.generate(engine, rows=DEMO_ROWS, seed=DEMO_SEED,
                      progress=lambda frac, what: bar.progress(min(max(frac, 0.0), 1.0), text=f"Demo data: {what}"))
        bar.empty()
        data.invalidate()
    return True


def ensure_database(settings: Settings) -> None:
    """On the default SQLite file, make sure tables and demo data exist (nothing elsewhere)."""
    if settings.is_default_sqlite:
        _seeded(settings.database_url)
