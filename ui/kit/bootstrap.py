"""First start on the embedded SQLite default: create the tables and load demo data, once."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from db import data
from db.errors import classify
from db.settings import Settings

DEMO_ROWS = 20_000  # rows per big table on first start: tens of thousands in all
DEMO_SEED = 7


@dataclass
class _SetupState:
    done: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


@st.cache_resource(show_spinner=False)
def _state(url: str) -> _SetupState:
    return _SetupState()


def _set_up() -> None:
    from db.schema import setup
    from demo import generate  # late import: the demo generator is only needed on a first start

    engine = data.write_engine()
    if setup.prepare(engine):
        bar = st.progress(0.0, text="First start: loading demo data…")

        def progress(frac: float, what: str) -> None:
            bar.progress(min(max(frac, 0.0), 1.0), text=f"Demo data: {what}")

        generate.generate(engine, rows=DEMO_ROWS, seed=DEMO_SEED, progress=progress)
        bar.empty()
        data.invalidate()


def ensure_database(settings: Settings) -> None:
    """On the default SQLite file, make sure tables and demo data exist (nothing elsewhere)."""
    if not settings.is_default_sqlite:
        return
    state = _state(settings.database_url)
    if state.done:
        return
    with state.lock:
        if state.done:
            return
        try:
            _set_up()
        except SQLAlchemyError as exc:
            st.error(
                "Setting up the local demo database failed: " + classify(exc).message, icon="🚫"
            )
            st.stop()
        state.done = True
