"""Fixtures of the journeys: one server per data set (demo, messy, origin-head), shared by the
persons of that data set, and one Chromium for the session.

Without /usr/bin/chromium the journeys skip with a reason; with REQUIRE_BROWSER=1 (as .ci/run
sets) they fail instead, as the browser tests do.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "robustness"))  # robust_support, which browser_support imports
sys.path.insert(0, str(HERE.parent / "browser"))  # browser_support
sys.path.insert(0, str(HERE))  # journey_support

from browser_support import CHROMIUM, CHROMIUM_ARGS, chromium_available, running_server  # noqa: E402
from journey_support import DATASETS, HEAD_FIXTURE, Site, prepare_dataset, window_params  # noqa: E402

REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER", "") not in ("", "0", "false")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


def _unavailable(msg: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(msg + " and REQUIRE_BROWSER=1 is set")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def journey_browser() -> Iterator[Any]:
    """One headless Chromium for every journey of this process."""
    if not chromium_available():
        _unavailable(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium); the journeys need it"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session", params=DATASETS)
def site(
    request: pytest.FixtureRequest, journey_browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The console on one data set, for every person of it; warmed once (the first page of a
    fresh server loads its scripts and modules, which is not what a person meets later)."""
    name = request.param
    if name == "origin-head" and not HEAD_FIXTURE.exists():
        pytest.fail(f"{HEAD_FIXTURE} is missing (the backend's own database, ../shared/fixtures)")
    directory = tmp_path_factory.mktemp(f"journey-{name}")
    url = prepare_dataset(name, directory)
    with running_server(url, directory) as srv:
        site = Site(dataset=name, url=url, server=srv, window=window_params(url, name))
        page = journey_browser.new_page()
        try:
            for path in ("health", "errors", "scans", "opportunities", "sandbox", "audit"):
                page.goto(site.link(path), wait_until="domcontentloaded")
                page.wait_for_function(
                    """() => { const a = document.querySelector('[data-testid="stApp"]');
                    return a && a.getAttribute('data-test-script-state') === 'notRunning'
                        && a.getAttribute('data-test-connection-state') === 'CONNECTED'; }""",
                    timeout=90_000,
                )
        finally:
            page.close()
        yield site
