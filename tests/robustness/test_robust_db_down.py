"""The database down at start and in the middle of a session, on each engine: a clear message,
no traceback or error details, and recovery without a restart once it is back (Retry / next run).

PostgreSQL and MariaDB are reached through a loopback proxy that is switched off and on (the same
URL goes down and comes back); SQLite's file is overwritten in place with garbage and restored.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from robust_support import (
    ENGINE_KINDS,
    PAGE_IDS,
    PAGES,
    PageSpec,
    all_texts,
    create_server_db,
    drop_server_db,
    exceptions,
    leaks,
    prepare_schema,
)
from sqlalchemy import text
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest
from tcp_proxy import Proxy

from db import data
from db.engine import make_engine
from demo import messy

DOWN_WORDS = ("cannot be reached", "operational problem", "does not exist", "try again")


@dataclass
class Switchable:
    """A database whose URL can be made unusable and usable again."""

    kind: str
    url: str
    down: Callable[[], None]
    up: Callable[[], None]


def _fill(url: str) -> None:
    prepare_schema(url)
    eng = make_engine(url, read_timeout=False)
    messy.generate(eng, seed=5, rows=12)
    eng.dispose()


def _sqlite_switchable(tmp: Path) -> Switchable:
    path = tmp / "down.db"
    url = f"sqlite:///{path}"
    _fill(url)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    good = path.read_bytes()

    def down() -> None:
        with open(path, "r+b") as f:  # in place: open connections see it too
            f.write(b"this is not a database file " * 200)
            f.truncate()

    def up() -> None:
        with open(path, "r+b") as f:
            f.write(good)
            f.truncate()

    return Switchable("sqlite", url, down, up)


@pytest.fixture(params=ENGINE_KINDS)
def switchable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Switchable]:
    kind = request.param
    if kind == "sqlite":
        yield _sqlite_switchable(tmp_path)
        return
    real = create_server_db(kind)
    try:
        _fill(real)
        u = make_url(real)
        proxy = Proxy(u.host or "127.0.0.1", u.port or (5432 if kind == "postgresql" else 3306))
        proxy.up()
        yield Switchable(
            kind,
            u.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
            proxy.down,
            proxy.up,
        )
        proxy.down()
    finally:
        drop_server_db(kind, real)


def _shown(at: AppTest) -> list[tuple[str, str]]:
    return [
        (k, s) for k, s in all_texts(at) if messy.MARKER not in s
    ]  # database text may say anything


# ui.kit.frame.future_notice: a legitimate warning on data with rows dated after now (the messy data has
# some), never a sign of the database being down. Only this exact sentence is set aside.
FUTURE_NOTICE = re.compile(r"[\d,]+ [a-z ]+ dated in the future (is|are) not in this window\.")


def _is_future_notice(message: str) -> bool:
    return FUTURE_NOTICE.fullmatch(message) is not None


def _messages(at: AppTest) -> list[str]:
    """The errors and warnings of the last run, but for the notice of rows dated in the future."""
    return [str(e.value) for e in [*at.error, *at.warning] if not _is_future_notice(str(e.value))]


def _assert_down_message(at: AppTest, page: PageSpec) -> None:
    assert not exceptions(at), f"{page.name}: traceback shown: {exceptions(at)}"
    msgs = _messages(at)
    assert any(w in m.lower() for m in msgs for w in DOWN_WORDS), (
        f"{page.name}: no clear message: {msgs}"
    )
    assert not leaks(_shown(at)), f"{page.name}: {leaks(_shown(at))}"
    assert any(b.label == "Retry" for b in at.button), f"{page.name}: no Retry button"


def _assert_clean(at: AppTest, page: PageSpec) -> None:
    assert not exceptions(at), f"{page.name}: {exceptions(at)}"
    assert not at.error, f"{page.name}: error after recovery: {[e.value for e in at.error]}"
    assert not any(
        w in m.lower() for m in _messages(at) for w in ("cannot be reached", "operational problem")
    )
    assert not leaks(_shown(at)), leaks(_shown(at))


def _retry(at: AppTest) -> AppTest:
    buttons = [b for b in at.button if b.label == "Retry"]
    return buttons[0].click().run() if buttons else at.run()


def _app(url: str, page: PageSpec, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CONSOLE_CONNECT_TIMEOUT_S", "2")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.switch_page(page.path)
    return at


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_database_down_at_start_then_back(
    switchable: Switchable, page: PageSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    switchable.down()
    at = _app(switchable.url, page, monkeypatch).run()
    _assert_down_message(at, page)
    switchable.up()
    at = _retry(at)
    _assert_clean(at, page)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_database_down_in_the_middle_of_a_session(
    switchable: Switchable, page: PageSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(switchable.url, page, monkeypatch).run()
    _assert_clean(at, page)
    switchable.down()
    data.invalidate()  # the cached reads expire (as their TTL would)
    at.run()
    _assert_down_message(at, page)
    at = _retry(at)  # still down: the same clear message again, no traceback
    _assert_down_message(at, page)
    switchable.up()
    at = _retry(at)
    _assert_clean(at, page)


def test_postgres_connections_terminated_mid_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """pg_terminate_backend on every console connection: the next run reconnects (pre-ping)."""
    url = create_server_db("postgresql")
    try:
        _fill(url)
        page = (
            next(p for p in PAGES if p.name == "errors")
            if any(p.name == "errors" for p in PAGES)
            else PAGES[0]
        )
        at = _app(url, page, monkeypatch).run()
        _assert_clean(at, page)
        admin = make_engine(url.rsplit("/", 1)[0] + "/postgres", read_timeout=False)
        with admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": make_url(url).database},
            ).scalar_one()
        admin.dispose()
        assert killed >= 1
        data.invalidate()
        at.run()
        if _messages(
            at
        ):  # at most one failed run (any error or warning but a future notice), then Retry recovers
            _assert_down_message(at, page)
            at = _retry(at)
        _assert_clean(at, page)
    finally:
        drop_server_db("postgresql", url)


@pytest.mark.parametrize(
    ("message", "future"),
    [
        ("3 errors dated in the future are not in this window.", True),
        ("1 error dated in the future is not in this window.", True),
        ("1,204 health checks dated in the future are not in this window.", True),
        (
            "Errors: The database cannot be reached right now. The console retries on the next refresh.",
            False,
        ),
        (
            "Errors dated in the future: The database reported an operational problem (it may be down or restarting). "
            "Try again in a moment.",
            False,
        ),
        (
            "3 errors dated in the future are not in this window. The database cannot be reached right now.",
            False,
        ),
    ],
)
def test_only_the_future_notice_is_set_aside(message: str, future: bool) -> None:
    """The down check ignores the future notice and nothing else (a database message in the panel
    named after the future rows still counts)."""
    run = SimpleNamespace(error=[], warning=[SimpleNamespace(value=message)])
    assert _messages(run) == ([] if future else [message])  # type: ignore[arg-type]


def test_mariadb_database_dropped_and_recreated_mid_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The throwaway database dropped under the console: a message naming the problem, then
    recovery once it is recreated, without a restart."""
    url = create_server_db("mariadb")
    name = make_url(url).database
    try:
        _fill(url)
        page = PAGES[0]
        at = _app(url, page, monkeypatch).run()
        _assert_clean(at, page)
        admin = make_engine(url.rsplit("/", 1)[0] + "/mysql", read_timeout=False)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE `{name}`"))
        data.invalidate()
        at.run()
        _assert_down_message(at, page)
        with admin.connect() as conn:
            conn.execute(
                text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            )
        admin.dispose()
        _fill(url)
        at = _retry(at)
        _assert_clean(at, page)
    finally:
        drop_server_db("mariadb", url)
