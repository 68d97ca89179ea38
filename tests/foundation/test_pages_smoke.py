"""Every registered page, run through app.py with AppTest: on an empty database, on copies of the
backend's real databases, on demo data, with a missing table and with the database unreachable."""

from __future__ import annotations

import ast
import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from db.engine import make_engine
from db.models import Base
from tests.foundation.conftest import FIXTURES, ROOT

TIMEOUT_S = 60
MISSING_HINT = {
    "system_health_status": "python -m db.schema.backend_tables",
    "critical_error_logs": "python -m db.schema.backend_tables",
    "console_audit_log": "python -m db.schema.migrate",
}


def _literal_pages(path: Path) -> dict[str, str]:
    """Page file -> title for every st.Page("pages/x.py", title=...) or PageSpec("pages/x.py", "T", ...)
    written in `path`."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if not (
            isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
        ):
            continue
        callee = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        first = node.args[0].value
        if callee not in ("Page", "PageSpec") or not (
            isinstance(first, str) and first.endswith(".py")
        ):
            continue
        title = next((k.value.value for k in node.keywords if k.arg == "title"), None)
        if title is None and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
            title = node.args[1].value
        found[first] = str(title or Path(first).stem)
    return found


def registered_pages() -> dict[str, str]:
    """The pages app.py registers: its own st.Page calls and those of the ui modules it imports."""
    app = ROOT / "app.py"
    pages = _literal_pages(app)
    for node in ast.walk(ast.parse(app.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ui."):
            pages.update(_literal_pages(ROOT / (node.module.replace(".", "/") + ".py")))
    return pages


PAGES = registered_pages()


def test_every_page_file_is_registered_and_every_registered_page_exists() -> None:
    files = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_")}
    assert PAGES, "no st.Page found through app.py"
    assert set(PAGES) == files
    assert {
        "pages/health.py",
        "pages/errors.py",
        "pages/scans.py",
        "pages/opportunities.py",
        "pages/sandbox.py",
    } <= set(PAGES)


@pytest.fixture(autouse=True)
def _clean_caches(fresh_caches: None) -> Iterator[None]:
    yield


def _run(monkeypatch: pytest.MonkeyPatch, url: str, page: str) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page(page).run()
    return at


def _texts(at: AppTest) -> str:
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "text",
        "code",
        "warning",
        "error",
        "info",
        "success",
    ):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def _assert_clean(at: AppTest, page: str) -> None:
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    titles = [t.value for t in at.title]
    assert PAGES[page] in titles, f"{page}: title {PAGES[page]!r} not in {titles}"
    shown = _texts(at)
    for leak in ("Traceback", "SELECT ", "sqlalchemy.exc", "[SQL:"):
        assert leak not in shown, f"{page} shows {leak!r}"


def _missing_table_shown(at: AppTest, table: str) -> bool:
    warnings = "\n".join(str(w.value) for w in [*at.warning, *at.error, *at.info])
    return table in warnings and MISSING_HINT.get(table, "python -m") in warnings


def _content(at: AppTest) -> int:
    """How many content elements the page's main area shows beyond its title."""
    main = at.main
    return sum(
        len(getattr(main, kind))
        for kind in ("metric", "dataframe", "table", "json", "code", "text")
    )


def _copy_fixture(tmp_path: Path, name: str) -> str:
    src = FIXTURES / name
    if not src.exists():
        pytest.skip(f"{name} not found")
    shutil.copy(src, tmp_path / name)
    (tmp_path / name).chmod(0o644)
    return f"sqlite:///{tmp_path / name}"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_on_an_empty_database(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, page: str
) -> None:
    at = _run(monkeypatch, sqlite_url, page)
    _assert_clean(at, page)
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("fixture", ["origin-dev.db", "origin-dev-early.db"])
def test_page_on_a_copy_of_the_real_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str, fixture: str
) -> None:
    url = _copy_fixture(tmp_path, fixture)
    at = _run(monkeypatch, url, page)
    _assert_clean(at, page)
    eng = make_engine(url)
    from sqlalchemy import inspect

    tables = set(inspect(eng).get_table_names())
    eng.dispose()
    needed = [t for t in MISSING_HINT if t not in tables]
    missing_shown = [t for t in needed if _missing_table_shown(at, t)]
    if missing_shown:
        return  # the page needs a table the backend's database does not have: it said which and how
    assert not at.error, [e.value for e in at.error]
    assert _content(at) > 0, f"{page}: no headline content on real data"


