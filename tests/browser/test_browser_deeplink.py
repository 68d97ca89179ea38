"""A deep link as the first request of a freshly started server gets the same page config and
sidebar as the same page reached through `/` (issue 2, section 5)."""

from __future__ import annotations

from typing import Any

from browser_support import error_elements, open_page, screenshot

from harness.server import running_server


def _view(page: Any) -> dict[str, Any]:
    sidebar = page.locator('[data-testid="stSidebar"]')
    text = sidebar.inner_text() if sidebar.count() else ""
    selected = page.locator('[data-testid="stSidebar"] button[aria-checked="true"]')
    return {
        "title": page.title(),
        "h1": page.locator("h1").first.inner_text() if page.locator("h1").count() else "",
        "time_range": "Time range" in text,
        "range_selected": selected.first.inner_text().strip() if selected.count() else "",
        "connection": "sqlite" in text and "Database" in text,
        "layout_wide": page.locator('[data-testid="stMainBlockContainer"]').first.bounding_box()[
            "width"
        ]
        > 900,
        "errors": error_elements(page),
    }


def test_deep_link_first_request_matches_normal_view(
    browser: Any, demo_db: dict[str, Any], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    with running_server(demo_db["url"], tmp_path / "streamlit.log") as srv:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        first = context.new_page()
        open_page(first, f"{srv.base_url}/errors?range=7d")  # the server's very first request
        deep = _view(first)
        screenshot(first, "deeplink-first-request-errors")
        context.close()

        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        normal = context.new_page()
        open_page(normal, f"{srv.base_url}/")
        open_page(normal, f"{srv.base_url}/errors?range=7d")
        via_root = _view(normal)
        context.close()

    assert deep["errors"] == [] and via_root["errors"] == [], (deep["errors"], via_root["errors"])
    assert deep["title"] == via_root["title"], "page config differs on a deep link"
    assert "Errors" in deep["h1"] and "Errors" in via_root["h1"]
    assert deep["time_range"] and deep["connection"], f"sidebar incomplete on a deep link: {deep}"
    assert deep["range_selected"] == via_root["range_selected"] == "7d", (deep, via_root)
    assert deep["layout_wide"] == via_root["layout_wide"] is True
