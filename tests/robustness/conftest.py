"""Fixtures of the robustness tests: messy databases on three engines, clean caches, AppTest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from robust_support import ENGINE_KINDS, ROOT, create_server_db, drop_server_db, prepare_schema
from streamlit.testing.v1 import AppTest

from db.engine import make_engine
from demo import messy

APP_TIMEOUT_S = 60


@dataclass
class MessyDb:
    kind: str
    url: str
    report: messy.MessyReport


@pytest.fixture(scope="module", params=ENGINE_KINDS)
def messy_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MessyDb]:
    """A messy database (every text/JSON column hostile) on each engine, one per test module."""
    kind = request.param
    url = (
        f"sqlite:///{tmp_path_factory.mktemp('messy') / 'messy.db'}"
        if kind == "sqlite"
        else create_server_db(kind)
    )
    try:
        prepare_schema(url)
        eng = make_engine(url, read_timeout=False)
        report = messy.generate(eng, seed=7)
        eng.dispose()
        yield MessyDb(kind, url, report)
    finally:
        if kind != "sqlite":
            drop_server_db(kind, url)


@pytest.fixture
def messy_sqlite(tmp_path: Path) -> MessyDb:
    """A messy SQLite database of this test alone."""
    url = f"sqlite:///{tmp_path / 'messy.db'}"
    prepare_schema(url)
    eng = make_engine(url, read_timeout=False)
    report = messy.generate(eng, seed=11)
    eng.dispose()
    return MessyDb("sqlite", url, report)


@pytest.fixture(autouse=True)
def _clean_streamlit_caches(fresh_caches: None) -> Iterator[None]:
    yield


@pytest.fixture
def app_at(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Factory: an AppTest of app.py on `url` with optional query params, switched to `page`."""
    monkeypatch.chdir(ROOT)

    def make(
        url: str, page: str | None = None, params: dict[str, str] | None = None, run: bool = True
    ) -> AppTest:
        monkeypatch.setenv("DATABASE_URL", url)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT_S)
        for k, v in (params or {}).items():
            at.query_params[k] = v
        if page:
            at.switch_page(page)
        if run:
            at.run()
        return at

    return make
