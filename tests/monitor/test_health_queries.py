"""Health arithmetic against hand-computed cases on three engines: percentiles, uptime, runs, incidents."""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.queries import health as q
from perf import probes
from tests.monitor.conftest import NOW, add_checks, ago

DAY = NOW - timedelta(hours=24)


def _checks(
    service: str, statuses: list[str], *, start_h: float, step_min: float = 60, **extra: object
) -> list[dict]:
    return [
        {
            "service_name": service,
            "status": s,
            "check_timestamp": ago(hours=start_h) + timedelta(minutes=i * step_min),
            **extra,
        }
        for i, s in enumerate(statuses)
    ]


def test_percentiles_interpolate_like_percentile_cont(engine: Engine) -> None:
    # Values 10, 20, 30, 40 (+ text that is not a number, and NULL): hand-computed with 1 + p*(n-1):
    # p50 -> rank 2.5 -> 25; p95 -> rank 3.85 -> 30 + 0.85*10 = 38.5; p99 -> rank 3.97 -> 39.7.
    values = ["10", " 20", "30", "40", "n/a", "timeout", None]
    add_checks(
        engine,
        [
            {
                "service_name": "api",
                "status": "HEALTHY",
                "check_timestamp": ago(minutes=50 - i),
                "response_time_ms": v,
                "error_count_24h": v,
            }
            for i, v in enumerate(values)
        ],
    )
    add_checks(
        engine,
        [
            {
                "service_name": "one",
                "status": "HEALTHY",
                "check_timestamp": ago(minutes=5),
                "response_time_ms": "7",
            }
        ],
    )
    with Session(engine) as s:
        df = q.latency(s, since=DAY, until=NOW, bucket_s=86400).set_index("service")
    api = df.loc["api"]
    assert (
        api["p50"] == pytest.approx(25)
        and api["p95"] == pytest.approx(38.5)
        and api["p99"] == pytest.approx(39.7)
    )
    assert api["avg_ms"] == pytest.approx(25)
    assert (api["parsed"], api["unparseable"], api["missing"]) == (4, 2, 1)
    assert api["errors_max"] == 40 and api["errors_unparseable"] == 2
    one = df.loc["one"]  # a single value is every percentile
    assert (one["p50"], one["p99"], one["missing"]) == (7, 7, 0)


def test_percentiles_per_bucket_and_odd_counts(engine: Engine) -> None:
    # Bucket 10:00 holds 1, 2, 3, 4, 100 -> p50 = 3, p95 rank 4.8 -> 4 + 0.8*96 = 80.8.
    base = NOW.replace(hour=10, minute=0)
    add_checks(
        engine,
        [
            {
                "service_name": "api",
                "status": "HEALTHY",
                "check_timestamp": base + timedelta(minutes=i),
                "response_time_ms": v,
            }
            for i, v in enumerate(["4", "100", "1", "3", "2"])
        ],
    )
    add_checks(
        engine,
        [
            {
                "service_name": "api",
                "status": "HEALTHY",
                "check_timestamp": base + timedelta(hours=1),
                "response_time_ms": "9",
            }
        ],
    )
    with Session(engine) as s:
        df = q.latency(s, since=DAY, until=NOW, bucket_s=3600)
    first, second = df.iloc[0], df.iloc[1]
    assert first["p50"] == pytest.approx(3) and first["p95"] == pytest.approx(80.8)
    assert second["bucket"].hour == 11 and second["p99"] == pytest.approx(9)


