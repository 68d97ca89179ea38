"""The Scans page says when each panel's data was read, and builds what it shows from a cached read
once: a rerun with the same data reuses the run table, the per-strategy chart and the comparison."""

from __future__ import annotations

import pytest

from tests.scanner.test_pages import WINDOW, _clean_caches, _seed_sqlite, open_page, table  # noqa: F401


@pytest.fixture(autouse=True)
def _still(still_clock: object) -> None:
    """'Now' stands still: three reruns on a loaded machine can cross a tick."""


def _as_of_lines(at) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for c in at.caption if str(c.value).startswith("Data as of"))


def test_run_table_says_when_it_was_read(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    at = open_page(monkeypatch, _seed_sqlite(sqlite_url), "pages/scans.py", **WINDOW)
    assert _as_of_lines(at) == 2  # the run table and the per-strategy panel
    at.query_params["scan"] = "fast-1"
    at.run()
    assert _as_of_lines(at) == 3  # and the scan detail


def _count_calls(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(module, name)

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_rerun_reuses_the_run_table_and_chart(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    import ui.charts.scanner as charts
    import ui.sections.scans as us

    runs = _count_calls(monkeypatch, us, "run_frame")
    bars = _count_calls(monkeypatch, charts, "strategy_bars")
    at = open_page(
        monkeypatch,
        _seed_sqlite(sqlite_url),
        "pages/scans.py",
        **WINDOW,
        sview="Success and duration",
    )
    first = list(table(at, "running_for")["id"])
    assert len(at.get("plotly_chart")) == 1 and (len(runs), len(bars)) == (1, 1)
    at.run()
    at.run()
    assert list(table(at, "running_for")["id"]) == first and len(at.get("plotly_chart")) == 1
    assert (len(runs), len(bars)) == (1, 1)  # built once, drawn three times
    at.button(
        key="scans_table_refresh"
    ).click().run()  # the table's read again: the table built again,
    assert (len(runs), len(bars)) == (2, 1)  # the chart (another panel's read) is left as it was


def test_compare_rebuilds_when_the_choice_changes(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    import db.queries.scans as sq

    diffs = _count_calls(monkeypatch, sq, "param_diff")
    at = open_page(
        monkeypatch,
        _seed_sqlite(sqlite_url),
        "pages/scans.py",
        **WINDOW,
        scan="fast-1",
        cmp="fast-2",
    )
    at.run()
    assert len(diffs) == 1
    at.toggle(key="scans_allkeys").set_value(True).run()
    assert len(diffs) == 2 and set(table(at, "change")["change"]) == {"same"}
    at.selectbox(key="scans_cmp").set_value("run-fast-ok").run()
    assert len(diffs) == 3 and "changed" in set(table(at, "change")["change"])
