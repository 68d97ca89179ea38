"""Fixtures of the journeys: one server per data set (demo, messy, origin-head), shared by the
persons of that data set, and the session's Chromium (tests/conftest.py's `browser`).

Without /usr/bin/chromium the journeys skip with a reason; with REQUIRE_BROWSER=1 (as .ci/run
sets) they fail instead, as the browser tests do.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "robustness"))  # robust_support, which browser_support imports
sys.path.insert(0, str(HERE.parent / "browser"))  # browser_support
sys.path.insert(0, str(HERE))  # journey_support

from journey_support import (  # noqa: E402
    DATASETS,
    HEAD_FIXTURE,
    Site,
    prepare_dataset,
    window_params,
)

from harness.server import running_server  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", params=DATASETS)
def site(
    request: pytest.FixtureRequest, browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The console on one data set, for every person of it; warmed once (the first page of a
    fresh server loads its scripts and modules, which is not what a person meets later)."""
    name = request.param
    if name == "origin-head" and not HEAD_FIXTURE.exists():
        pytest.fail(f"{HEAD_FIXTURE} is missing (the backend's own database, ../shared/fixtures)")
    directory = tmp_path_factory.mktemp(f"journey-{name}")
    url = prepare_dataset(name, directory)
    with running_server(url, directory / "streamlit.log") as srv:
        site = Site(dataset=name, url=url, server=srv, window=window_params(url, name))
        page = browser.new_page()
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