def test_percentiles_count_repeated_values_and_spellings(engine: Engine) -> None:
    # 5 written three ways (counted as three 5s), 10 once: ranks 1..4 = 5, 5, 5, 10.
    # p50 -> rank 2.5 -> 5; p95 -> rank 3.85 -> 5 + 0.85*5 = 9.25; p99 -> 5 + 0.97*5 = 9.85.
    values = ["5", " 5", "$5", "10", "5 ms", None]
    add_checks(
        engine,
        [
            {
                "service_name": "api",
                "status": "HEALTHY",
                "check_timestamp": ago(minutes=30 - i),
                "response_time_ms": v,
                "error_count_24h": e,
            }
            for i, (v, e) in enumerate(zip(values, ["1", "1", "3", None, "x", "2"], strict=True))
        ],
    )
    with Session(engine) as s:
        api = q.latency(s, since=DAY, until=NOW, bucket_s=3600, service="api").iloc[0]
    assert (api["p50"], api["p95"], api["p99"]) == (
        pytest.approx(5),
        pytest.approx(9.25),
        pytest.approx(9.85),
    )
    assert api["avg_ms"] == pytest.approx(25 / 4)
    assert (api["parsed"], api["unparseable"], api["missing"]) == (4, 1, 1)
    assert (
        api["errors_avg"] == pytest.approx(7 / 4)
        and api["errors_max"] == 3
        and api["errors_unparseable"] == 1
    )


def test_uptime_by_window_with_and_without_degraded_as_down(engine: Engine) -> None:
    # api: last 24 h: 3 HEALTHY, 1 DEGRADED, 1 down (lowercase), 1 OFFLINE (other); 5 days ago: 2 DOWN.
    add_checks(
        engine,
        _checks(
            "api", ["HEALTHY", "HEALTHY", "degraded", "down", "HEALTHY", "OFFLINE"], start_h=10
        ),
    )
    add_checks(engine, _checks("api", ["DOWN", "DOWN"], start_h=24 * 5))
    add_checks(engine, _checks("db", ["HEALTHY", "HEALTHY"], start_h=5))
    with Session(engine) as s:
        lenient = q.uptime(s, until=NOW)
        strict = q.uptime(s, until=NOW, degraded_down=True)

    def get(df, service, window):  # type: ignore[no-untyped-def]
        row = df[
            (df.window == window)
            & (df.service.isna() if service is None else df.service == service)
        ].iloc[0]
        return row

    a = get(lenient, "api", "24h")
    assert (a["up"], a["down"], a["other"], a["checks"]) == (4, 1, 1, 6) and a[
        "uptime"
    ] == pytest.approx(4 / 5)
    assert get(strict, "api", "24h")["uptime"] == pytest.approx(3 / 5)
    assert get(lenient, "api", "7d")["uptime"] == pytest.approx(4 / 7)
    assert get(lenient, "db", "90d")["uptime"] == 1.0
    overall = get(lenient, None, "24h")
    assert (overall["up"], overall["down"]) == (6, 1) and overall["uptime"] == pytest.approx(6 / 7)


def test_uptime_reads_only_the_windows_asked_for(engine: Engine) -> None:
    # api: 2 HEALTHY in the last day, 1 DOWN 3 days ago, 1 DOWN 20 days ago (only in 30d/90d).
    add_checks(engine, _checks("api", ["HEALTHY", "HEALTHY"], start_h=5))
    add_checks(engine, _checks("api", ["DOWN"], start_h=24 * 3))
    add_checks(engine, _checks("api", ["DOWN"], start_h=24 * 20))
    with Session(engine) as s:
        short = q.uptime(s, until=NOW, windows=q.SHORT_WINDOWS)
        full = q.uptime(s, until=NOW)
    assert sorted(set(short["window"])) == ["24h", "7d"]
    api = short[short.service == "api"].set_index("window")
    assert api.loc["24h", "uptime"] == 1.0 and api.loc["7d", "uptime"] == pytest.approx(2 / 3)
    assert api.loc["7d", "checks"] == 3  # the check 20 days ago is not read
    full_api = full[full.service == "api"].set_index("window")
    assert (
        full_api.loc["30d", "uptime"] == pytest.approx(2 / 4) and full_api.loc["90d", "checks"] == 4
    )
    # The same windows give the same figures whichever set was asked for.
    assert full_api.loc["7d", "uptime"] == api.loc["7d", "uptime"]
    with pytest.raises(ValueError):
        q.uptime(s, until=NOW, windows=())


def test_uptime_is_nan_not_zero_without_up_or_down_checks(engine: Engine) -> None:
    add_checks(engine, _checks("odd", ["UNKNOWN", "starting"], start_h=3))
    with Session(engine) as s:
        df = q.uptime(s, until=NOW)
    row = df[(df.service == "odd") & (df.window == "24h")].iloc[0]
    assert row["other"] == 2 and math.isnan(row["uptime"])


