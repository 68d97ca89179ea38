"""The caches as a shared resource: a panel's Refresh drops only the read it shows (not every domain
for every user), and Streamlit's clear_cache (any websocket client can send it) leaves the database
engines and their pools alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from db import data

CALLS: list[str] = []


def health_question(session: Session, *, n: int = 0) -> pd.DataFrame:
    """Test question in the 'health' domain (by its module name)."""
    CALLS.append(f"health{n}")
    return pd.DataFrame({"n": [n]})


def errors_question(session: Session, *, n: int = 0) -> pd.DataFrame:
    """Test question in the 'errors' domain."""
    CALLS.append(f"errors{n}")
    return pd.DataFrame({"n": [n]})


health_question.__module__ = "db.queries.health"
errors_question.__module__ = "db.queries.errors"


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    data.invalidate()
    CALLS.clear()
    yield sqlite_url
    data.invalidate()


def test_refresh_drops_exactly_the_read_of_its_result(db: str) -> None:
    health = data.fetch(health_question)
    errors = data.fetch(errors_question)
    other_errors = data.fetch(errors_question, n=1)
    assert CALLS == ["health0", "errors0", "errors1"]
    assert data.refresh(errors) == 1
    assert data.as_of(data.fetch(health_question)) == data.as_of(health)  # still the cached read
    assert data.as_of(data.fetch(errors_question, n=1)) == data.as_of(other_errors)
    again = data.fetch(errors_question)
    assert CALLS == ["health0", "errors0", "errors1", "errors0"]
    assert data.as_of(again) > data.as_of(errors)


def test_a_result_without_its_origin_refreshes_only_this_runs_reads(db: str) -> None:
    data.fetch(health_question)
    data.begin_run()  # a new script run: it reads errors only
    errors = data.fetch(errors_question)
    assert data.refresh(pd.DataFrame({"derived": [1]})) == 1
    data.fetch(health_question)
    data.fetch(errors_question)
    assert CALLS == ["health0", "errors0", "errors0"]
    assert errors.attrs["cache_ref"] and "sqlite" not in repr(
        errors.attrs
    )  # no URL in what a page may show


def _panels_script() -> None:
    import streamlit as st

    from db import data
    from tests.foundation.test_trust_frame_cache import errors_question, health_question
    from ui.kit.widgets import freshness

    health = data.fetch(health_question)
    errors = data.fetch(errors_question)
    st.text(f"health {health.attrs['as_of']}")
    st.text(f"errors {errors.attrs['as_of']}")
    freshness(errors, key="test_errors")


def test_refreshing_the_errors_panel_keeps_the_health_read(db: str) -> None:
    at = AppTest.from_function(_panels_script, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    before = {t.value.split()[0]: datetime.fromisoformat(t.value.split()[1]) for t in at.text}
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert not at.exception
    after = {t.value.split()[0]: datetime.fromisoformat(t.value.split()[1]) for t in at.text}
    assert after["health"] == before["health"]
    assert after["errors"] > before["errors"]


def test_clear_cache_keeps_the_engines(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = data.make_engine

    def counting(url: str, *args: object, **kwargs: object) -> object:
        made.append(url)
        return real(url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(data, "make_engine", counting)
    first = data.engines()  # a fresh database URL: its engines are made here
    for _ in range(15):  # what 15 clear_cache messages do
        st.cache_resource.clear()
        st.cache_data.clear()
        assert data.engines() is first
        assert data.read_engine() is first.read and data.write_engine() is first.write
    assert len(made) == 2  # one write and one read engine, once
