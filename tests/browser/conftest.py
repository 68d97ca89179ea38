"""Fixtures of the real-browser tests: a dashboard server on demo data, and a fresh page of the
session's Chromium (tests/conftest.py's `browser`).

Without /usr/bin/chromium the tests skip with a reason; with REQUIRE_BROWSER=1 (as .ci/run
sets) they fail instead. Nothing here writes to data/console.db: the server gets DATABASE_URL
pointing at a temporary SQLite file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "robustness"))  # robust_support

from browser_support import prepare_database  # noqa: E402

from harness.server import Server, running_server  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def demo_db(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A temporary SQLite file with all tables and demo data (demo.generate), shared by the session."""
    path = tmp_path_factory.mktemp("demo") / "console.db"
    url = f"sqlite:///{path}"
    info = prepare_database(url, demo=True)
    return {"url": url, "path": path, **info}


@pytest.fixture(scope="session")
def server(demo_db: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The dashboard on demo data, for the whole session."""
    with running_server(demo_db["url"], tmp_path_factory.mktemp("logs") / "streamlit.log") as srv:
        yield srv


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page; console errors and failed requests collected."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.console_errors = []  # type: ignore[attr-defined]
    pg.requests = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))  # type: ignore[attr-defined]
    pg.on("request", lambda r: pg.requests.append(r.url))  # type: ignore[attr-defined]
    yield pg
    context.close()