def test_status_history_buckets_and_worst_state(engine: Engine) -> None:
    base = NOW.replace(hour=8, minute=0)
    add_checks(
        engine,
        [
            {"service_name": "api", "status": s, "check_timestamp": base + timedelta(minutes=m)}
            for s, m in [
                ("HEALTHY", 0),
                ("DEGRADED", 20),
                ("HEALTHY", 40),
                ("HEALTHY", 60),
                ("error", 70),
            ]
        ],
    )
    with Session(engine) as s:
        df = q.status_history(s, since=DAY, until=NOW, bucket_s=3600)
    first, second = df.iloc[0], df.iloc[1]
    assert (first["up"], first["degraded"], first["uptime"], first["worst"]) == (
        2,
        1,
        1.0,
        "DEGRADED",
    )
    assert (second["other"], second["uptime"], second["worst"]) == (1, 1.0, "OTHER")


def test_state_runs_merge_equal_states_carry_in_the_prior_state_and_run_to_now(
    engine: Engine,
) -> None:
    since = NOW - timedelta(hours=6)
    add_checks(
        engine,
        [
            {"service_name": "api", "status": s, "check_timestamp": t}
            for s, t in [
                ("DOWN", ago(hours=8)),  # before the window: carried in
                ("down", ago(hours=5)),
                ("HEALTHY", ago(hours=4)),
                ("HEALTHY", ago(hours=3)),
                ("DEGRADED", ago(hours=2)),
                ("DOWN", ago(hours=1)),
            ]
        ],
    )
    with Session(engine) as s:
        runs = q.state_runs(s, since=since, until=NOW)
        inc = q.incidents(s, since=since, until=NOW)
    got = [(r.state, r.start.tz_localize(None), r.end.tz_localize(None)) for r in runs.itertuples()]
    assert got == [
        ("DOWN", since, ago(hours=4)),
        ("HEALTHY", ago(hours=4), ago(hours=2)),
        ("DEGRADED", ago(hours=2), ago(hours=1)),
        ("DOWN", ago(hours=1), NOW),
    ]
    assert bool(runs.iloc[0]["carried_in"]) and runs.iloc[-1]["duration_s"] == 3600
    # Incidents: DEGRADED then DOWN merge into one ongoing incident; the carried-in DOWN is another.
    assert [(i.worst, i.states, bool(i.ongoing), i.duration_s) for i in inc.itertuples()] == [
        ("DOWN", "DEGRADED, DOWN", True, 7200.0),
        ("DOWN", "DOWN", False, 7200.0),
    ]


def test_service_status_stale_after_twice_the_usual_interval(engine: Engine) -> None:
    # api checks every 10 min, last one 25 min ago -> STALE; db every 10 min, last one 15 min ago -> fresh.
    add_checks(
        engine,
        [
            {
                "service_name": "api",
                "status": "healthy",
                "check_timestamp": ago(minutes=25 + 10 * i),
            }
            for i in range(5)
        ],
    )
    add_checks(
        engine,
        [
            {
                "service_name": "db",
                "status": "Offline",
                "check_timestamp": ago(minutes=15 + 10 * i),
                "details": {"k": i},
            }
            for i in range(5)
        ],
    )
    add_checks(
        engine,
        [
            {"service_name": "once", "status": "DOWN", "check_timestamp": ago(days=3)},
            {"service_name": "Once", "status": "HEALTHY", "check_timestamp": ago(days=2)},
        ],
    )
    with Session(engine) as s:
        df = q.service_status(s, until=NOW).set_index("service")
        latest = q.latest_check(s, service="db", until=NOW)
        names = q.services(s)
    assert df.loc["api", "interval_s"] == 600 and bool(df.loc["api", "stale"])
    assert not bool(df.loc["db", "stale"]) and df.loc["db", "category"] == q.OTHER
    assert df.loc["api", "category"] == "HEALTHY" and df.loc["api", "age_s"] == 1500
    assert not bool(df.loc["once", "stale"])  # one check: no usual interval, not called stale
    assert latest.iloc[0]["details"] == {"k": 0}
    assert names == ("Once", "api", "db", "once")  # exact spelling on every engine
    assert df.loc["Once", "category"] == "HEALTHY" and df.loc["once", "category"] == "DOWN"


