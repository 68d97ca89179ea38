"""Fixtures of the robustness tests: messy databases on three engines, clean caches, AppTest."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from db import messy, migrate
from db.engine import make_engine
from db.models import Base

ROOT = Path(__file__).resolve().parents[2]
SERVER_URLS = {
    "postgresql": os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
REQUIRED = {e.strip() for e in os.environ.get("REQUIRE_ENGINES", "").split(",") if e.strip()}
ENGINE_KINDS = ["sqlite", "postgresql", "mariadb"]
APP_TIMEOUT_S = 60


def _admin(kind: str):  # type: ignore[no-untyped-def]
    return create_engine(SERVER_URLS[kind], isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


def create_server_db(kind: str) -> str:
    """A throwaway database on the PostgreSQL/MariaDB server (skip, or fail when required)."""
    name = f"console_robust_{uuid.uuid4().hex[:10]}"
    try:
        admin = _admin(kind)
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001
        msg = f"{kind} not reachable: {type(exc).__name__}"
        if kind in REQUIRED:
            pytest.fail(msg + " (required by REQUIRE_ENGINES)")
        pytest.skip(msg)
    return make_url(SERVER_URLS[kind]).set(database=name).render_as_string(hide_password=False)


def drop_server_db(kind: str, url: str) -> None:
    name = make_url(url).database
    admin = _admin(kind)
    with admin.connect() as conn:
        if kind == "postgresql":
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()


def prepare_schema(url: str) -> None:
    """All backend tables plus the console's own (through Alembic, as in production)."""
    eng = make_engine(url, read_timeout=False)
    try:
        Base.metadata.create_all(eng)
        migrate.upgrade(eng)
    finally:
        eng.dispose()


@dataclass
class MessyDb:
    kind: str
    url: str
    report: messy.MessyReport


@pytest.fixture(scope="module", params=ENGINE_KINDS)
def messy_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessyDb]:
    """A messy database (every text/JSON column hostile) on each engine, one per test module."""
    kind = request.param
    url = (f"sqlite:///{tmp_path_factory.mktemp('messy') / 'messy.db'}" if kind == "sqlite"
           else create_server_db(kind))
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
def _clean_streamlit_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app_at(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Factory: an AppTest of app.py on `url` with optional query params, switched to `page`."""
    monkeypatch.chdir(ROOT)

    def make(url: str, page: str | None = None, params: dict[str, str] | None = None, run: bool = True) -> AppTest:
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
