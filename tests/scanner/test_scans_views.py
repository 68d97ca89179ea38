"""The Scans page's paging both ways, capped facet counts, the per-strategy views (charts built
only when their view is shown, the view in the URL) and selection by id."""

from __future__ import annotations

import pytest

from tests.scanner.test_pages import WINDOW, _clean_caches, _seed_sqlite, open_page, table, texts  # noqa: F401


def _ids(at) -> list[str]:  # type: ignore[no-untyped-def]
    return list(table(at, "running_for")["id"])


def test_previous_returns_to_the_earlier_page(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    import db.queries.scans as sq

    monkeypatch.setattr(sq, "PAGE_SIZE", 20)  # the query's page, and the page's
    at = open_page(monkeypatch, _seed_sqlite(sqlite_url), "pages/scans.py", **WINDOW)
    first = _ids(at)
    assert at.button(key="scans_prev").disabled and at.button(key="scans_first").disabled
    at.button(key="scans_next").click().run()
    second = _ids(at)
    at.button(key="scans_next").click().run()
    assert at.button(key="scans_next").disabled and len(_ids(at)) == 6
    at.button(key="scans_prev").click().run()
    assert _ids(at) == second and "before" in at.query_params
    at.button(key="scans_prev").click().run()
    assert _ids(at) == first and "before" not in at.query_params and "after" not in at.query_params
    assert at.button(key="scans_prev").disabled and not at.button(key="scans_next").disabled


def test_first_page_after_paging(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    import db.queries.scans as sq

    monkeypatch.setattr(sq, "PAGE_SIZE", 20)  # the query's page, and the page's
    at = open_page(monkeypatch, _seed_sqlite(sqlite_url), "pages/scans.py", **WINDOW)
    first = _ids(at)
    at.button(key="scans_next").click().run()
    at.button(key="scans_next").click().run()
    at.button(key="scans_first").click().run()
    assert _ids(at) == first and "after" not in at.query_params


def test_capped_facet_counts_say_at_least(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    import db.queries.scans as sq
    import ui.sections.scans as us

    monkeypatch.setattr(sq, "COUNT_CAP", 10)
    monkeypatch.setattr(us, "COUNT_CAP", 10)
    at = open_page(monkeypatch, _seed_sqlite(sqlite_url), "pages/scans.py", **WINDOW)
    labels = at.multiselect(key="scans_state").options
    assert any(label.startswith("COMPLETED (") and label.endswith("+)") for label in labels)
    assert "STALLED (4)" in labels  # the rare states are still counted exactly
    assert "Counts are of the newest 10 matching runs" in texts(at)
    assert "10+ scans" in texts(at)


def test_uncapped_facet_counts_are_exact(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    at = open_page(monkeypatch, _seed_sqlite(sqlite_url), "pages/scans.py", **WINDOW)
    labels = at.multiselect(key="scans_state").options
    assert (
        "COMPLETED (41)" in labels and "STALLED (4)" in labels
    )  # all four RUNNING scans are months old
    assert "Counts are of the newest" not in texts(at) and "46 scans" in texts(at)


def test_charts_are_built_only_in_their_view(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    at = open_page(monkeypatch, _seed_sqlite(sqlite_url), "pages/scans.py", **WINDOW)
    assert not at.get("plotly_chart")  # the default view: the per-strategy table
    assert set(table(at, "success_rate")["strategy"]) == {"fast", "slow", "FAST"}
    at.session_state["scans_sview"] = "Outcome grid"
    at.run()
    assert len(at.get("plotly_chart")) == 1 and at.query_params["sview"] == "Outcome grid"
    assert "Grid cells are" in texts(at)
    at.session_state["scans_sview"] = "Table"
    at.run()
    assert not at.get("plotly_chart") and "sview" not in at.query_params


@pytest.mark.parametrize(
    "view", ["Success and duration", "Opportunities over time", "Outcome grid"]
)
def test_view_from_the_url(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, view: str) -> None:
    at = open_page(monkeypatch, _seed_sqlite(sqlite_url), "pages/scans.py", **WINDOW, sview=view)
    assert len(at.get("plotly_chart")) == 1


def test_unknown_view_in_the_url_is_rejected(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    at = open_page(
        monkeypatch, _seed_sqlite(sqlite_url), "pages/scans.py", **WINDOW, sview="Pie chart"
    )
    assert "Ignored the URL parameter `sview`" in texts(at)
    assert not at.get("plotly_chart") and table(at, "success_rate") is not None


def test_selecting_a_run_shows_its_detail_at_once(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    at = open_page(monkeypatch, _seed_sqlite(sqlite_url), "pages/scans.py", **WINDOW)
    grid = next(d for d in at.dataframe if "running_for" in d.value.columns)
    row = _ids(at).index("failed-1")
    at.session_state[grid.key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert at.query_params["scan"] == "failed-1"
    assert "Scan detail" in texts(at) and "**boom** <b>x</b> [link](http://evil)" in [
        c.value for c in at.code
    ]
