"""Fixtures: one engine per database kind, each test module on a database of its own.

SQLite always runs. PostgreSQL and MariaDB run when reachable (URLs from TEST_POSTGRES_URL /
TEST_MYSQL_URL); when REQUIRE_ENGINES names them (as .ci/run does), unreachable is a failure.
Each test session works in a fresh database created on the server and dropped afterwards, so
parallel runs never share tables.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import Connection, Engine, MetaData, create_engine, text
from sqlalchemy.engine import make_url

from db.engine import make_engine
from db.models import Base
from harness.browser import CHROMIUM, chromium_available, launched_chromium, playwright_available

ROOT = Path(__file__).resolve().parent.parent


def _load_project_streamlit_config() -> None:
    """Parse the project's .streamlit/config.toml once, from the project folder.

    Streamlit reads config.toml from the working directory the first time an option is asked
    for. Some tests chdir to a temporary folder (no secrets.toml there); if one of them came first
    in a worker, `server.address` stayed unset and every later page test ran read-only instead of
    in local mode, depending on test order.
    """
    from streamlit import config

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        config.get_config_options(force_reparse=True)
    finally:
        os.chdir(here)


_load_project_streamlit_config()
FIXTURES = ROOT.parent / "shared" / "fixtures"
if not FIXTURES.exists():
    FIXTURES = Path(os.environ.get("SHARED_DIR", "/work/shared")) / "fixtures"

SERVER_URLS = {
    "postgresql": os.environ.get(
        "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
    "mariadb": os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER", "") not in ("", "0", "false")
REQUIRED = {e.strip() for e in os.environ.get("REQUIRE_ENGINES", "").split(",") if e.strip()}
ENGINE_KINDS = ["sqlite", "postgresql", "mariadb"]


def _server_admin(kind: str) -> Engine:
    return create_engine(
        make_url(SERVER_URLS[kind]).render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )


def _create_database(kind: str) -> str:
    """Create a throwaway database on the server; returns its URL."""
    name = f"console_test_{uuid.uuid4().hex[:10]}"
    admin = _server_admin(kind)
    try:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(
                    text(
                        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                )
    finally:
        admin.dispose()
    return make_url(SERVER_URLS[kind]).set(database=name).render_as_string(hide_password=False)


def _drop_database(kind: str, url: str) -> None:
    name = make_url(url).database
    admin = _server_admin(kind)
    try:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                # A failed test's traceback keeps its connection (and its open transaction's
                # metadata locks) alive: DROP DATABASE would wait for it forever. End those first.
                conn.execute(text("SET SESSION lock_wait_timeout = 60"))
                holders = conn.execute(
                    text(
                        "SELECT id FROM information_schema.processlist "
                        "WHERE db = :db AND id <> CONNECTION_ID()"
                    ),
                    {"db": name},
                ).scalars()
                for pid in list(holders):
                    try:
                        conn.execute(text(f"KILL CONNECTION {int(pid)}"))
                    except Exception:  # noqa: BLE001 - it may have ended meanwhile
                        pass
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def server_db_url(request: pytest.FixtureRequest) -> Iterator[callable]:  # type: ignore[valid-type]
    """A factory: kind -> URL of a fresh database for this test session (created once per kind)."""
    made: dict[str, str] = {}

    def get(kind: str) -> str:
        if kind not in made:
            try:
                made[kind] = _create_database(kind)
            except Exception as exc:  # noqa: BLE001
                msg = f"{kind} not reachable at {make_url(SERVER_URLS[kind]).render_as_string()}: {type(exc).__name__}"
                if kind in REQUIRED:
                    pytest.fail(msg + " (required by REQUIRE_ENGINES)")
                pytest.skip(msg)
        return made[kind]

    yield get
    for kind, url in made.items():
        _drop_database(kind, url)


# Server databases whose schema is exactly as a full reset left it: URL -> schema fingerprint.
# Rebuilding eleven tables costs ~2 s per test on MariaDB; emptying them costs ~0.05 s.
_PRISTINE: dict[str, tuple[Any, ...]] = {}

_FINGERPRINT_SQL = {
    "postgresql": (
        "SELECT 'c', table_name, column_name, data_type, is_nullable, COALESCE(column_default, '') "
        "FROM information_schema.columns WHERE table_schema = 'public' "
        "UNION ALL SELECT 'i', tablename, indexname, indexdef, '', '' FROM pg_indexes WHERE schemaname = 'public' "
        "UNION ALL SELECT 't', table_name, table_type, '', '', '' FROM information_schema.tables "
        "WHERE table_schema = 'public' "
        "UNION ALL SELECT 'k', table_name, constraint_name, constraint_type, '', '' "
        "FROM information_schema.table_constraints WHERE table_schema = 'public'"
    ),
    "mysql": (
        "SELECT 'c', table_name, column_name, column_type, is_nullable, COALESCE(column_default, '') "
        "FROM information_schema.columns WHERE table_schema = DATABASE() "
        "UNION ALL SELECT 'i', table_name, index_name, column_name, CAST(seq_in_index AS CHAR), "
        "CAST(non_unique AS CHAR) FROM information_schema.statistics WHERE table_schema = DATABASE() "
        "UNION ALL SELECT 't', table_name, table_type, '', '', '' FROM information_schema.tables "
        "WHERE table_schema = DATABASE() "
        "UNION ALL SELECT 'k', table_name, constraint_name, constraint_type, '', '' "
        "FROM information_schema.table_constraints WHERE table_schema = DATABASE()"
    ),
}


def _fingerprint(conn: Connection) -> tuple[Any, ...]:
    kind = "mysql" if conn.dialect.name in ("mysql", "mariadb") else conn.dialect.name
    return tuple(
        sorted(tuple(str(v) for v in row) for row in conn.execute(text(_FINGERPRINT_SQL[kind])))
    )


def _empty_tables(conn: Connection) -> None:
    """Delete every row (children first) and restart the one autoincrement key."""
    from db import own_models

    tables = [*own_models.OwnBase.metadata.sorted_tables, *Base.metadata.sorted_tables]
    for table in reversed(tables):
        conn.execute(table.delete())
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('opportunity_snapshots', 'id'), 1, false)")
        )
    else:
        conn.execute(text("ALTER TABLE opportunity_snapshots AUTO_INCREMENT = 1"))


def _reset_schema(engine: Engine) -> None:
    """All tables (backend + ours), empty. Server databases are only emptied when their schema is
    exactly as the last full reset left it; anything else (a dropped table, an added index, an
    Alembic version table) gets the full rebuild."""
    from db import own_models

    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "sqlite" and url in _PRISTINE:
        with engine.begin() as conn:
            if _fingerprint(conn) == _PRISTINE[url]:
                _empty_tables(conn)
                return
    leftovers = MetaData()
    leftovers.reflect(engine)
    leftovers.drop_all(engine)
    Base.metadata.create_all(engine)
    own_models.OwnBase.metadata.create_all(engine)
    if engine.dialect.name != "sqlite":
        with engine.connect() as conn:
            _PRISTINE[url] = _fingerprint(conn)


@pytest.fixture(params=ENGINE_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, server_db_url) -> str:  # type: ignore[no-untyped-def]
    """A URL to an empty database with all tables (backend + ours), on each engine kind."""
    kind = request.param
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        url = server_db_url(kind)
    eng = make_engine(url, read_timeout=False)
    try:
        _reset_schema(eng)
    finally:
        eng.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a freshly created schema, for each engine kind."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def write_engine(db_url: str) -> Iterator[Engine]:
    """An engine as commands get it in the app (data.write_engine): no read statement timeout."""
    eng = make_engine(db_url, read_timeout=False)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL to an empty SQLite database with all tables."""
    url = f"sqlite:///{tmp_path / 'test.db'}"
    eng = make_engine(url, read_timeout=False)
    _reset_schema(eng)
    eng.dispose()
    return url


