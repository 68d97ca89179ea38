"""A panel whose query is cancelled (statement timeout) says so; the rest of the page still works.

Found by the benchmark: on 1M scans all inside the window, the Scans facet counts ran past the
statement timeout and took the whole page down with them.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from streamlit.testing.v1 import AppTest

from db.queries import scans as scan_queries
from tests.scanner.test_pages import _clean_caches, open_page  # noqa: F401 - autouse fixture


def _cancelled(*_args: object, **_kwargs: object) -> None:
    raise OperationalError("SELECT …", {}, Exception("interrupted"))


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in (at.warning, at.error) for e in kind)


def test_cancelled_facet_counts_leave_the_run_table(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setattr(scan_queries, "facet_counts", _cancelled)
    at = open_page(monkeypatch, sqlite_url, "pages/scans.py")
    assert "Narrow the filter" in _texts(at)
    assert (
        any("Scan runs" in str(s.value) or "runs" in str(s.value).lower() for s in at.subheader)
        or at.dataframe
    )


def test_an_unguarded_database_failure_is_a_message_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    import ui.sections.scans

    # keep_position: a section the page calls outside any panel's guard
    monkeypatch.setattr(ui.sections.scans, "keep_position", _cancelled)
    at = open_page(monkeypatch, sqlite_url, "pages/scans.py")
    assert "Narrow the filter" in _texts(at)
    assert "interrupted" not in _texts(at) and "SELECT" not in _texts(at)


def test_cancelled_per_strategy_stats_leave_the_run_table(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setattr(scan_queries, "strategy_stats", _cancelled)
    at = open_page(monkeypatch, sqlite_url, "pages/scans.py")
    assert "Per strategy" in _texts(at) and "Narrow the filter" in _texts(at)
    assert any(
        "running_for" in d.value.columns for d in at.dataframe
    )  # the run list is still there


def test_cancelled_stall_thresholds_are_a_message(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setattr(scan_queries, "stall_thresholds", _cancelled)
    at = open_page(monkeypatch, sqlite_url, "pages/scans.py")
    assert "Stall thresholds" in _texts(at) and "interrupted" not in _texts(at)
