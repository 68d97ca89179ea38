"""Both monitor pages, every view and tab, on demo data (demo.generate) on SQLite: no exception, data shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st

from db.engine import make_engine
from tests.monitor.apptest_support import no_exceptions, run_page

HEALTH_VIEWS = ["overview", "history", "timeline", "latency", "incidents", "details"]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from db.models import Base
    from db.schema import migrate
    from demo import generate as demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    eng = make_engine(url, read_timeout=False)
    Base.metadata.create_all(eng)
    migrate.upgrade(eng)
    demo.generate(eng, rows=3000, seed=11)
    eng.dispose()
    return url


@pytest.fixture(autouse=True)
def _caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.mark.parametrize("view", HEALTH_VIEWS)
def test_health_views_on_demo_data(
    monkeypatch: pytest.MonkeyPatch, demo_url: str, view: str
) -> None:
    at = run_page(monkeypatch, demo_url, "health", hview=view, range="7d")
    no_exceptions(at)
    assert not at.error
    assert at.dataframe or at.get("plotly_chart")


@pytest.mark.parametrize("tab", ["unresolved", "resolved", "all"])
def test_errors_tabs_on_demo_data(monkeypatch: pytest.MonkeyPatch, demo_url: str, tab: str) -> None:
    at = run_page(monkeypatch, demo_url, "errors", tab=tab, range="7d")
    no_exceptions(at)
    assert not at.error
    if tab != "resolved":
        assert len(at.dataframe[0].value) > 0


def test_errors_group_detail_on_demo_data(monkeypatch: pytest.MonkeyPatch, demo_url: str) -> None:
    at = run_page(monkeypatch, demo_url, "errors", tab="all", range="7d")
    groups = at.dataframe[0].value
    assert len(groups) > 0
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from db.queries import errors as eq
    from ui.kit.frame import rounded_now

    eng = make_engine(demo_url)
    until = rounded_now()
    with Session(eng) as s:
        view = eq.error_view(s, since=until - timedelta(days=7), until=until, bucket_s=3600)
        fp = eq.by_status(view.groups, "all")["fingerprint"].iloc[0]
    eng.dispose()
    at = run_page(monkeypatch, demo_url, "errors", tab="all", range="7d", group=fp)
    no_exceptions(at)
    assert at.json or at.code