def test_category_of_statuses() -> None:
    assert [q.category(s) for s in ["healthy", " DOWN ", "Degraded", "OFFLINE", "error", None]] == [
        "HEALTHY",
        "DOWN",
        "DEGRADED",
        q.OTHER,
        q.OTHER,
        q.OTHER,
    ]


def test_band_from_history_merges_equal_worst_cells() -> None:
    import pandas as pd

    hist = pd.DataFrame(
        {
            "service": ["api"] * 4,
            "worst": ["HEALTHY", "HEALTHY", "DOWN", "HEALTHY"],
            "bucket": pd.to_datetime(
                ["2026-03-02 08:00", "2026-03-02 09:00", "2026-03-02 10:00", "2026-03-02 11:00"],
                utc=True,
            ),
        }
    )
    band = q.band_from_history(hist, bucket_s=3600, until=NOW - timedelta(minutes=30))
    assert [(r.state, r.start.hour, r.end.hour, r.end.minute) for r in band.itertuples()] == [
        ("HEALTHY", 8, 10, 0),
        ("DOWN", 10, 11, 0),
        ("HEALTHY", 11, 11, 30),
    ]


def test_big_windows_are_counted_by_index_probes_with_the_same_result(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checks on whole hours (a bucket's first second), just before them, mixed spellings, names
    # differing only in case, and one check 20 days back (only in the 30/90-day uptime).
    rows = []
    for h in range(30):
        for name, status in (
            ("api", "HEALTHY" if h % 5 else "down"),
            ("API", " degraded"),
            ("db", "UNKNOWN"),
        ):
            rows.append({"service_name": name, "status": status, "check_timestamp": ago(hours=h)})
            rows.append(
                {
                    "service_name": name,
                    "status": "HEALTHY",
                    "check_timestamp": ago(hours=h) - timedelta(milliseconds=130),
                }
            )
    rows.append({"service_name": "db", "status": "DOWN", "check_timestamp": ago(days=20)})
    add_checks(engine, rows)
    results = {}
    for probe_above, max_probes in (
        (10**9, 0),
        (0, probes.MAX_PROBES),
    ):  # one grouped statement, then probes
        monkeypatch.setattr(probes, "PROBE_ABOVE", probe_above)
        monkeypatch.setattr(probes, "MAX_PROBES", max_probes)
        monkeypatch.setattr(probes, "PROBE_DIALECTS", ("sqlite", "postgresql", "mysql"))
        with Session(engine) as s:
            results[probe_above] = (
                q.status_history(s, since=DAY, until=NOW, bucket_s=3600),
                q.status_history(
                    s,
                    since=NOW - timedelta(hours=5, minutes=7),
                    until=NOW,
                    bucket_s=300,
                    service="api",
                    degraded_down=True,
                ),
                q.uptime(s, until=NOW),
                q.uptime(s, until=NOW, degraded_down=True, windows=q.SHORT_WINDOWS),
            )
    for grouped, probed in zip(results[10**9], results[0], strict=True):
        pd.testing.assert_frame_equal(grouped, probed)
    history = results[0][0].set_index(["service", "bucket"])
    assert sorted(set(history.index.get_level_values(0))) == ["API", "api", "db"]
    at_noon_less_1h = history.loc[("api", pd.Timestamp(ago(hours=1), tz="UTC"))]
    # The check at 11:00:00 sharp and the one 130 ms before 12:00 fall into the 11:00 cell.
    assert (at_noon_less_1h["checks"], at_noon_less_1h["up"]) == (2, 2)
    uptime = results[0][2].set_index(["service", "window"])
    assert uptime.loc[("db", "90d"), "down"] == 1 and uptime.loc[("db", "24h"), "other"] == 24
