"""Error groups on three engines: merging by fingerprint, counts, prior period, badges, facets."""

from __future__ import annotations

from datetime import timedelta

import pandas.testing as pdt
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.queries import errors as q
from tests.monitor.conftest import NOW, add_errors, ago

SINCE, UNTIL = NOW - timedelta(hours=24), NOW


def view(engine: Engine, **kw):  # type: ignore[no-untyped-def]
    """What the Errors page reads: one view of the window (groups of every status, facets, sparks)."""
    with Session(engine) as s:
        return q.error_view(s, since=SINCE, until=UNTIL, bucket_s=3600, **kw)


def groups(engine: Engine, status: str = "all", **kw):  # type: ignore[no-untyped-def]
    """The groups of one status tab, as the page keeps them (`by_status`)."""
    return q.by_status(view(engine, **kw).groups, status)


def test_messages_differing_in_values_merge_into_one_group(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {
                "error_type": "universe_loading_failed",
                "service": None,
                "created_at": ago(hours=1),
                "message": "Failed to load universe 'sp500': 404",
            },
            {
                "error_type": "universe_loading_failed",
                "service": None,
                "created_at": ago(hours=2),
                "message": "Failed to load universe 'nasdaq': 500",
            },
            {
                "error_type": "universe_loading_failed",
                "service": None,
                "created_at": ago(hours=3),
                "message": "Failed to load universe 'nasdaq': 500",
            },
            {
                "error_type": "market_data_unavailable",
                "service": "opportunity_cache",
                "created_at": ago(hours=1),
                "message": "Real-time price data unavailable for SPY",
            },
        ],
    )
    g = groups(engine)
    assert sorted(g["count"].tolist()) == [1, 3]
    uni = g[g.error_type == "universe_loading_failed"].iloc[0]
    assert uni["distinct_messages"] == 2 and uni["service"] is None
    # The group's representative message is its most frequent one.
    assert uni["message"] == "Failed to load universe 'nasdaq': 500"


def test_service_and_type_grouping_is_case_sensitive_on_every_engine(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {"service": "Cache", "created_at": ago(hours=1)},
            {"service": "cache", "created_at": ago(hours=1)},
            {"service": "cache", "error_type": "T", "created_at": ago(hours=1)},
        ],
    )
    g = groups(engine)
    assert len(g) == 3
    assert sorted(g["service"].tolist()) == ["Cache", "cache", "cache"]


def test_counts_window_prior_period_and_severity_mix(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {"created_at": ago(hours=1), "severity": "HIGH"},
            {"created_at": ago(hours=2), "severity": "low"},
            {"created_at": ago(hours=3), "severity": "CRITICAL"},
            {"created_at": ago(hours=30)},  # prior period (24 to 48 h ago)
            {
                "created_at": ago(hours=1),
                "resolved_at": ago(minutes=30),
                "resolution_notes": "fixed",
            },
            {"created_at": NOW + timedelta(minutes=1)},  # after the window: not counted
        ],
    )
    g = groups(engine).iloc[0]
    assert (g["count"], g["prior_count"], g["change"], g["unresolved"]) == (4, 1, 3, 3)
    assert (g["high"], g["medium"], g["low"], g["other_severity"]) == (2, 0, 1, 1)
    assert g["last_seen"].tz_localize(None) == ago(hours=1)


def test_status_tabs_split_groups_by_unresolved_events(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {"message": "open", "created_at": ago(hours=1)},
            {
                "message": "closed",
                "created_at": ago(hours=1),
                "resolved_at": ago(minutes=5),
                "resolution_notes": "x",
            },
        ],
    )
    assert groups(engine, status="unresolved")["message"].tolist() == ["open"]
    assert groups(engine, status="resolved")["message"].tolist() == ["closed"]
    assert len(groups(engine, status="all")) == 2


def test_badges_new_regressed_escalating(engine: Engine) -> None:
    rows = [
        {"message": "fresh", "created_at": ago(hours=2)},  # first seen 2 h ago: New
        {"message": "old", "created_at": ago(days=20)},
        {"message": "old", "created_at": ago(hours=1)},
        # resolved 10 h ago, then seen again: Regressed
        {
            "message": "back",
            "created_at": ago(days=10),
            "resolved_at": ago(hours=10),
            "resolution_notes": "n",
        },
        {"message": "back", "created_at": ago(hours=5)},
    ]
    # Escalating: 1 per day over the 7-day baseline, then 12 in the last day (> 3 x 1 and >= 10).
    rows += [{"message": "storm", "created_at": ago(days=d + 1.5)} for d in range(7)]
    rows += [{"message": "storm", "created_at": ago(hours=h + 0.5)} for h in range(12)]
    # Steady: 12 a day in baseline and window: not escalating.
    rows += [
        {"message": "steady", "created_at": ago(days=d + 1, hours=h + 0.5)}
        for d in range(7)
        for h in range(12)
    ]
    rows += [{"message": "steady", "created_at": ago(hours=h + 0.5)} for h in range(12)]
    add_errors(engine, rows)
    g = groups(engine).set_index("message")
    assert bool(g.loc["fresh", "new"]) and not bool(g.loc["old", "new"])
    assert bool(g.loc["back", "regressed"]) and not bool(g.loc["old", "regressed"])
    assert bool(g.loc["storm", "escalating"]) and not bool(g.loc["steady", "escalating"])
    assert g.loc["storm", "baseline_expected"] == 1.0
    assert not bool(g.loc["fresh", "escalating"])  # no history: New, not Escalating


