"""Scan-run queries against the hand-made scans, on sqlite, postgresql and mariadb."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from db.queries import opportunities as oq
from db.queries import scans as q
from tests.scanner.conftest import NOW

WINDOW = {"since": NOW - timedelta(days=1), "until": NOW, "now": NOW}


def states(s: Session, **kw: object) -> dict[str, str]:
    df = q.run_page(s, **WINDOW, **kw)  # type: ignore[arg-type]
    return dict(zip(df["id"], df["state"], strict=True))


def test_stalled_uses_floor_or_twice_the_strategy_p95(scan_engine) -> None:
    with Session(scan_engine) as s:
        st = states(s)
    assert st["run-fast-stalled"] == "STALLED"  # 700 s > floor 600 s (2 x p95 19 s = 38 s)
    assert st["run-fast-ok"] == "RUNNING"  # 300 s < 600 s
    assert st["run-slow-ok"] == "RUNNING"  # 3000 s < 2 x p95 1900 s
    assert st["run-slow-stalled"] == "STALLED"  # 4000 s > 3800 s
    assert st["failed-1"] == "FAILED" and st["fast-3"] == "COMPLETED"


def test_thresholds_and_inconsistent_times(scan_engine) -> None:
    with Session(scan_engine) as s:
        df = q.run_page(s, **WINDOW).set_index("id")
    assert df.loc["run-slow-ok", "threshold_s"] == pytest.approx(3800)
    assert df.loc["run-fast-ok", "threshold_s"] == pytest.approx(q.STALL_FLOOR_S)
    assert df.loc["run-fast-ok", "elapsed_s"] == pytest.approx(300, abs=0.01)
    assert df.loc["fast-7", "duration_s"] == pytest.approx(7, abs=0.01)
    assert df.loc["backwards", "inconsistency"] == "completed before started"
    assert df["inconsistency"].notna().sum() == 1


def test_strategy_stats(scan_engine) -> None:
    with Session(scan_engine) as s:
        st = q.strategy_stats(s, **WINDOW).set_index("strategy")
    fast = st.loc["fast"]
    assert (fast["runs"], fast["completed"], fast["failed"], fast["running"], fast["stalled"]) == (
        23,
        20,
        1,
        1,
        1,
    )
    assert fast["success_rate"] == pytest.approx(20 / 21)
    assert fast["p50_s"] == pytest.approx(10, abs=0.01) and fast["p95_s"] == pytest.approx(
        19, abs=0.01
    )
    assert fast["opportunities_per_scan"] == pytest.approx(2)
    assert st.loc["slow", "p95_s"] == pytest.approx(1900, abs=0.01)
    # 'FAST' is another strategy (case-sensitive on every engine); its broken row has no duration
    assert (
        st.loc["FAST", "runs"] == 1
        and st.loc["FAST", "inconsistent"] == 1
        and pd_isna(st.loc["FAST", "p95_s"])
    )


def pd_isna(v: object) -> bool:
    import pandas as pd

    return bool(pd.isna(v))


def test_facets_and_shortcuts(scan_engine) -> None:
    with Session(scan_engine) as s:
        f = q.facet_counts(s, field="state", **WINDOW)
        assert dict(zip(f["value"], f["count"], strict=True)) == {
            "COMPLETED": 41,
            "RUNNING": 2,
            "STALLED": 2,
            "FAILED": 1,
        }
        g = q.facet_counts(s, field="strategy", **WINDOW, states=("STALLED",))
        assert dict(zip(g["value"], g["count"], strict=True)) == {"fast": 1, "slow": 1}
        assert set(states(s, failed_only=True)) == {"failed-1"}
        assert set(states(s, running_now=True)) == {
            "run-fast-stalled",
            "run-fast-ok",
            "run-slow-ok",
            "run-slow-stalled",
        }
        assert set(states(s, states=("STALLED",), strategies=("slow",))) == {"run-slow-stalled"}
        assert q.run_count(s, **WINDOW) == 46
        assert q.run_count(s, **WINDOW, strategies=("FAST",)) == 1


def test_run_pages_cover_every_row_once(scan_engine, monkeypatch) -> None:
    monkeypatch.setattr(q, "PAGE_SIZE", 7)
    seen: list[str] = []
    after = None
    with Session(scan_engine) as s:
        for _ in range(20):
            df = q.run_page(s, **WINDOW, after=after)
            rows = df.head(7)
            seen += list(rows["id"])
            if len(df) <= 7:
                break
            after = q.make_cursor(rows["started_at"].iloc[-1], rows["id"].iloc[-1])
    assert len(seen) == len(set(seen)) == 46


def test_scan_detail_opportunities_and_errors(scan_engine) -> None:
    with Session(scan_engine) as s:
        d = q.scan_detail(s, scan_id="failed-1", now=NOW)
        assert d.loc[0, "error_message"] == "**boom** <b>x</b> [link](http://evil)"
        opps = q.scan_opportunities(s, scan_id="fast-1")
        assert list(opps["id"]) == [102, 101]
        assert q.scan_opportunity_count(s, scan_id="fast-1") == 2
        errs = q.scan_errors(s, scan_id="failed-1", now=NOW)
        assert set(errs["id"]) == {"e-in", "e-strategy"}
        assert q.scan_detail(s, scan_id="nope", now=NOW).empty


def test_timeline_grid_counts_every_run(scan_engine) -> None:
    with Session(scan_engine) as s:
        tl = q.strategy_timeline(s, **WINDOW, bucket_s=3600)
    assert int(tl["runs"].sum()) == 46
    assert set(tl["strategy"]) == {"fast", "slow", "FAST"}
    outcomes = {q.grid_outcome(r) for r in tl.to_dict("records")}
    assert {"FAILED", "STALLED", "COMPLETED"} <= outcomes


def test_persistence_across_recent_scans(scan_engine) -> None:
    with Session(scan_engine) as s:
        hist = oq.persistence(
            s, symbol="SPY", strategy="theta_harvesting", scan_session_id="fast-1"
        )
    assert list(hist["source"].unique()) == ["scans"] and len(hist) == oq.PERSISTENCE_SCANS
    present = dict(zip(hist["scan_id"], hist["present"], strict=True))
    assert present["fast-1"] and sum(present.values()) == 1
    assert oq.streak(hist) == 0  # the newest scans of 'fast' did not find it again
    assert hist.set_index("scan_id").loc["fast-1", "ev"] == 10


def test_param_diff() -> None:
    a = {"interval_minutes": 4, "enabled": True, "symbols": ["SPY"], "risk": {"a": 1, "b": 2}}
    b = {
        "interval_minutes": 1.5,
        "enabled": True,
        "symbols": ["SPY"],
        "risk": {"a": 1, "b": 3},
        "new": 1,
    }
    diff = q.param_diff(a, b)
    assert dict(zip(diff["key"], diff["change"], strict=True)) == {
        "interval_minutes": "changed",
        "risk.b": "changed",
        "new": "added",
    }
    assert len(q.param_diff(a, b, changed_only=False)) == 6
    assert q.param_diff(None, None).empty


def test_bucket_seconds_bounds_the_grid() -> None:
    assert q.bucket_seconds(NOW - timedelta(hours=1), NOW) == 60
    assert q.bucket_seconds(NOW - timedelta(days=1), NOW) == 1800
    assert (
        timedelta(days=30).total_seconds() / q.bucket_seconds(NOW - timedelta(days=30), NOW)
    ) <= q.GRID_MAX_BUCKETS


def test_empty_database(engine) -> None:
    with Session(engine) as s:
        assert q.run_page(s, **WINDOW).empty and q.strategy_stats(s, **WINDOW).empty
        assert list(q.run_page(s, **WINDOW).columns) == list(q.RUN_COLUMNS)


def test_freshness_newest_snapshot_and_completed_scan(scan_engine) -> None:
    from tests.scanner.conftest import ago

    with Session(scan_engine) as s:
        fr = oq.freshness(s).iloc[0]
    assert fr["newest_snapshot"].tz_localize(None) == ago(20_000)
    assert fr["newest_scan"].tz_localize(None) == ago(800)  # running and failed scans do not count


def test_export_keeps_json_columns(scan_engine) -> None:
    import json

    from ui.kit.widgets import to_json_bytes

    with Session(scan_engine) as s:
        rows = q.export_runs(s, **WINDOW, failed_only=True)
        full = q.export_runs(s, **WINDOW).set_index("id")
    assert list(rows["id"]) == ["failed-1"]
    assert full.loc["fast-1", "scan_parameters"] == {"interval_minutes": 4, "symbols": ["SPY"]}
    exported = json.loads(to_json_bytes(full.reset_index()))
    assert {"interval_minutes": 4, "symbols": ["SPY"]} in [r["scan_parameters"] for r in exported]


# ---- stall thresholds, keyset pages both ways, capped counts and aggregates ---------------------


def test_stall_thresholds_only_above_the_floor(scan_engine) -> None:
    with Session(scan_engine) as s:
        th = q.stall_thresholds(s, now=NOW)
        assert th == (("slow", pytest.approx(3800)),)  # 'fast': 2 x 19 s is under the 600 s floor
        assert states(s, thresholds=th) == states(s)  # passing them in = reading them in the query


def test_stall_threshold_uses_the_newest_completed_runs(scan_engine, monkeypatch) -> None:
    monkeypatch.setattr(q, "STALL_SAMPLE", 5)  # 'slow': the newest 5 ran 100..500 s: p95 500 s
    with Session(scan_engine) as s:
        assert q.stall_thresholds(s, now=NOW) == (("slow", pytest.approx(1000)),)
        assert (
            states(s)["run-slow-ok"] == "STALLED"
        )  # 3000 s: over 1000 s (under the 3800 s of all 20)


def test_state_filters_mixing_rare_and_common_states(scan_engine) -> None:
    with Session(scan_engine) as s:
        both = states(s, states=("STALLED", "FAILED"))
        assert set(both) == {"run-fast-stalled", "run-slow-stalled", "failed-1"}
        assert set(states(s, states=("RUNNING", "STALLED"))) == set(states(s, running_now=True))
        assert set(states(s, states=("RUNNING",))) == {"run-fast-ok", "run-slow-ok"}


def test_previous_page_returns_the_earlier_page(scan_engine, monkeypatch) -> None:
    monkeypatch.setattr(q, "PAGE_SIZE", 7)
    with Session(scan_engine) as s:
        first = q.run_page(s, **WINDOW)
        after = q.make_cursor(first["started_at"].iloc[6], first["id"].iloc[6])
        second = q.run_page(s, **WINDOW, after=after)
        before = q.make_cursor(second["started_at"].iloc[0], second["id"].iloc[0])
        back = q.run_page(s, **WINDOW, before=before)
    assert list(back["id"]) == list(
        first["id"].head(7)
    )  # newest first, no extra row: it is the first page
    third = None
    with Session(scan_engine) as s:
        third = q.run_page(
            s, **WINDOW, after=q.make_cursor(second["started_at"].iloc[6], second["id"].iloc[6])
        )
        back2 = q.run_page(
            s, **WINDOW, before=q.make_cursor(third["started_at"].iloc[0], third["id"].iloc[0])
        )
    assert len(back2) == 8 and list(back2["id"].tail(7)) == list(
        second["id"].head(7)
    )  # extra row first


def test_capped_facet_counts_and_aggregates(scan_engine) -> None:
    with Session(scan_engine) as s:
        f = q.facet_counts(s, field="state", **WINDOW, cap=10)
        g = q.facet_counts(s, field="state", **WINDOW)
        stats = q.strategy_stats(s, **WINDOW, cap=10)
        tl = q.strategy_timeline(s, **WINDOW, bucket_s=3600, cap=10)
        full = q.strategy_stats(s, **WINDOW)
    assert f.attrs["capped"]
    low = f.set_index("value")
    assert (
        low.loc["COMPLETED", "at_least"] and not low.loc["STALLED", "at_least"]
    )  # newest 11 runs: lower bounds
    assert (low.loc["STALLED", "count"], low.loc["RUNNING", "count"]) == (
        2,
        2,
    )  # rare states counted exactly
    assert not g.attrs["capped"] and int(g["count"].sum()) == 46
    assert stats.attrs["capped"] and int(stats["runs"].sum()) == 10 and int(tl["runs"].sum()) == 10
    assert not full.attrs["capped"] and int(full["runs"].sum()) == 46


def test_scan_overview_is_the_detail_its_snapshots_and_its_strategys_runs(scan_engine) -> None:
    with Session(scan_engine) as s:
        ov = q.scan_overview(s, scan_id="fast-1", now=NOW)
        gone = q.scan_overview(s, scan_id="nope", now=NOW)
    assert list(ov.detail["id"]) == ["fast-1"] and list(ov.opportunities["id"]) == [102, 101]
    assert ov.opportunity_count == 2
    assert set(ov.recent["strategy"]) == {"fast"} and "fast-1" in set(
        ov.recent["id"]
    )  # not 'FAST' or 'slow'
    assert list(ov.recent["started_at"]) == sorted(ov.recent["started_at"], reverse=True)
    assert (
        gone.detail.empty
        and gone.opportunities.empty
        and gone.recent.empty
        and gone.opportunity_count == 0
    )
    assert list(gone.opportunities.columns) == list(ov.opportunities.columns)
