"""Every page registered in app.py, in Chromium, on demo data: open it, change the time range,
use its views, select a row and see its detail, follow a cross-link, export; no error element
appears at any step. A screenshot of each page is kept under test-artifacts/."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from browser_support import (
    click_grid_row,
    download,
    error_elements,
    formula_cells,
    grids,
    open_page,
    path_of,
    query_of,
    reveal_exports,
    screenshot,
    set_time_range,
    wait_for_rerun,
    wait_for_run,
)
from robust_support import PAGE_IDS, PAGES, PageSpec

MAX_VIEW_CLICKS = 8
# What each page must offer in the browser (from its issue); a page missing one fails its test.
EXPECTED: dict[str, set[str]] = {
    "health": {"views", "export"},
    "errors": {"select", "crosslink", "export", "views"},
    "scans": {"select", "export"},
    "opportunities": {"select", "export"},
    "sandbox": {"select", "views"},
    "audit": {"export"},
}


def _no_errors(page: Any, step: str) -> None:
    errors = error_elements(page)
    assert not errors, f"{step}: error element(s) on the page: {errors}"


def _main_text(page: Any) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _views(page: Any, spec: PageSpec) -> int:
    """Click every option of the main area's tabs and segmented controls once."""
    clicked = 0
    for selector in (
        '[data-testid="stMain"] [role="tab"]',
        '[data-testid="stMain"] [data-testid="stButtonGroup"] button',
    ):
        count = min(page.locator(selector).count(), MAX_VIEW_CLICKS)
        for i in range(count):
            target = page.locator(selector).nth(i)
            if not target.is_visible() or not target.is_enabled():
                continue
            target.click()
            (wait_for_run if "tab" in selector else wait_for_rerun)(page)
            _no_errors(page, f"{spec.name}: view {i} of {selector}")
            clicked += 1
    return clicked


def _select_row(page: Any, spec: PageSpec) -> bool:
    """Select the first row of the first selectable table: the URL or the page must show its detail."""
    for i in range(grids(page).count()):
        before_q, before_text = query_of(page), _main_text(page)
        click_grid_row(page, grids(page).nth(i), 0)
        _no_errors(page, f"{spec.name}: row selected in table {i}")
        if query_of(page) != before_q or _main_text(page) != before_text:
            screenshot(page, f"page-{spec.name}-selected")
            return True
    return False


def _export(page: Any, spec: PageSpec) -> bool:
    reveal_exports(page)
    buttons = page.locator('[data-testid="stDownloadButton"] button', has_text="Export CSV")
    if not buttons.count():
        return False
    data = download(page, "Export CSV")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows and rows[0], f"{spec.name}: empty CSV export"
    bad = formula_cells(data)
    assert not bad, f"{spec.name}: formula cells in the export: {bad[:5]}"
    _no_errors(page, f"{spec.name}: export")
    return True


def _crosslink(page: Any, spec: PageSpec) -> bool:
    """Follow the first link of the main area to another page of the console."""
    others = {p.url_path for p in PAGES if p.url_path != spec.url_path}
    for link in page.locator('[data-testid="stMain"] a[href]').all():
        href = link.get_attribute("href") or ""
        target = href.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        if target in others and link.is_visible():
            if (link.get_attribute("target") or "") == "_blank":
                with page.context.expect_page() as opened:
                    link.click()
                page = opened.value
            else:
                link.click()
            page.wait_for_url(lambda u, t=target: t in u)
            wait_for_run(page)
            assert path_of(page) == target
            _no_errors(page, f"{spec.name}: cross-link to {href}")
            screenshot(page, f"page-{spec.name}-crosslink-{target}")
            return True
    return False


@pytest.mark.parametrize("spec", PAGES, ids=PAGE_IDS)
def test_page_in_browser(server: Any, page: Any, spec: PageSpec) -> None:
    """Open, views, export, select a row (detail), cross-link, then the sidebar time range."""
    open_page(page, f"{server.base_url}/{spec.url_path}?range=30d")
    _no_errors(page, f"{spec.name}: open")
    assert spec.title in page.locator("h1").first.inner_text()
    screenshot(page, f"page-{spec.name}")
    done = set()
    if _views(page, spec):
        done.add("views")
    open_page(page, f"{server.base_url}/{spec.url_path}?range=30d")
    if _export(page, spec):
        done.add("export")
    if _select_row(page, spec):
        done.add("select")
        if _export(page, spec):
            done.add("export")
    if _crosslink(page, spec):
        done.add("crosslink")
    open_page(page, f"{server.base_url}/{spec.url_path}?range=30d")
    for key in ("7d", "24h"):
        set_time_range(page, key)
        _no_errors(page, f"{spec.name}: time range {key}")
        assert query_of(page).get("range", "24h") == key, page.url
        assert path_of(page) == spec.url_path
    missing = EXPECTED.get(spec.name, set()) - done
    assert not missing, (
        f"{spec.name}: could not use {sorted(missing)} in the browser (did: {sorted(done)})"
    )
