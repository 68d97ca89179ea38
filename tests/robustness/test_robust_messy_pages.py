"""Every page on a messy database (all three engines): no exception, no database text rendered
as Markdown/HTML, no error details."""

from __future__ import annotations

import pytest
from robust_support import (
    PAGE_IDS,
    PAGES,
    PageSpec,
    all_texts,
    choose_option,
    exceptions,
    leaks,
    markdown_texts,
)

from demo.messy import MARKER


def _check_run(at, page: PageSpec) -> None:  # type: ignore[no-untyped-def]
    assert not exceptions(at), f"{page.name}: uncaught exception: {exceptions(at)}"
    rendered = [(k, s) for k, s in markdown_texts(at) if MARKER in s]
    assert not rendered, f"{page.name}: database text rendered as Markdown: {rendered[:3]}"
    shown = [
        (k, s) for k, s in all_texts(at) if MARKER not in s
    ]  # database text itself may say anything
    assert not leaks(shown), f"{page.name}: error details shown: {leaks(shown)[:3]}"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
@pytest.mark.parametrize("window", ["24h", "30d"])
def test_page_renders_messy_data(messy_db, app_at, page: PageSpec, window: str) -> None:  # type: ignore[no-untyped-def]
    at = app_at(messy_db.url, page.path, {"range": window})
    _check_run(at, page)
    title = [t.value for t in at.title]
    assert page.title in title or any(page.title in t for t in title), (
        f"{page.name}: page title missing: {title}"
    )


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_page_controls_on_messy_data(messy_db, app_at, page: PageSpec) -> None:  # type: ignore[no-untyped-def]
    """Pick the first options of every selectbox (messy values among them) and every radio: each
    rerun stays clean."""
    at = app_at(messy_db.url, page.path, {"range": "30d"})
    _check_run(at, page)
    for i in range(len(at.selectbox)):
        if (at.selectbox[i].key or "").startswith("shell_"):
            continue
        for j in range(min(len(at.selectbox[i].options), 6)):
            if i >= len(at.selectbox) or j >= len(at.selectbox[i].options):
                break
            choose_option(at.selectbox[i], j)
            at.run()
            _check_run(at, page)
    for i in range(len(at.radio)):
        for j in range(min(len(at.radio[i].options), 4)):
            if i >= len(at.radio) or j >= len(at.radio[i].options):
                break
            choose_option(at.radio[i], j)
            at.run()
            _check_run(at, page)