@pytest.fixture(params=["origin-dev.db", "origin-dev-early.db"])
def fixture_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A writable copy of one of the backend's real databases."""
    src = FIXTURES / request.param
    if not src.exists():
        pytest.skip(f"fixture {src.name} not found")
    dst = tmp_path / request.param
    shutil.copy(src, dst)
    dst.chmod(0o644)
    return f"sqlite:///{dst}"


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Empty Streamlit caches (data and resources; engines live outside them) before and after a test."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def still_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """'Now' (rounded up to NOW_GRANULARITY_S, part of the reads' keys) stands still for the test:
    on a loaded machine a few reruns can cross a tick, and a new 'now' is rightly a new read."""
    import importlib
    import pkgutil
    import sys

    import ui
    import ui.kit.frame

    for info in pkgutil.iter_modules(ui.__path__, "ui."):
        importlib.import_module(info.name)
    fixed = ui.kit.frame.rounded_now()
    for name, mod in list(sys.modules.items()):
        if (name == "ui" or name.startswith("ui.")) and getattr(
            mod, "rounded_now", None
        ) is ui.kit.frame.rounded_now:
            monkeypatch.setattr(mod, "rounded_now", lambda: fixed)
    return fixed


def _browser_missing() -> str:
    if not chromium_available():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return "" if playwright_available() else "playwright is not installed"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, with Playwright to drive it: skips without them, fails instead under
    REQUIRE_BROWSER=1 (as .ci/run sets)."""
    missing = _browser_missing()
    if missing and REQUIRE_BROWSER:
        pytest.fail(f"{missing}; the real-browser tests need it and REQUIRE_BROWSER=1 is set")
    if missing:
        pytest.skip(f"{missing}; the real-browser tests need it")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    """The one headless Chromium of this test process, shared by every test that drives a browser:
    while Playwright's sync API is open, a second one (or asyncio.run) refuses to start in its thread."""
    with launched_chromium() as launched:
        yield launched
