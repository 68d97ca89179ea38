"""Issue 12: scans stuck RUNNING for days are the present, not the past: the default 24 h view lists them
(with their age), and its counts (total, status facet, per strategy) agree with the list. On every engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.models import ScanSession
from db.queries import scans as q
from tests.scanner.conftest import NOW, ago, completed

DAY = 86400
WINDOW = {"since": NOW - timedelta(days=1), "until": NOW, "now": NOW}
# 'swing' completed in 100..500 s over the last 3 days: p95 (nearest rank of 5) = 500 s, so its
# threshold is 2 x 500 = 1000 s. Runs 2, 5 and 9 days old are STALLED; 10 minutes (600 s) is RUNNING.
STUCK = {"stuck-2d": 2 * DAY, "stuck-5d": 5 * DAY, "stuck-9d": 9 * DAY}
IN_WINDOW = {"done-1h": 3600, "done-5h": 5 * 3600, "done-20h": 20 * 3600}


@pytest.fixture
def stuck_engine(engine: Engine) -> Iterator[Engine]:
    rows = [
        completed("done-1h", "swing", started_s=3600, duration_s=100),
        completed("done-5h", "swing", started_s=5 * 3600, duration_s=200),
        completed("done-20h", "swing", started_s=20 * 3600, duration_s=500),
        completed("old-done-3d", "swing", started_s=3 * DAY, duration_s=300),
        completed("old-done-2d", "swing", started_s=2 * DAY + 60, duration_s=400),
        ScanSession(
            id="old-failed",
            strategy="swing",
            started_at=ago(4 * DAY),
            completed_at=ago(4 * DAY - 5),
            status="FAILED",
            error_message="x",
        ),
        ScanSession(id="running-10m", strategy="swing", started_at=ago(600), status="RUNNING"),
    ]
    rows += [
        ScanSession(id=sid, strategy="swing", started_at=ago(age), status="RUNNING")
        for sid, age in STUCK.items()
    ]
    with Session(engine) as s:
        s.add_all(rows)
        s.commit()
    yield engine


def test_default_window_lists_stuck_scans_with_the_in_window_completed_ones(
    stuck_engine: Engine,
) -> None:
    with Session(stuck_engine) as s:
        page = q.run_page(s, **WINDOW)
    # newest first: the in-window runs, then the ones that started before the window and still run
    assert list(page["id"]) == [
        "running-10m",
        "done-1h",
        "done-5h",
        "done-20h",
        "stuck-2d",
        "stuck-5d",
        "stuck-9d",
    ]
    state = dict(zip(page["id"], page["state"], strict=True))
    assert state == {
        "running-10m": "RUNNING",
        "stuck-2d": "STALLED",
        "stuck-5d": "STALLED",
        "stuck-9d": "STALLED",
        "done-1h": "COMPLETED",
        "done-5h": "COMPLETED",
        "done-20h": "COMPLETED",
    }
    elapsed = dict(zip(page["id"], page["elapsed_s"], strict=True))
    assert elapsed["stuck-9d"] == pytest.approx(9 * DAY, abs=1)
    assert page.set_index("id").loc["stuck-2d", "threshold_s"] == pytest.approx(1000, abs=0.01)


def test_counts_and_facets_agree_with_the_list(stuck_engine: Engine) -> None:
    with Session(stuck_engine) as s:
        assert q.run_count(s, **WINDOW) == 7
        facet = q.facet_counts(s, field="state", **WINDOW)
        assert dict(zip(facet["value"], facet["count"], strict=True)) == {
            "COMPLETED": 3,
            "STALLED": 3,
            "RUNNING": 1,
        }
        stalled = q.run_page(s, **WINDOW, states=("STALLED",))
        assert set(stalled["id"]) == set(STUCK)
        assert q.run_count(s, **WINDOW, states=("STALLED",)) == 3
        strat = q.facet_counts(s, field="strategy", **WINDOW, states=("STALLED",))
        assert dict(zip(strat["value"], strat["count"], strict=True)) == {"swing": 3}
        stats = q.strategy_stats(s, **WINDOW).set_index("strategy")
        assert (
            stats.loc["swing", "runs"],
            stats.loc["swing", "stalled"],
            stats.loc["swing", "running"],
            stats.loc["swing", "completed"],
        ) == (7, 3, 1, 3)
        # 'completed' only: not the running ones, and nothing from before the window
        assert set(q.run_page(s, **WINDOW, states=("COMPLETED",))["id"]) == set(IN_WINDOW)
        assert q.run_count(s, **WINDOW, failed_only=True) == 0
        assert len(q.export_runs(s, **WINDOW)) == 7


def test_pages_walk_over_the_window_into_the_stuck_scans(stuck_engine: Engine, monkeypatch) -> None:
    monkeypatch.setattr(q, "PAGE_SIZE", 2)
    seen: list[str] = []
    after = None
    with Session(stuck_engine) as s:
        while True:
            page = q.run_page(s, **WINDOW, after=after)
            seen += list(page["id"].head(2))
            if len(page) <= 2:
                break
            last = page.iloc[1]
            after = q.make_cursor(last["started_at"], last["id"])
        assert seen == [
            "running-10m",
            "done-1h",
            "done-5h",
            "done-20h",
            "stuck-2d",
            "stuck-5d",
            "stuck-9d",
        ]
        # and back: the page before the oldest stuck scan holds the two before it
        last = q.run_page(s, **WINDOW, after=after)
        before = q.make_cursor(last.iloc[0]["started_at"], last.iloc[0]["id"])
        back = q.run_page(s, **WINDOW, before=before)
        assert list(back["id"]) == [
            "done-20h",
            "stuck-2d",
            "stuck-5d",
        ]  # extra first row: an earlier page exists


def test_a_scan_started_after_a_past_window_and_still_running_is_shown(
    stuck_engine: Engine,
) -> None:
    past = {"since": NOW - timedelta(days=8), "until": NOW - timedelta(days=6), "now": NOW}
    with Session(stuck_engine) as s:
        ids = list(q.run_page(s, **past)["id"])
    # nothing finished in that window; every scan still running now is shown, newest first
    assert ids == ["running-10m", "stuck-2d", "stuck-5d", "stuck-9d"]


def test_what_the_window_holds_from_outside_it(stuck_engine: Engine) -> None:
    with Session(stuck_engine) as s:
        out = q.outside_window(s, **WINDOW).iloc[0]
    assert (out["running"], out["stalled"], out["future"]) == (0, 3, 0)
    assert out["oldest_elapsed_s"] == pytest.approx(9 * DAY, abs=1)


FUTURE = {"since": NOW, "until": NOW.replace(year=2200), "now": NOW}


def test_scans_dated_in_the_future_are_counted_and_shown_in_the_future_window(
    stuck_engine: Engine,
) -> None:
    with Session(stuck_engine) as s:
        s.add_all(
            [
                completed("future-30d", "swing", started_s=-30 * DAY, duration_s=10),
                ScanSession(
                    id="future-1h", strategy="swing", started_at=ago(-3600), status="RUNNING"
                ),
                completed(
                    "future-2099",
                    "swing",
                    started_s=-(datetime(2099, 12, 31) - ago(0)).total_seconds(),
                    duration_s=1,
                ),
            ]
        )
        s.commit()
        default = q.run_page(s, **WINDOW)
        assert not {"future-30d", "future-1h", "future-2099"} & set(default["id"])
        assert q.outside_window(s, **WINDOW).iloc[0]["future"] == 3
        assert q.run_count(s, **WINDOW) == 7
        shown = q.run_page(s, **FUTURE, unfinished=False)
        assert list(shown["id"]) == ["future-2099", "future-30d", "future-1h"]
        assert q.run_count(s, **FUTURE, unfinished=False) == 3
        facet = q.facet_counts(s, field="state", **FUTURE, unfinished=False)
        assert dict(zip(facet["value"], facet["count"], strict=True)) == {
            "COMPLETED": 2,
            "RUNNING": 1,
        }
        stats = q.strategy_stats(s, **FUTURE, unfinished=False).set_index("strategy")
        assert stats.loc["swing", "runs"] == 3
        assert (
            dict(zip(shown["id"], shown["inconsistency"], strict=True))["future-30d"]
            == "started in the future"
        )