def test_filters_and_free_text(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {
                "service": "a",
                "severity": "HIGH",
                "error_type": "x",
                "message": "Disk 100% full",
                "created_at": ago(hours=1),
            },
            {
                "service": "b",
                "severity": "LOW",
                "error_type": "y",
                "message": "timeout",
                "created_at": ago(hours=1),
            },
            {
                "service": None,
                "severity": "LOW",
                "error_type": "y",
                "message": "other",
                "created_at": ago(hours=1),
            },
        ],
    )
    assert groups(engine, services=("a",))["service"].tolist() == ["a"]
    assert groups(engine, services=(q.NO_SERVICE,))["message"].tolist() == ["other"]
    assert sorted(groups(engine, severities=("low",))["message"]) == ["other", "timeout"]
    assert groups(engine, types=("x",))["message"].tolist() == ["Disk 100% full"]
    assert groups(engine, text="100%")["message"].tolist() == ["Disk 100% full"]
    assert groups(engine, text="DISK")["message"].tolist() == ["Disk 100% full"]
    assert groups(engine, text="_").empty  # LIKE wildcards are literal


def test_facet_counts_ignore_their_own_filter(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {"service": "a", "severity": "HIGH", "created_at": ago(hours=1)},
            {"service": "a", "severity": "LOW", "created_at": ago(hours=1)},
            {"service": None, "severity": "LOW", "created_at": ago(hours=1)},
        ],
    )
    f = view(engine, severities=("LOW",)).facets
    sev = dict(zip(f[f.facet == "severity"].value, f[f.facet == "severity"]["count"], strict=True))
    svc = dict(zip(f[f.facet == "service"].value, f[f.facet == "service"]["count"], strict=True))
    assert sev == {"HIGH": 1, "LOW": 2}
    assert svc == {"a": 1, q.NO_SERVICE: 1}


def test_timeline_and_sparkline_buckets(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {"created_at": NOW.replace(hour=10, minute=5), "severity": "HIGH"},
            {"created_at": NOW.replace(hour=10, minute=55), "severity": "high"},
            {"created_at": NOW.replace(hour=11, minute=0), "severity": "LOW"},
        ],
    )
    with Session(engine) as s:
        health_tl = q.error_timeline(s, since=SINCE, until=UNTIL, bucket_s=3600)  # Health's
    v = view(engine)
    sp = v.sparks
    for tl in (health_tl, v.timeline):
        got = {
            (b.hour, sev): n for b, sev, n in zip(tl.bucket, tl.severity, tl["count"], strict=True)
        }
        assert got == {(10, "HIGH"): 2, (11, "LOW"): 1}
    assert sorted(zip(sp.bucket.dt.hour, sp["count"], strict=True)) == [(10, 2), (11, 1)]


def test_occurrences_page_by_keyset_newest_first(engine: Engine) -> None:
    ids = add_errors(
        engine, [{"message": f"x {i}", "created_at": ago(minutes=i + 1)} for i in range(5)]
    )
    add_errors(engine, [{"message": "x 1", "service": "other", "created_at": ago(minutes=1)}])
    with Session(engine) as s:
        first = q.occurrences(
            s,
            error_type="t",
            service="svc",
            messages=[f"x {i}" for i in range(5)],
            since=SINCE,
            until=UNTIL,
            limit=2,
        )
        last = first.iloc[-1]
        second = q.occurrences(
            s,
            error_type="t",
            service="svc",
            messages=[f"x {i}" for i in range(5)],
            since=SINCE,
            until=UNTIL,
            limit=2,
            before=(last.created_at.to_pydatetime(), last.id),
        )
    assert first["id"].tolist() == ids[:2] and second["id"].tolist() == ids[2:4]
    assert first.attrs["total"] == 5


def test_an_incident_lists_the_groups_the_errors_page_shows_for_its_service(engine: Engine) -> None:
    add_errors(
        engine,
        [
            {
                "service": "a",
                "message": "Disk 1 full",
                "created_at": ago(hours=1),
                "severity": "HIGH",
            },
            {
                "service": "a",
                "message": "Disk 2 full",
                "created_at": ago(hours=2),
                "severity": "LOW",
            },
            {"service": "a", "message": "Disk 2 full", "created_at": ago(hours=30)},  # prior period
            {"service": "b", "message": "Disk 1 full", "created_at": ago(hours=1)},
            {
                "service": None,
                "message": "lost",
                "created_at": ago(hours=3),
                "resolved_at": ago(hours=2),
                "resolution_notes": "x",
            },
        ],
    )
    with Session(engine) as s:
        a = q.groups_during(s, service="a", start=SINCE, end=UNTIL)
        none = q.groups_during(s, service=None, start=SINCE, end=UNTIL)
    pdt.assert_frame_equal(a, groups(engine, services=("a",)))
    pdt.assert_frame_equal(none, groups(engine, services=(q.NO_SERVICE,)))
    assert (a["count"].tolist(), a["prior_count"].tolist(), a["low"].tolist()) == ([2], [1], [1])
    assert a["distinct_messages"].tolist() == [2] and a["message"].tolist() == ["Disk 1 full"]
    assert (none["message"].tolist(), none["unresolved"].tolist()) == (["lost"], [0])