@pytest.mark.parametrize("page", ["pages/health.py", "pages/errors.py"])
def test_missing_error_tables_are_named_with_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str
) -> None:
    url = _copy_fixture(tmp_path, "origin-dev.db")
    at = _run(monkeypatch, url, page)
    _assert_clean(at, page)
    table = "system_health_status" if page.endswith("health.py") else "critical_error_logs"
    assert _missing_table_shown(at, table), _texts(at)


def test_a_missing_table_does_not_stop_the_other_pages(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    eng = make_engine(sqlite_url)
    with eng.begin() as conn:
        conn.execute(text("DROP TABLE system_health_status"))
    eng.dispose()
    at = _run(monkeypatch, sqlite_url, "pages/health.py")
    assert _missing_table_shown(at, "system_health_status")
    at.switch_page("pages/scans.py").run()
    _assert_clean(at, "pages/scans.py")
    assert not _missing_table_shown(at, "system_health_status")


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_with_the_database_unreachable(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    monkeypatch.setenv("CONSOLE_CONNECT_TIMEOUT_S", "2")
    at = _run(monkeypatch, "postgresql+psycopg://console:hunter2@127.0.0.1:1/scanner", page)
    _assert_clean(at, page)
    shown = _texts(at)
    assert "cannot be reached" in shown or "operational problem" in shown, shown
    assert "hunter2" not in shown and "console:" not in shown
    assert any(b.label == "Retry" for b in at.button)


def test_page_recovers_when_the_database_comes_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "later.db"
    path.mkdir()  # a directory where the file should be: SQLite cannot open it
    url = f"sqlite:///{path}"
    at = _run(monkeypatch, url, "pages/scans.py")
    _assert_clean(at, "pages/scans.py")
    assert "cannot be reached" in _texts(at) or "operational problem" in _texts(at)
    path.rmdir()
    eng = make_engine(url, read_timeout=False)
    Base.metadata.create_all(eng)
    eng.dispose()
    next(b for b in at.button if b.label == "Retry").click().run()
    _assert_clean(at, "pages/scans.py")
    assert not at.error, [e.value for e in at.error]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if importlib.util.find_spec("demo.generate") is None:
        pytest.skip("demo/generate.py does not exist yet")
    from db.schema import migrate
    from demo import generate as demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    eng = make_engine(url, read_timeout=False)
    demo.generate(eng, rows=2_000, seed=3)
    migrate.upgrade(eng)  # as the first start does (ui/kit/bootstrap.py): our own tables too
    eng.dispose()
    return url


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_on_demo_data(monkeypatch: pytest.MonkeyPatch, demo_url: str, page: str) -> None:
    at = _run(monkeypatch, demo_url, page)
    _assert_clean(at, page)
    assert not at.error and not at.warning, [e.value for e in [*at.error, *at.warning]]
    assert _content(at) > 0, f"{page}: no headline content on demo data"


def _slow_panel_script() -> None:
    """A panel whose query runs past the statement timeout, wrapped in the pages' guard."""
    import os

    from sqlalchemy import text as sql

    from db.engine import make_engine as mk
    from db.settings import load_settings
    from ui.kit.widgets import guard

    eng = mk(os.environ["DATABASE_URL"], load_settings(), read_timeout=True)
    with guard("Slow panel"), eng.connect() as conn:
        conn.execute(
            sql(
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 900000000) "
                "SELECT COUNT(*) FROM r"
            )
        )
    eng.dispose()
    import streamlit as st_

    st_.text("after the panel")


def test_a_statement_timeout_in_a_panel_says_narrow_the_filter(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CONSOLE_STATEMENT_TIMEOUT_S", "0.3")
    at = AppTest.from_function(_slow_panel_script, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    warnings = [str(w.value) for w in at.warning]
    assert any(w.startswith("Slow panel: ") and "Narrow the filter" in w for w in warnings), (
        warnings
    )
    assert any(b.label == "Retry" for b in at.button)
    assert [t.value for t in at.text] == ["after the panel"]  # the rest of the page still runs


def test_sidebar_names_the_database_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_CONNECT_TIMEOUT_S", "2")
    at = _run(
        monkeypatch, "postgresql+psycopg://console:hunter2@127.0.0.1:1/scanner", "pages/scans.py"
    )
    side = [str(t.value) for t in at.sidebar.text]
    assert "postgresql · 127.0.0.1/scanner" in side, side
    assert not any("hunter2" in s or "console" in s for s in side)


@pytest.mark.parametrize(
    "url", ["mssql+pyodbc://u:hunter2@h/db", "not a url", "sqlite:////proc/no/such/dir/x.db"]
)
def test_a_bad_database_url_shows_a_message_not_an_exception(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    at = _run(monkeypatch, url, "pages/scans.py")
    _assert_clean(at, "pages/scans.py")
    assert at.error, "no message shown"
    assert "hunter2" not in _texts(at)
