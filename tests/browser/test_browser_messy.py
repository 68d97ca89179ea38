"""Every page on a messy database, in Chromium: no element is created from database text (no
link, image, script, iframe or formatted text carrying a marker), no request goes to a URL from
the database, no script from it runs, and the page's CSV export neutralises formulas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import (
    click_grid_row,
    download,
    error_elements,
    formula_cells,
    grids,
    injected_elements,
    open_page,
    prepare_database,
    reveal_exports,
    screenshot,
    wait_for_run,
)
from robust_support import PAGE_IDS, PAGES, PageSpec

from demo.messy import MARKER, REMOTE
from harness.server import Server, running_server


@pytest.fixture(scope="module")
def messy_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("messy-browser") / "messy.db"
    prepare_database(f"sqlite:///{path}", demo=False, messy_seed=21)
    with running_server(f"sqlite:///{path}", path.parent / "streamlit.log") as srv:
        yield srv


def _check(page: Any, spec: PageSpec, step: str) -> None:
    injected = injected_elements(page, MARKER)
    assert not injected, f"{spec.name} ({step}): elements made from database text: {injected[:5]}"
    remote = [u for u in page.requests if MARKER in u or u.startswith(REMOTE)]
    assert not remote, f"{spec.name} ({step}): requests to URLs from the database: {remote[:5]}"
    errors = error_elements(page)
    assert not errors, f"{spec.name} ({step}): {errors}"


def _expand_all(page: Any) -> None:
    for summary in page.locator('[data-testid="stMain"] [data-testid="stExpander"] summary').all()[
        :8
    ]:
        if summary.is_visible():
            summary.click()
    for tab in page.locator('[data-testid="stMain"] [role="tab"]').all()[:10]:
        if tab.is_visible():
            tab.click()
            wait_for_run(page)


@pytest.mark.parametrize("spec", PAGES, ids=PAGE_IDS)
def test_no_element_from_database_text(messy_server: Server, page: Any, spec: PageSpec) -> None:
    open_page(page, f"{messy_server.base_url}/{spec.url_path}?range=30d")
    _check(page, spec, "open")
    _expand_all(page)
    _check(page, spec, "tabs and expanders")
    for i in range(min(grids(page).count(), 3)):
        click_grid_row(page, grids(page).nth(i), 0)
        _expand_all(page)
        _check(page, spec, f"row of table {i} selected")
    screenshot(page, f"messy-{spec.name}")
    reveal_exports(page)
    for j in range(
        page.locator('[data-testid="stDownloadButton"] button', has_text="Export CSV").count()
    ):
        bad = formula_cells(download(page, "Export CSV", j))
        assert not bad, f"{spec.name}: export {j} has formula cells: {bad[:5]}"
    _check(page, spec, "export")
