"""A read slower than the statement timeout, on each engine: cancelled, the user reads "narrow the
filter", and the connection stays usable."""

from __future__ import annotations

import dataclasses

import pytest
from robust_support import all_texts, exceptions, leaks
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from streamlit.testing.v1 import AppTest

from db.engine import dialect_name, make_engine
from db.errors import classify
from db.settings import load_settings

TIMEOUT_S = 0.5
SLOW_SQL = {
    "postgresql": "SELECT pg_sleep(5)",
    "mysql": "SELECT SLEEP(5)",
    # No sleep in SQLite: an endless recursive CTE, stopped only by the console's deadline.
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
}


def _slow_panel_script() -> None:
    import os

    import streamlit as st
    from sqlalchemy import text

    from db import data
    from ui.kit.widgets import guard

    def slow_read(session):  # type: ignore[no-untyped-def]
        return session.execute(text(os.environ["SLOW_SQL"])).scalar()

    def quick_read(session):  # type: ignore[no-untyped-def]
        return session.execute(text("SELECT 41 + 1")).scalar()

    with guard("Slow panel"):
        st.text(f"slow finished: {data.fetch(slow_read)}")
    with guard("Quick panel"):
        st.text(f"quick: {data.fetch(quick_read)}")


def test_slow_read_cancelled_with_narrow_the_filter(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("CONSOLE_STATEMENT_TIMEOUT_S", str(TIMEOUT_S))
    monkeypatch.setenv("SLOW_SQL", SLOW_SQL[dialect_name(db_url)])
    at = AppTest.from_function(_slow_panel_script, default_timeout=60).run()
    assert not exceptions(at), exceptions(at)
    warnings = [str(w.value) for w in at.warning]
    assert any("Narrow the filter" in w for w in warnings), warnings
    shown = [t.value for t in at.text]
    assert not any(s.startswith("slow finished") for s in shown), "the slow read was not cancelled"
    assert "quick: 42" in shown, f"the next read on the same engine failed: {shown}"
    assert not leaks(all_texts(at)), leaks(all_texts(at))


def test_connection_usable_after_timeout(db_url: str) -> None:
    """The very connection whose statement was cancelled runs the next one."""
    settings = dataclasses.replace(load_settings(), statement_timeout_s=TIMEOUT_S)
    engine = make_engine(db_url, settings)
    try:
        with engine.connect() as conn:
            with pytest.raises(OperationalError) as err:
                conn.execute(text(SLOW_SQL[dialect_name(db_url)])).scalar()
            problem = classify(err.value)
            assert problem.kind == "timeout" and "Narrow the filter" in problem.message
            conn.rollback()
            assert conn.execute(text("SELECT 41 + 1")).scalar() == 42
    finally:
        engine.dispose()
